// The log thread's life, its callers' side, and the tail (SCALEOUT.md §7).
// The commit path is in log_commit.cc.
#include "sync/log_thread.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "base/clock.h"
#include "log/log.h"
#include "s3/sigv4.h"

namespace iafs::sync {

namespace {

std::chrono::nanoseconds until(int64_t monotonic) {
  return std::chrono::nanoseconds(std::max<int64_t>(monotonic - monotonic_ns(), 0));
}

}  // namespace

LogThread::LogThread(LogBucket& bucket, LogApplier& applier, LogPosition start,
                     LogThreadOptions options)
    : bucket_(bucket), applier_(applier), options_(std::move(options)), cursor_(std::move(start)) {}

LogThread::~LogThread() { stop(); }

void LogThread::start() {
  std::lock_guard lock(mutex_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread(&LogThread::run, this);
}

void LogThread::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      stopping_ = true;
      fail_all_locked("log: the host is stopping");
    }
  }
  work_cv_.notify_all();
  done_cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

Result<OpResult> LogThread::commit(LogOp op, int64_t deadline_ns) {
  if (op.id == 0) op.id = random_op_id();
  auto waiter = std::make_shared<Waiter>();
  waiter->op = std::move(op);
  waiter->deadline_ns =
      deadline_ns != 0 ? deadline_ns : monotonic_ns() + options_.commit_timeout_ns;
  std::unique_lock lock(mutex_);
  if (halted_) return make_error(ErrorCode::kIo, "log: the host halted: " + halt_reason_);
  if (stopping_) return make_error(ErrorCode::kIo, "log: the host is stopping");
  queue_.push_back(waiter);
  work_cv_.notify_one();
  if (done_cv_.wait_for(lock, until(waiter->deadline_ns),
                        [&] { return waiter->outcome.has_value(); })) {
    return std::move(*waiter->outcome);
  }
  if (waiter->state == Waiter::State::kQueued) {
    if (auto at = std::find(queue_.begin(), queue_.end(), waiter); at != queue_.end()) {
      queue_.erase(at);
    }
    return make_error(ErrorCode::kIo,
                      "log: not committed (its deadline passed before it was sent)");
  }
  waiter->state = Waiter::State::kAbandoned;
  return make_error(ErrorCode::kIo, log_key(waiter->seq) +
                                        ": may or may not have committed (no answer from the "
                                        "bucket by the commit deadline)");
}

bool LogThread::catch_up() {
  int64_t deadline = monotonic_ns() + options_.catch_up_wait_ns;
  std::unique_lock lock(mutex_);
  if (halted_ || stopping_) return false;
  uint64_t wanted = rounds_started_ + 1;  // the next round to start
  if (!catch_up_requested_) {
    catch_up_requested_ = true;
    work_cv_.notify_one();
  }
  done_cv_.wait_for(lock, until(deadline),
                    [&] { return rounds_completed_ >= wanted || halted_ || stopping_; });
  return rounds_completed_ >= wanted && last_round_ok_ && !halted_;
}

LogPosition LogThread::position() const {
  std::lock_guard lock(mutex_);
  return cursor_;
}

size_t LogThread::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

bool LogThread::halted() const {
  std::lock_guard lock(mutex_);
  return halted_;
}

bool LogThread::reachable() const { return reachable_.load(); }

// Catch-up rounds first (a lookup waits on one), then commits, then the tail
// when idle.
void LogThread::run() {
  std::unique_lock lock(mutex_);
  next_poll_ns_ = monotonic_ns();  // catch up at once
  while (!stopping_) {
    if (halted_) {
      work_cv_.wait(lock, [&] { return stopping_; });
      break;
    }
    int64_t now = monotonic_ns();
    if (now >= next_gap_check_ns_) {
      lock.unlock();
      check_gap();
      lock.lock();
      continue;
    }
    int64_t catch_up_at = last_round_start_ns_ + options_.catch_up_min_gap_ns;
    bool catch_up_due = catch_up_requested_ && now >= catch_up_at;
    if (catch_up_due || (queue_.empty() && now >= next_poll_ns_)) {
      lock.unlock();
      run_round();
      lock.lock();
      continue;
    }
    // No entry is PUT on a stale gap check: the seq above the cursor might
    // have been truncated, and a PUT would make it again (a fork).
    bool may_commit = gap_check_fresh();
    if (!queue_.empty() && may_commit) {
      lock.unlock();
      commit_queued();
      lock.lock();
      continue;
    }
    int64_t wake = std::min(next_poll_ns_, next_gap_check_ns_);
    if (catch_up_requested_) wake = std::min(wake, catch_up_at);
    bool requested = catch_up_requested_;
    work_cv_.wait_for(lock, until(wake), [&] {
      return stopping_ || halted_ || (may_commit && !queue_.empty()) ||
             (catch_up_requested_ && !requested);
    });
  }
}

