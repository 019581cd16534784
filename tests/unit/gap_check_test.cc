// The log thread's gap check (SCALEOUT.md §8) over an in-process bucket: a
// host whose next entries were truncated away halts instead of serving a
// stale state or re-creating a deleted seq, and no entry is PUT until a gap
// check has passed.
#include <criterion/criterion.h>

#include <future>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "fake_log_bucket.h"
#include "sync/log_thread.h"

using namespace iafs;
using namespace iafs::sync;

namespace {

// Applies every op.
class AcceptingApplier final : public LogApplier {
 public:
  Result<std::vector<OpResult>> apply(const Entry& entry, const std::string&, bool) override {
    std::lock_guard lock(mutex_);
    ++entries_;
    return std::vector<OpResult>(entry.ops.size(), OpResult{Status::Ok(), {}});
  }
  int entries() const {
    std::lock_guard lock(mutex_);
    return entries_;
  }

 private:
  mutable std::mutex mutex_;
  int entries_ = 0;
};

LogThreadOptions fast(int64_t gap_check_ms = 60000) {
  LogThreadOptions o;
  o.host = "host-a";
  o.poll_ns = 20'000'000;
  o.commit_timeout_ns = 2'000'000'000;
  o.call_timeout_ns = 200'000'000;
  o.gap_check_ns = gap_check_ms * 1'000'000;
  return o;
}

// log/1..n by another host; returns the SHA-256 of log/n.
std::string write_log(FakeLogBucket& bucket, uint64_t n) {
  std::string prev = kFsJsonSha;
  for (uint64_t seq = 1; seq <= n; ++seq) {
    std::string bytes = their_entry(seq, prev, "/d/" + std::to_string(seq));
    bucket.write(seq, bytes);
    prev = s3::sha256_hex(bytes);
  }
  return prev;
}

bool eventually(const std::function<bool()>& ready) {
  int64_t deadline = monotonic_ns() + 3'000'000'000;
  while (!ready()) {
    if (monotonic_ns() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace

Test(gap_check, a_host_whose_next_entries_were_truncated_halts_and_puts_nothing) {
  FakeLogBucket bucket;
  write_log(bucket, 6);
  bucket.truncate_below(5);  // log/3 and log/4 are gone; this host is at log/2
  AcceptingApplier applier;
  LogThread thread(bucket, applier, LogPosition{2, "whatever", 0}, fast());
  thread.start();
  cr_assert(eventually([&] { return thread.halted(); }));
  Result<OpResult> commit = thread.commit(dir_op("/x"));
  cr_assert(!commit.ok() && commit.error().code == ErrorCode::kIo);
  cr_assert_eq(bucket.puts(), 0, "a deleted seq is never made again");
  cr_assert_eq(applier.entries(), 0, "log/5 does not follow log/2");
}

Test(gap_check, entries_deleted_below_the_cursor_are_no_gap) {
  FakeLogBucket bucket;
  write_log(bucket, 3);
  AcceptingApplier applier;
  LogThread thread(bucket, applier, origin(), fast(20));
  thread.start();
  cr_assert(eventually([&] { return thread.position().seq == 3; }));
  bucket.truncate_below(3);
  cr_assert(eventually([&] { return bucket.lists() >= 3; }), "checked again");
  cr_assert(thread.commit(dir_op("/mine")).ok());
  cr_assert(bucket.at(4).has_value());
  cr_assert(!thread.halted());
}

Test(gap_check, a_truncation_past_a_live_hosts_cursor_is_found_by_the_next_check) {
  FakeLogBucket bucket;
  write_log(bucket, 3);
  AcceptingApplier applier;
  LogThread thread(bucket, applier, origin(), fast(30));
  thread.start();
  cr_assert(eventually([&] { return thread.position().seq == 3; }));
  // Its heartbeat lapsed: others went on to log/9 and truncated below it.
  bucket.truncate_below(100);
  bucket.write(9, their_entry(9, std::string(64, 'e'), "/later"));
  cr_assert(eventually([&] { return thread.halted(); }), "the tail alone sees only a 404");
  cr_assert_eq(thread.position().seq, 3);
}

Test(gap_check, no_entry_is_put_before_a_gap_check_passes) {
  FakeLogBucket bucket;
  bucket.set_down(true);
  AcceptingApplier applier;
  LogThread thread(bucket, applier, origin(), fast());
  thread.start();
  Result<OpResult> early = thread.commit(dir_op("/early"), monotonic_ns() + 300'000'000);
  cr_assert(!early.ok() && early.error().code == ErrorCode::kIo);
  cr_assert_eq(bucket.puts(), 0);
  bucket.set_down(false);
  cr_assert(thread.commit(dir_op("/later")).ok());
  cr_assert_eq(bucket.puts(), 1);
  cr_assert_geq(bucket.lists(), 1);
}

Test(gap_check, a_resend_after_an_outage_checks_the_gap_first) {
  FakeLogBucket bucket;
  write_log(bucket, 3);
  AcceptingApplier applier;
  LogThreadOptions o = fast();
  o.gap_check_max_age_ns = 300'000'000;
  LogThread thread(bucket, applier, origin(), o);
  thread.start();
  cr_assert(eventually([&] { return thread.position().seq == 3; }));
  bucket.set_down(true);
  auto commit = std::async(std::launch::async, [&] {
    return thread.commit(dir_op("/mine"), monotonic_ns() + 5'000'000'000);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // Meanwhile the others went on and truncated below log/9: log/4 is free
  // again, and a resend of ours would make it (a fork).
  bucket.truncate_below(100);
  bucket.write(9, their_entry(9, std::string(64, 'e'), "/later"));
  bucket.set_down(false);
  Result<OpResult> result = commit.get();
  cr_assert(!result.ok() && result.error().code == ErrorCode::kIo);
  cr_assert(thread.halted());
  cr_assert(!bucket.at(4).has_value(), "no entry made at a truncated seq");
}
