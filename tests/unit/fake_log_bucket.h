// An in-process bucket's log (sync/log_bucket.h): log/<seq> in a map, with
// the faults a real bucket has — failed PUTs, PUTs whose reply is lost,
// an outage, calls that hang until their deadline — and a hook that runs
// before each PUT (another writer racing, a gate for the test).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "base/clock.h"
#include "s3/sigv4.h"
#include "sync/entry.h"
#include "sync/log_bucket.h"
#include "sync/log_thread.h"

namespace iafs::sync {

class FakeLogBucket final : public LogBucket {
 public:
  // Runs at the start of every put_entry, outside the bucket's lock.
  std::function<void(uint64_t seq)> before_put;

  Result<PutOutcome> put_entry(uint64_t seq, std::string_view bytes,
                               int64_t deadline_monotonic_ns) override {
    {
      std::lock_guard lock(mutex_);
      ++puts_;
      ++puts_at_[seq];
      changed_.notify_all();
    }
    if (before_put) before_put(seq);
    std::unique_lock lock(mutex_);
    if (Status s = hang_or_fail(lock, deadline_monotonic_ns); !s) return s.error();
    if (failing_puts_ > 0) {
      --failing_puts_;
      return make_error(ErrorCode::kIo, "PUT " + log_key(seq) + ": 503 SlowDown");
    }
    if (put_delay_ns_ > 0) {
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::nanoseconds(put_delay_ns_));
      lock.lock();
    }
    auto [at, created] = entries_.emplace(seq, std::string(bytes));
    changed_.notify_all();
    if (created && lost_replies_ > 0) {
      --lost_replies_;
      return make_error(ErrorCode::kIo, "PUT " + log_key(seq) + ": connection reset");
    }
    return created ? PutOutcome::kCreated : PutOutcome::kExists;
  }

  Result<std::optional<std::string>> get_entry(uint64_t seq,
                                               int64_t deadline_monotonic_ns) override {
    std::unique_lock lock(mutex_);
    ++gets_;
    if (Status s = hang_or_fail(lock, deadline_monotonic_ns); !s) return s.error();
    auto at = entries_.find(seq);
    if (at == entries_.end()) return std::optional<std::string>();
    return std::optional<std::string>(at->second);
  }

  Result<std::optional<uint64_t>> first_entry_after(uint64_t seq,
                                                    int64_t deadline_monotonic_ns) override {
    std::unique_lock lock(mutex_);
    ++lists_;
    if (Status s = hang_or_fail(lock, deadline_monotonic_ns); !s) return s.error();
    auto at = entries_.upper_bound(seq);
    if (at == entries_.end()) return std::optional<uint64_t>();
    return std::optional<uint64_t>(at->first);
  }

  // Truncation: deletes log/<k> for every k below `seq`.
  void truncate_below(uint64_t seq) {
    std::lock_guard lock(mutex_);
    entries_.erase(entries_.begin(), entries_.lower_bound(seq));
  }

  // Another writer: creates log/<seq> unless it is there. False if it was.
  bool write(uint64_t seq, const std::string& bytes) {
    std::lock_guard lock(mutex_);
    changed_.notify_all();
    return entries_.emplace(seq, bytes).second;
  }

  std::optional<std::string> at(uint64_t seq) const {
    std::lock_guard lock(mutex_);
    auto found = entries_.find(seq);
    if (found == entries_.end()) return std::nullopt;
    return found->second;
  }

  std::map<uint64_t, std::string> entries() const {
    std::lock_guard lock(mutex_);
    return entries_;
  }

  // The next `n` PUTs fail with no effect.
  void fail_puts(int n) {
    set([&] { failing_puts_ = n; });
  }
  // The next `n` PUTs that create their entry fail all the same.
  void lose_replies(int n) {
    set([&] { lost_replies_ = n; });
  }
  // Every call fails at once (kIo), until set_down(false).
  void set_down(bool down) {
    set([&] { down_ = down; });
  }
  // Every call hangs until its deadline (then kIo), until set_hung(false).
  void set_hung(bool hung) {
    set([&] { hung_ = hung; });
  }
  // Each PUT takes this long.
  void set_put_delay_ns(int64_t ns) {
    set([&] { put_delay_ns_ = ns; });
  }

  // PUTs begun (counted before before_put runs).
  int puts() const { return counter(puts_); }
  int gets() const { return counter(gets_); }
  int lists() const { return counter(lists_); }
  int puts_at(uint64_t seq) const {
    std::lock_guard lock(mutex_);
    auto found = puts_at_.find(seq);
    return found == puts_at_.end() ? 0 : found->second;
  }

  // Waits (at most `timeout_ms`) until `ready` holds over the bucket's state.
  bool wait_until(const std::function<bool()>& ready, int64_t timeout_ms = 3000) {
    int64_t deadline = monotonic_ns() + timeout_ms * 1'000'000;
    while (!ready()) {
      if (monotonic_ns() >= deadline) return false;
      std::unique_lock lock(mutex_);
      changed_.wait_for(lock, std::chrono::milliseconds(1));
    }
    return true;
  }

 private:
  template <typename Change>
  void set(Change change) {
    std::lock_guard lock(mutex_);
    change();
    changed_.notify_all();
  }

  int counter(const int& value) const {
    std::lock_guard lock(mutex_);
    return value;
  }

  Status hang_or_fail(std::unique_lock<std::mutex>& lock, int64_t deadline) {
    if (hung_) {
      changed_.wait_for(lock,
                        std::chrono::nanoseconds(std::max<int64_t>(deadline - monotonic_ns(), 0)),
                        [&] { return !hung_; });
      if (hung_) return make_error(ErrorCode::kIo, "operation timed out");
    }
    if (down_) return make_error(ErrorCode::kIo, "connection refused");
    return Status::Ok();
  }

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<uint64_t, std::string> entries_;
  std::map<uint64_t, int> puts_at_;
  int puts_ = 0;
  int gets_ = 0;
  int lists_ = 0;
  int failing_puts_ = 0;
  int lost_replies_ = 0;
  bool down_ = false;
  bool hung_ = false;
  int64_t put_delay_ns_ = 0;
};

// The SHA-256 of the fs.json the fake log follows, and a cursor before log/1.
inline const std::string kFsJsonSha =
    s3::sha256_hex(std::string_view("{\"format\":1,\"fs_uuid\":\"f\"}"));

inline LogPosition origin() { return LogPosition{0, kFsJsonSha, 0}; }

// An op the fake appliers take: a directory's mtime.
inline LogOp dir_op(const std::string& dir, uint64_t id = 0) {
  LogOp op;
  op.id = id;
  op.change = SetDirMtime{dir, 1};
  return op;
}

// An entry another host wrote.
inline std::string their_entry(uint64_t seq, const std::string& prev, const std::string& dir,
                               const std::string& host = "host-b") {
  Entry e;
  e.seq = seq;
  e.prev = prev;
  e.host = host;
  e.time_ns = 1000 + static_cast<int64_t>(seq);
  e.ops.push_back(dir_op(dir, 7000 + seq));
  return encode_entry(e);
}

}  // namespace iafs::sync
