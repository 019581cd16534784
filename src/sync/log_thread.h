// The per-host log thread (SCALEOUT.md §5 step 4, §7): the one owner of the
// cursor. It commits queued ops by group commit at log/<cursor+1>, tails the
// log, and runs the catch-up rounds of sync-on-miss; it applies every entry,
// in order, through a LogApplier. Callers only queue and wait.
#pragma once

#include <any>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "imageattachfs/result.h"
#include "sync/entry.h"
#include "sync/log_bucket.h"

namespace iafs::sync {

// The outcome of one op of an applied entry, as its committer receives it.
struct OpResult {
  Status status;    // a refused op: its Error (the store's code)
  std::any detail;  // what the applier reports beside it (its ApplyOutcome); passed on as is
};

// The last entry applied. seq 0: none yet; sha256_hex is then fs.json's and time_ns 0.
struct LogPosition {
  uint64_t seq = 0;
  std::string sha256_hex;  // of the entry's exact bytes
  int64_t time_ns = 0;     // the entry's time_ns
};

// Where the log is applied: the host's store. Called on the log thread only.
class LogApplier {
 public:
  virtual ~LogApplier() = default;

  // Applies `entry` (whose exact bytes hash to `sha256_hex`; seq and prev are
  // checked already) in one transaction. Returns one OpResult per op, in
  // order: a refused op carries its Error, the others still apply. An Error
  // instead halts the host: an entry is never skipped.
  // `own`: the entry is this thread's commit and its waiters get the outcomes
  // (so the applier sends no kernel invalidations for it).
  virtual Result<std::vector<OpResult>> apply(const Entry& entry, const std::string& sha256_hex,
                                              bool own) = 0;
};

struct LogThreadOptions {
  std::string host;                               // this host's uuid (Entry::host)
  int64_t poll_ns = 1'000'000'000;                // tail: GET log/<cursor+1> this often when idle
  int64_t commit_timeout_ns = 30'000'000'000;     // a commit's deadline
  int64_t catch_up_min_gap_ns = 50'000'000;       // catch-up rounds start at most this often
  int64_t catch_up_wait_ns = 2'000'000'000;       // a catch_up() caller waits at most this long
  int64_t call_timeout_ns = 2'000'000'000;        // the deadline given to each bucket call
  int64_t unreachable_after_ns = 10'000'000'000;  // failing this long: reachable() is false
  // The gap check (SCALEOUT.md §8): first thing, then this often; no entry
  // is PUT on a check older than gap_check_max_age_ns.
  int64_t gap_check_ns = 60'000'000'000;
  int64_t gap_check_max_age_ns = 600'000'000'000;
};

// Thread-safe. The bucket and the applier outlive it.
class LogThread {
 public:
  LogThread(LogBucket& bucket, LogApplier& applier, LogPosition start, LogThreadOptions options);
  ~LogThread();  // stop()
  LogThread(const LogThread&) = delete;
  LogThread& operator=(const LogThread&) = delete;

  // Starts the thread (after daemonizing). Its first act is a catch-up round.
  void start();

  // Wakes every waiter (kIo "the host is stopping") and joins the thread,
  // which ends once its bucket call in progress returns (by that call's
  // deadline, call_timeout_ns). Idempotent.
  void stop();

  // Queues `op` (its id is drawn here if 0) and waits until the entry holding
  // it is applied: the op's OpResult. Else kIo: "not committed" when its
  // deadline passed before it was sent (it is dropped, never sent later);
  // "may or may not have committed" when it passed after (the thread settles
  // the entry's fate later and logs it); the host halted or is stopping.
  // `deadline_ns` (monotonic): the commit's deadline; 0: commit_timeout_ns from now.
  Result<OpResult> commit(LogOp op, int64_t deadline_ns = 0);
  int64_t commit_timeout_ns() const { return options_.commit_timeout_ns; }

  // Sync-on-miss (§7): returns after a catch-up round that started after this
  // call completes (callers share rounds, which start at most every
  // catch_up_min_gap_ns), or after catch_up_wait_ns. True when that round
  // reached the head; false on timeout, halt, stop or a bucket failure.
  bool catch_up();