void LogThread::run_round() {
  {
    std::lock_guard lock(mutex_);
    ++rounds_started_;
    catch_up_requested_ = false;
    last_round_start_ns_ = monotonic_ns();
  }
  bool ok = true;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        ok = false;
        break;
      }
    }
    uint64_t seq = position().seq + 1;
    int64_t started = monotonic_ns();
    Result<std::optional<std::string>> got = bucket_.get_entry(seq, call_deadline());
    note_call(got.ok(), started);
    if (!got) {
      log_debug(log_key(seq) + ": " + got.error().message);
      ok = false;
      break;
    }
    if (!got->has_value()) break;  // the head
    if (!apply_fetched(seq, **got)) {
      ok = false;
      break;
    }
  }
  next_poll_ns_ = monotonic_ns() + options_.poll_ns;
  {
    std::lock_guard lock(mutex_);
    ++rounds_completed_;
    last_round_ok_ = ok;
  }
  done_cv_.notify_all();
}

void LogThread::check_gap() {
  LogPosition cursor = position();
  int64_t started = monotonic_ns();
  Result<std::optional<uint64_t>> next = bucket_.first_entry_after(cursor.seq, call_deadline());
  note_call(next.ok(), started);
  if (!next) {
    log_debug("the gap check: " + next.error().message);
    next_gap_check_ns_ = monotonic_ns() + std::min(options_.poll_ns, options_.gap_check_ns);
    return;
  }
  if (*next && **next != cursor.seq + 1) {
    halt("the bucket's log has no " + log_key(cursor.seq + 1) + " but has " + log_key(**next) +
         ": entries above this host's cursor were deleted (the log was truncated while this "
         "host was away); remount to rebuild from a snapshot");
    return;
  }
  last_gap_ok_ns_ = boottime_ns() - (monotonic_ns() - started);
  next_gap_check_ns_ = started + options_.gap_check_ns;
}

bool LogThread::gap_check_fresh() const {
  return last_gap_ok_ns_ != 0 && boottime_ns() - last_gap_ok_ns_ < options_.gap_check_max_age_ns;
}

bool LogThread::apply_fetched(uint64_t seq, const std::string& bytes) {
  Result<Entry> entry = decode_entry(bytes);
  if (!entry) {
    halt(log_key(seq) + " cannot be applied: " + entry.error().message);
    return false;
  }
  if (entry->seq != seq) {
    halt(log_key(seq) + " says it is seq " + std::to_string(entry->seq));
    return false;
  }
  LogPosition cursor = position();
  if (entry->prev != cursor.sha256_hex) {
    halt(log_key(seq) + ": its prev " + entry->prev + " is not the SHA-256 of " +
         (cursor.seq == 0 ? std::string("fs.json") : log_key(cursor.seq)) + ", " +
         cursor.sha256_hex + " (the bucket was restored or forked)");
    return false;
  }
  std::string sha = s3::sha256_hex(bytes);
  Result<std::vector<OpResult>> applied = applier_.apply(*entry, sha, false);
  if (!applied) {
    halt(log_key(seq) + " was not applied: " + applied.error().message);
    return false;
  }
  std::lock_guard lock(mutex_);
  cursor_ = LogPosition{seq, std::move(sha), entry->time_ns};
  return true;
}

void LogThread::halt(const std::string& why) {
  log_error("log: halted: " + why + "; this host serves what it has and commits nothing");
  {
    std::lock_guard lock(mutex_);
    halted_ = true;
    halt_reason_ = why;
    fail_all_locked("log: the host halted: " + why);
  }
  done_cv_.notify_all();
}

void LogThread::note_call(bool answered, int64_t started_ns) {
  if (answered) {
    failing_since_ns_ = 0;
    if (!reachable_.exchange(true)) {
      log_info("s3: the bucket answers again");
      std::lock_guard lock(mutex_);
      catch_up_requested_ = true;
    }
    return;
  }
  if (failing_since_ns_ == 0) failing_since_ns_ = started_ns;
  if (monotonic_ns() - failing_since_ns_ >= options_.unreachable_after_ns &&
      reachable_.exchange(false)) {
    int64_t after = options_.unreachable_after_ns;
    std::string span = after % kNanosPerSecond == 0 ? std::to_string(after / kNanosPerSecond) + " s"
                                                    : std::to_string(after / 1'000'000) + " ms";
    log_warning("s3: the bucket has not answered for " + span + "; serving what this host has");
  }
}

int64_t LogThread::call_deadline() const { return monotonic_ns() + options_.call_timeout_ns; }

void LogThread::sleep_unless_stopping(int64_t ns) {
  std::unique_lock lock(mutex_);
  work_cv_.wait_for(lock, std::chrono::nanoseconds(ns), [&] { return stopping_; });
}

void LogThread::finish_locked(Waiter& waiter, Result<OpResult> outcome) {
  if (waiter.state == Waiter::State::kDone || waiter.state == Waiter::State::kAbandoned) return;
  waiter.outcome = std::move(outcome);
  waiter.state = Waiter::State::kDone;
}

void LogThread::fail_all_locked(const std::string& why) {
  for (auto& waiter : queue_) finish_locked(*waiter, make_error(ErrorCode::kIo, why));
  for (auto& waiter : in_flight_) finish_locked(*waiter, make_error(ErrorCode::kIo, why));
  queue_.clear();
}

}  // namespace iafs::sync
