// Group commit (SCALEOUT.md §5 step 4): every queued op in one entry at
// log/<cursor+1>, created only if absent. A lost race applies the winner and
// rebuilds at the new head; an entry of unknown fate is resent, the same
// bytes to the same seq, until the bucket settles it: never rebuilt or moved,
// or its ops could apply twice.
#include <algorithm>
#include <cstdio>
#include <random>

#include "base/clock.h"
#include "log/log.h"
#include "s3/sigv4.h"
#include "sync/log_thread.h"

namespace iafs::sync {

namespace {

constexpr int64_t kMillis = 1'000'000;
constexpr int64_t kResendBackoffCapNs = 2'000 * kMillis;
constexpr int64_t kRaceJitterCapNs = 250 * kMillis;

// How many of `entry`'s ops, from the first, fit in kMaxEntryBytes encoded.
size_t ops_that_fit(const Entry& entry) {
  if (encode_entry(entry).size() <= kMaxEntryBytes) return entry.ops.size();
  Entry probe = entry;
  size_t fits = 0;  // 0 ops always fit
  size_t too_many = entry.ops.size();
  while (too_many - fits > 1) {
    size_t middle = fits + (too_many - fits) / 2;
    probe.ops.assign(entry.ops.begin(), entry.ops.begin() + static_cast<ptrdiff_t>(middle));
    (encode_entry(probe).size() <= kMaxEntryBytes ? fits : too_many) = middle;
  }
  return fits;
}

std::string op_name(const LogOp& op) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(op.id));
  return std::string("op ") + hex;
}

std::mt19937_64& generator() {
  thread_local std::mt19937_64 bits{std::random_device{}()};
  return bits;
}

}  // namespace

uint64_t LogThread::random_op_id() {
  uint64_t id = 0;
  while (id == 0) id = generator()();
  return id;
}

int64_t LogThread::random_below(int64_t bound) {
  if (bound <= 1) return 0;
  return std::uniform_int_distribution<int64_t>(0, bound - 1)(generator());
}

void LogThread::commit_queued() {
  Waiters batch = take_batch();
  Entry entry = entry_of(batch);
  if (entry.ops.empty()) return;
  std::string bytes = encode_entry(entry);
  std::string unknown_why;
  for (unsigned attempt = 0;; ++attempt) {
    // A resend too needs a fresh gap check: after a long outage the seq may
    // have been truncated, and a PUT would make it again (a fork).
    if (attempt > 0 && !gap_check_fresh()) {
      check_gap();
      if (halted()) return;  // its waiters were told
      if (!gap_check_fresh()) {
        sleep_unless_stopping(kResendBackoffCapNs);
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        continue;
      }
    }
    Settled settled = settle(entry.seq, bytes);
    if (settled.fate != Fate::kUnknown && !unknown_why.empty()) {
      log_info(log_key(entry.seq) + ": settled after " + std::to_string(attempt + 1) +
               " attempts: " +
               (settled.fate == Fate::kOurs ? "committed" : "another host's entry is there"));
    }
    if (settled.fate == Fate::kOurs) {
      lost_races_ = 0;
      finish_own(entry, bytes, batch);
      return;
    }
    if (settled.fate == Fate::kTheirs) {
      // Ours is not in the log: its ops go back to the queue, first.
      requeue(batch, "another host's entry took " + log_key(entry.seq));
      if (!apply_fetched(entry.seq, settled.their_bytes)) return;
      run_round();
      int64_t jitter_bound = std::min(kRaceJitterCapNs, (5 * kMillis) << std::min(lost_races_, 6u));
      ++lost_races_;
      sleep_unless_stopping(random_below(jitter_bound));
      return;
    }
    if (unknown_why.empty()) {
      log_warning(log_key(entry.seq) + ": " + settled.why +
                  "; sending the same bytes again until the bucket settles its fate");
    }
    unknown_why = settled.why;
    int64_t backoff_bound = std::min(kResendBackoffCapNs, (50 * kMillis) << std::min(attempt, 6u));
    sleep_unless_stopping(random_below(backoff_bound) + 1);
    std::lock_guard lock(mutex_);
    if (stopping_) return;
  }
}

// Up to kMaxEntryOps queued ops, from the oldest, now in flight.
LogThread::Waiters LogThread::take_batch() {
  std::lock_guard lock(mutex_);
  size_t count = std::min(queue_.size(), kMaxEntryOps);
  Waiters batch(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(count));
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(count));
  for (auto& waiter : batch) {
    waiter->state = Waiter::State::kSent;
    waiter->seq = cursor_.seq + 1;
  }
  in_flight_ = batch;
  return batch;
}