  // The cursor now.
  LogPosition position() const;

  // Ops queued and not yet sent.
  size_t queued() const;

  // A bad entry (unreadable, wrong seq, prev mismatch), an applier error or
  // a gap above the cursor (entries deleted by truncation while this host
  // was away: a remount rebuilds) stopped the log here; one log_error line said why. Commits then
  // fail at once and the thread sends no more requests.
  bool halted() const;

  // Halts the host (see halted()) for `why`, logged as one log_error line:
  // also what the maintenance thread does when this host's state diverged.
  void halt(const std::string& why);

  // False once bucket calls have failed for unreachable_after_ns; true again
  // at the next answer.
  bool reachable() const;

 private:
  // A commit() caller. Its fields are the mutex's but `op`, fixed once queued.
  struct Waiter {
    // kAbandoned: its deadline passed while sent; it was told "may or may not".
    enum class State { kQueued, kSent, kDone, kAbandoned };
    LogOp op;
    int64_t deadline_ns = 0;  // monotonic
    State state = State::kQueued;
    uint64_t seq = 0;  // kSent: the seq of its entry
    std::optional<Result<OpResult>> outcome;
  };
  using Waiters = std::vector<std::shared_ptr<Waiter>>;
  enum class Fate { kOurs, kTheirs, kUnknown };
  struct Settled {
    Fate fate = Fate::kUnknown;
    std::string their_bytes;  // kTheirs: what log/<seq> holds
    std::string why;          // kUnknown: the failure
  };

  void run();
  // One group commit: an entry of the queued ops, sent until its fate is known.
  void commit_queued();
  Waiters take_batch();
  Entry entry_of(Waiters& batch);
  Settled settle(uint64_t seq, const std::string& bytes);
  void finish_own(const Entry& entry, const std::string& bytes, const Waiters& batch);
  void requeue(const Waiters& batch, const std::string& why);
  // A catch-up round: GET log/<cursor+1>, apply, until absent.
  void run_round();
  // The gap check: halts when the first entry above the cursor is not cursor+1.
  void check_gap();
  // Whether a gap check passed within gap_check_max_age_ns (suspends count).
  bool gap_check_fresh() const;
  // Checks and applies an entry read at `seq`; false when that halted the host.
  bool apply_fetched(uint64_t seq, const std::string& bytes);
  void note_call(bool answered, int64_t started_ns);
  int64_t call_deadline() const;
  void sleep_unless_stopping(int64_t ns);
  // REQUIRES: mutex_ held. Gives `waiter` its outcome unless it has one.
  void finish_locked(Waiter& waiter, Result<OpResult> outcome);
  void fail_all_locked(const std::string& why);
  static uint64_t random_op_id();              // never 0
  static int64_t random_below(int64_t bound);  // uniform in [0, bound)

  LogBucket& bucket_;
  LogApplier& applier_;
  const LogThreadOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable work_cv_;  // the thread waits here
  std::condition_variable done_cv_;  // commit() and catch_up() wait here
  LogPosition cursor_;
  std::deque<std::shared_ptr<Waiter>> queue_;  // not yet sent
  Waiters in_flight_;                          // in the entry being sent
  bool started_ = false;
  bool stopping_ = false;
  bool halted_ = false;
  std::string halt_reason_;
  bool catch_up_requested_ = false;
  uint64_t rounds_started_ = 0;
  uint64_t rounds_completed_ = 0;
  bool last_round_ok_ = false;
  int64_t last_round_start_ns_ = 0;

  // The log thread's own.
  int64_t next_poll_ns_ = 0;
  int64_t failing_since_ns_ = 0;  // 0: the last call was answered
  int64_t next_gap_check_ns_ = 0;
  int64_t last_gap_ok_ns_ = 0;  // boottime_ns() when the last passing gap check began (0: none)
  unsigned lost_races_ = 0;
  std::atomic<bool> reachable_{true};

  std::thread thread_;
};

}  // namespace iafs::sync