// The entry at the head of `batch`'s ops; those past kMaxEntryBytes go back
// to the queue (and `batch` loses them).
Entry LogThread::entry_of(Waiters& batch) {
  LogPosition cursor = position();
  Entry entry;
  entry.seq = cursor.seq + 1;
  entry.prev = cursor.sha256_hex;
  entry.host = options_.host;
  entry.time_ns = std::max(now_ns(), cursor.time_ns + 1);
  for (const auto& waiter : batch) entry.ops.push_back(waiter->op);  // `op` is fixed: no lock
  size_t fits = ops_that_fit(entry);
  if (fits == batch.size()) return entry;
  if (fits == 0) {  // the first alone is too big: it can never be sent
    {
      std::lock_guard lock(mutex_);
      finish_locked(*batch[0], make_error(ErrorCode::kTooBig,
                                          op_name(batch[0]->op) + ": too big for a log entry"));
      std::erase(in_flight_, batch[0]);
    }
    done_cv_.notify_all();
    batch.erase(batch.begin());
  }
  requeue(Waiters(batch.begin() + static_cast<ptrdiff_t>(fits), batch.end()), "never sent");
  batch.resize(fits);
  entry.ops.resize(fits);
  return entry;
}

LogThread::Settled LogThread::settle(uint64_t seq, const std::string& bytes) {
  int64_t started = monotonic_ns();
  Result<LogBucket::PutOutcome> put = bucket_.put_entry(seq, bytes, call_deadline());
  note_call(put.ok(), started);
  if (!put) return Settled{Fate::kUnknown, "", "PUT failed: " + put.error().message};
  if (*put == LogBucket::PutOutcome::kCreated) return Settled{Fate::kOurs, "", ""};
  // Taken: by us (an earlier attempt's reply was lost) or by another host.
  started = monotonic_ns();
  Result<std::optional<std::string>> got = bucket_.get_entry(seq, call_deadline());
  note_call(got.ok(), started);
  if (!got) return Settled{Fate::kUnknown, "", "taken, but GET failed: " + got.error().message};
  if (!got->has_value()) return Settled{Fate::kUnknown, "", "taken, but GET found nothing"};
  if (**got == bytes) return Settled{Fate::kOurs, "", ""};
  return Settled{Fate::kTheirs, std::move(**got), ""};
}

void LogThread::finish_own(const Entry& entry, const std::string& bytes, const Waiters& batch) {
  std::string sha = s3::sha256_hex(bytes);
  Result<std::vector<OpResult>> applied = applier_.apply(entry, sha, true);
  if (!applied) {
    halt(log_key(entry.seq) +
         " (this host's, in the bucket) was not applied: " + applied.error().message);
    return;
  }
  if (applied->size() != entry.ops.size()) {
    halt(log_key(entry.seq) + ": the store gave " + std::to_string(applied->size()) +
         " outcomes for " + std::to_string(entry.ops.size()) + " ops");
    return;
  }
  {
    std::lock_guard lock(mutex_);
    cursor_ = LogPosition{entry.seq, std::move(sha), entry.time_ns};
    for (size_t i = 0; i < batch.size(); ++i) {
      Waiter& waiter = *batch[i];
      OpResult& outcome = (*applied)[i];
      if (waiter.state == Waiter::State::kAbandoned) {
        log_info(log_key(entry.seq) + ": " + op_name(waiter.op) + " committed after its deadline" +
                 (outcome.status ? "" : " and was refused: " + outcome.status.error().message));
      }
      finish_locked(waiter, std::move(outcome));
    }
    in_flight_.clear();
  }
  done_cv_.notify_all();
  next_poll_ns_ = monotonic_ns() + options_.poll_ns;  // at the head just now
}

void LogThread::requeue(const Waiters& waiters, const std::string& why) {
  std::lock_guard lock(mutex_);
  if (waiters.size() == in_flight_.size()) {
    in_flight_.clear();
  } else {
    std::erase_if(in_flight_, [&](const std::shared_ptr<Waiter>& waiter) {
      return std::find(waiters.begin(), waiters.end(), waiter) != waiters.end();
    });
  }
  for (auto it = waiters.rbegin(); it != waiters.rend(); ++it) {
    Waiter& waiter = **it;
    if (waiter.state == Waiter::State::kSent) {
      waiter.state = Waiter::State::kQueued;
      waiter.seq = 0;
      queue_.push_front(*it);
    } else if (waiter.state == Waiter::State::kAbandoned) {
      log_info(op_name(waiter.op) + ": not committed (" + why + ")");
    }
  }
}

}  // namespace iafs::sync
