// The log thread (sync/log_thread.h) over an in-process bucket
// (fake_log_bucket.h): group commit, races between hosts, replies lost,
// outages, the tail, catch-up rounds, halting, stopping.
#include "sync/log_thread.h"

#include <criterion/criterion.h>

#include <any>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "fake_log_bucket.h"
#include "s3/sigv4.h"

using namespace iafs;
using namespace iafs::sync;

namespace {

// Records what it applies; refuses ops on the dirs in `refused`; fails
// every entry while `failing`. An op's detail is its dir.
class FakeApplier final : public LogApplier {
 public:
  struct Applied {
    uint64_t seq = 0;
    std::string sha256_hex;
    std::string host;
    bool own = false;
    std::vector<std::string> dirs;
    std::vector<uint64_t> ids;
  };

  std::set<std::string> refused;
  bool failing = false;

  Result<std::vector<OpResult>> apply(const Entry& entry, const std::string& sha256_hex,
                                      bool own) override {
    std::lock_guard lock(mutex_);
    if (failing) return make_error(ErrorCode::kNoSpace, "store full");
    cr_expect_eq(sha256_hex, s3::sha256_hex(encode_entry(entry)), "the sha is not the bytes'");
    Applied applied{entry.seq, sha256_hex, entry.host, own, {}, {}};
    std::vector<OpResult> outcomes;
    for (const LogOp& op : entry.ops) {
      const std::string& dir = std::get<SetDirMtime>(op.change).dir;
      applied.dirs.push_back(dir);
      applied.ids.push_back(op.id);
      if (refused.count(dir) != 0) {
        outcomes.push_back(OpResult{make_error(ErrorCode::kNotFound, dir + ": refused"), dir});
      } else {
        outcomes.push_back(OpResult{Status::Ok(), dir});
      }
    }
    applied_.push_back(std::move(applied));
    return outcomes;
  }

  std::vector<Applied> applied() const {
    std::lock_guard lock(mutex_);
    return applied_;
  }
  size_t count() const {
    std::lock_guard lock(mutex_);
    return applied_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Applied> applied_;
};

std::string dir_of(const Result<OpResult>& result) {
  cr_assert(result.ok(), "%s", result.ok() ? "" : result.error().message.c_str());
  return std::any_cast<std::string>(result->detail);
}

// Short times, so that tests are fast; deadlines still far above a step.
LogThreadOptions options(const std::string& host) {
  LogThreadOptions o;
  o.host = host;
  o.poll_ns = 20'000'000;
  o.commit_timeout_ns = 3'000'000'000;
  o.catch_up_min_gap_ns = 5'000'000;
  o.catch_up_wait_ns = 2'000'000'000;
  o.call_timeout_ns = 200'000'000;
  o.unreachable_after_ns = 100'000'000;
  return o;
}

Entry decoded(const std::optional<std::string>& bytes) {
  cr_assert(bytes.has_value(), "no such entry");
  Result<Entry> entry = decode_entry(*bytes);
  cr_assert(entry.ok(), "%s", entry.ok() ? "" : entry.error().message.c_str());
  return entry.value();
}

std::future<Result<OpResult>> commit_async(LogThread& thread, const std::string& dir) {
  return std::async(std::launch::async, [&thread, dir] { return thread.commit(dir_op(dir)); });
}

bool wait_for(const std::function<bool()>& ready, int64_t timeout_ms = 3000) {
  int64_t deadline = monotonic_ns() + timeout_ms * 1'000'000;
  while (!ready()) {
    if (monotonic_ns() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// The first PUT waits (bounded) until `queued` more ops wait behind it.
void gate_first_put(FakeLogBucket& bucket, LogThread& thread, size_t queued) {
  auto first = std::make_shared<std::once_flag>();
  bucket.before_put = [&thread, first, queued](uint64_t) {
    std::call_once(*first, [&] { wait_for([&] { return thread.queued() >= queued; }); });
  };
}

}  // namespace

Test(log_thread, log_key_is_twenty_digits) {
  cr_assert_eq(log_key(1234), "log/00000000000000001234");
  cr_assert_eq(log_key(UINT64_MAX), "log/18446744073709551615");
}

Test(log_thread, a_commit_lands_at_log_1_after_fs_json) {
  FakeLogBucket bucket;
  FakeApplier applier;
  LogPosition start = origin();
  start.time_ns = now_ns() + 3'600'000'000'000;  // a writer whose clock is ahead
  LogThread thread(bucket, applier, start, options("host-a"));
  thread.start();
  cr_assert_eq(dir_of(thread.commit(dir_op("/posts/1", 42))), "/posts/1");
  Entry first = decoded(bucket.at(1));
  cr_assert_eq(first.seq, 1);
  cr_assert_eq(first.prev, kFsJsonSha);
  cr_assert_eq(first.host, "host-a");
  cr_assert_eq(first.time_ns, start.time_ns + 1, "time_ns must follow the cursor's");
  cr_assert_eq(first.ops.size(), 1);
  cr_assert_eq(first.ops[0].id, 42);
  cr_assert_eq(thread.position().seq, 1);
  cr_assert_eq(thread.position().sha256_hex, s3::sha256_hex(*bucket.at(1)));

  cr_assert_eq(dir_of(thread.commit(dir_op("/posts/2"))), "/posts/2");
  Entry second = decoded(bucket.at(2));
  cr_assert_eq(second.prev, s3::sha256_hex(*bucket.at(1)));
  cr_assert_gt(second.time_ns, first.time_ns);
  cr_assert_neq(second.ops[0].id, 0, "an id is drawn for an op without one");
  auto applied = applier.applied();
  cr_assert_eq(applied.size(), 2);
  cr_assert(applied[0].own && applied[1].own);
}

Test(log_thread, ops_queued_behind_a_put_share_the_next_entry) {
  FakeLogBucket bucket;
  FakeApplier applier;
  LogThread thread(bucket, applier, origin(), options("host-a"));
  gate_first_put(bucket, thread, 15);
  thread.start();
  std::vector<std::future<Result<OpResult>>> commits;
  commits.push_back(commit_async(thread, "/d/0"));
  cr_assert(bucket.wait_until([&] { return bucket.puts() >= 1; }));
  for (int i = 1; i < 16; ++i) commits.push_back(commit_async(thread, "/d/" + std::to_string(i)));
  for (int i = 0; i < 16; ++i) cr_assert_eq(dir_of(commits[i].get()), "/d/" + std::to_string(i));
  cr_assert_eq(bucket.entries().size(), 2, "one entry, then one for the 15 that waited");
  cr_assert_eq(decoded(bucket.at(2)).ops.size(), 15);
}

Test(log_thread, many_committers_each_op_applied_once_log_contiguous) {
  FakeLogBucket bucket;
  bucket.set_put_delay_ns(1'000'000);
  FakeApplier applier;
  LogThread thread(bucket, applier, origin(), options("host-a"));
  thread.start();
  std::vector<std::thread> committers;
  std::mutex mutex;
  std::vector<std::string> failures;
  committers.reserve(8);
  for (int t = 0; t < 8; ++t) {
    committers.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        std::string dir = "/t" + std::to_string(t) + "/" + std::to_string(i);
        Result<OpResult> r = thread.commit(dir_op(dir));
        if (!r.ok() || std::any_cast<std::string>(r->detail) != dir) {
          std::lock_guard lock(mutex);
          failures.push_back(dir);
        }
      }
    });
  }
  for (auto& c : committers) c.join();
  cr_assert(failures.empty(), "%zu commits failed or got another's outcome", failures.size());
  auto entries = bucket.entries();
  cr_assert_lt(entries.size(), 160u, "group commit shared no entry");
  std::multiset<std::string> dirs;
  uint64_t seq = 0;
  std::string prev = kFsJsonSha;
  for (const auto& [key, bytes] : entries) {
    cr_assert_eq(key, ++seq, "a gap before %llu", static_cast<unsigned long long>(key));
    Entry entry = decoded(bytes);
    cr_assert_eq(entry.prev, prev);
    prev = s3::sha256_hex(bytes);
    for (const LogOp& op : entry.ops) dirs.insert(std::get<SetDirMtime>(op.change).dir);
  }
  cr_assert_eq(dirs.size(), 160);
  cr_assert_eq(std::set<std::string>(dirs.begin(), dirs.end()).size(), 160, "an op twice");
  cr_assert_eq(applier.count(), entries.size());
}

Test(log_thread, two_hosts_on_one_bucket_apply_the_same_log) {
  FakeLogBucket bucket;
  bucket.set_put_delay_ns(300'000);
  FakeApplier applier_a;
  FakeApplier applier_b;
  LogThread a(bucket, applier_a, origin(), options("host-a"));
  LogThread b(bucket, applier_b, origin(), options("host-b"));
  a.start();
  b.start();
  std::vector<std::thread> committers;
  std::atomic<int> wrong{0};
  committers.reserve(6);
  for (int t = 0; t < 6; ++t) {
    committers.emplace_back([&, t] {
      LogThread& host = t % 2 == 0 ? a : b;
      for (int i = 0; i < 25; ++i) {
        std::string dir = "/h" + std::to_string(t) + "/" + std::to_string(i);
        Result<OpResult> r = host.commit(dir_op(dir));
        if (!r.ok() || std::any_cast<std::string>(r->detail) != dir) ++wrong;
      }
    });
  }
  for (auto& c : committers) c.join();
  cr_assert_eq(wrong.load(), 0);
  cr_assert(a.catch_up() && b.catch_up());
  auto entries = bucket.entries();
  auto seen_a = applier_a.applied();
  auto seen_b = applier_b.applied();
  cr_assert_eq(seen_a.size(), entries.size());
  cr_assert_eq(seen_b.size(), entries.size());
  std::set<std::string> dirs;
  size_t ops = 0;
  uint64_t seq = 0;
  for (const auto& [key, bytes] : entries) {
    cr_assert_eq(key, ++seq, "a gap");
    const auto& ea = seen_a[seq - 1];
    const auto& eb = seen_b[seq - 1];
    cr_assert_eq(ea.seq, seq);
    cr_assert_eq(ea.sha256_hex, s3::sha256_hex(bytes));
    cr_assert_eq(eb.sha256_hex, s3::sha256_hex(bytes));
    cr_assert_eq(ea.own, ea.host == "host-a", "own only for this thread's commits");
    cr_assert_eq(eb.own, eb.host == "host-b");
    for (const auto& dir : ea.dirs) dirs.insert(dir);
    ops += ea.dirs.size();
  }
  cr_assert_eq(ops, 150, "an op lost or applied twice");
  cr_assert_eq(dirs.size(), 150);
}

Test(log_thread, the_loser_of_a_race_applies_the_winner_then_lands_next) {
  FakeLogBucket bucket;
  FakeApplier applier;
  std::string winner = their_entry(1, kFsJsonSha, "/theirs");
  bucket.before_put = [&](uint64_t seq) {
    if (seq == 1) bucket.write(1, winner);
  };
  LogThreadOptions o = options("host-a");
  o.poll_ns = 10'000'000'000;  // the race, not the tail, must find it
  LogThread racer(bucket, applier, origin(), o);
  racer.start();
  cr_assert(wait_for([&] { return bucket.gets() >= 1; }));  // the first catch-up: nothing yet
  cr_assert_eq(dir_of(racer.commit(dir_op("/ours"))), "/ours");
  auto applied = applier.applied();
  cr_assert_eq(applied.size(), 2);
  cr_assert_eq(applied[0].dirs[0], "/theirs");
  cr_assert_not(applied[0].own);
  cr_assert_eq(applied[1].seq, 2);
  cr_assert(applied[1].own);
  Entry ours = decoded(bucket.at(2));
  cr_assert_eq(ours.prev, s3::sha256_hex(winner));
  cr_assert_gt(ours.time_ns, decoded(winner).time_ns);
}

Test(log_thread, a_lost_reply_is_resent_and_recognised_as_ours) {
  FakeLogBucket bucket;
  bucket.lose_replies(1);
  FakeApplier applier;
  LogThread thread(bucket, applier, origin(), options("host-a"));
  thread.start();
  cr_assert_eq(dir_of(thread.commit(dir_op("/once"))), "/once");
  cr_assert_eq(bucket.puts_at(1), 2, "the same bytes sent again to the same seq");
  cr_assert_eq(bucket.entries().size(), 1);
  cr_assert_eq(applier.count(), 1);
  cr_assert(applier.applied()[0].own);
}

Test(log_thread, failed_puts_are_retried_and_commit_once) {
  FakeLogBucket bucket;
  bucket.fail_puts(3);
  FakeApplier applier;
  LogThread thread(bucket, applier, origin(), options("host-a"));
  thread.start();
  cr_assert_eq(dir_of(thread.commit(dir_op("/retry"))), "/retry");
  cr_assert_eq(bucket.puts_at(1), 4);
  cr_assert_eq(applier.count(), 1);
  cr_assert_eq(thread.position().seq, 1);
}

Test(log_thread, an_outage_past_the_deadline_leaves_a_sent_op_to_be_settled) {
  FakeLogBucket bucket;
  FakeApplier applier;
  LogThreadOptions o = options("host-a");
  o.commit_timeout_ns = 300'000'000;
  LogThread thread(bucket, applier, origin(), o);
  thread.start();
  cr_assert(wait_for([&] { return bucket.gets() >= 1; }));
  bucket.set_down(true);
  auto sent = commit_async(thread, "/sent");
  cr_assert(bucket.wait_until([&] { return bucket.puts() >= 1; }));
  auto never_sent = commit_async(thread, "/never");  // waits behind the unsettled entry
  Result<OpResult> first = sent.get();
  cr_assert_not(first.ok());
  cr_assert_eq(first.error().code, ErrorCode::kIo);
  cr_assert(first.error().message.find("may or may not have committed") != std::string::npos, "%s",
            first.error().message.c_str());
  Result<OpResult> second = never_sent.get();
  cr_assert_not(second.ok());
  cr_assert(second.error().message.find("not committed") != std::string::npos &&
                second.error().message.find("may or may not") == std::string::npos,
            "%s", second.error().message.c_str());
  bucket.set_down(false);
  cr_assert(wait_for([&] { return applier.count() == 1; }), "settled once the bucket is back");
  cr_assert_eq(applier.applied()[0].dirs, std::vector<std::string>{"/sent"});
  cr_assert_eq(dir_of(thread.commit(dir_op("/later"))), "/later");
  cr_assert_eq(decoded(bucket.at(2)).ops.size(), 1, "the op never sent was dropped");
  cr_assert_eq(bucket.entries().size(), 2);
}

Test(log_thread, a_refused_op_fails_alone_in_its_entry) {
  FakeLogBucket bucket;
  FakeApplier applier;
  applier.refused.insert("/bad");
  LogThread thread(bucket, applier, origin(), options("host-a"));
  gate_first_put(bucket, thread, 2);
  thread.start();
  auto first = commit_async(thread, "/first");
  cr_assert(wait_for([&] { return bucket.puts() >= 1; }));
  auto bad = commit_async(thread, "/bad");
  auto good = commit_async(thread, "/good");
  cr_assert_eq(dir_of(first.get()), "/first");
  Result<OpResult> refused = bad.get();
  cr_assert(refused.ok(), "the entry itself committed");
  cr_assert_not(refused->status.ok());
  cr_assert_eq(refused->status.error().code, ErrorCode::kNotFound);
  cr_assert_eq(dir_of(good.get()), "/good");
  cr_assert_eq(decoded(bucket.at(2)).ops.size(), 2, "both in one entry");
}

Test(log_thread, ops_past_the_entry_size_wait_for_the_next_entry) {
  FakeLogBucket bucket;
  FakeApplier applier;
  LogThread thread(bucket, applier, origin(), options("host-a"));
  gate_first_put(bucket, thread, 4);
  thread.start();
  auto first = commit_async(thread, "/first");
  cr_assert(wait_for([&] { return bucket.puts() >= 1; }));
  std::string big(400 << 10, 'x');
  std::vector<std::future<Result<OpResult>>> bigs;
  bigs.reserve(3);
  for (int i = 0; i < 3; ++i) bigs.push_back(commit_async(thread, "/" + std::to_string(i) + big));
  auto huge = commit_async(thread, "/" + std::string(kMaxEntryBytes, 'y'));
  cr_assert_eq(dir_of(first.get()), "/first");
  for (auto& b : bigs) cr_assert(b.get().ok());
  Result<OpResult> too_big = huge.get();
  cr_assert_not(too_big.ok());
  cr_assert_eq(too_big.error().code, ErrorCode::kTooBig);
  auto entries = bucket.entries();
  cr_assert_eq(entries.size(), 3, "1 op, then 2 of 400 KiB, then the third");
  for (const auto& [seq, bytes] : entries) cr_assert_leq(bytes.size(), kMaxEntryBytes);
  cr_assert_eq(decoded(bucket.at(2)).ops.size(), 2);
}

Test(log_thread, the_tail_applies_other_hosts_entries) {
  FakeLogBucket bucket;
  FakeApplier applier;
  LogThread thread(bucket, applier, origin(), options("host-a"));
  thread.start();
  std::string prev = kFsJsonSha;
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    std::string bytes = their_entry(seq, prev, "/b/" + std::to_string(seq));
    bucket.write(seq, bytes);
    prev = s3::sha256_hex(bytes);
  }
  cr_assert(wait_for([&] { return thread.position().seq == 3; }));
  cr_assert_eq(applier.count(), 3);
  for (const auto& applied : applier.applied()) cr_assert_not(applied.own);
  cr_assert_eq(thread.position().sha256_hex, prev);
}

Test(log_thread, entries_of_this_host_before_a_restart_are_not_own) {
  FakeLogBucket bucket;
  FakeApplier applier;
  bucket.write(1, their_entry(1, kFsJsonSha, "/mine", "host-a"));
  LogThread thread(bucket, applier, origin(), options("host-a"));
  thread.start();
  cr_assert(wait_for([&] { return applier.count() == 1; }));
  cr_assert_not(applier.applied()[0].own, "no waiter is in it");
}

Test(log_thread, catch_up_sees_an_entry_written_just_before_without_a_poll) {
  FakeLogBucket bucket;
  FakeApplier applier;
  LogThreadOptions o = options("host-a");
  o.poll_ns = 10'000'000'000;
  LogThread thread(bucket, applier, origin(), o);
  thread.start();
  cr_assert(thread.catch_up());
  bucket.write(1, their_entry(1, kFsJsonSha, "/new"));
  int64_t before = monotonic_ns();
  cr_assert(thread.catch_up());
  cr_assert_eq(thread.position().seq, 1, "the round started after the call");
  cr_assert_lt(monotonic_ns() - before, 1'000'000'000);
}

Test(log_thread, concurrent_catch_ups_share_rounds) {
  FakeLogBucket bucket;
  FakeApplier applier;
  LogThreadOptions o = options("host-a");
  o.poll_ns = 10'000'000'000;
  o.catch_up_min_gap_ns = 50'000'000;
  LogThread thread(bucket, applier, origin(), o);
  thread.start();
  cr_assert(thread.catch_up());
  int gets_before = bucket.gets();
  std::vector<std::future<bool>> misses;
  misses.reserve(20);
  for (int i = 0; i < 20; ++i) {
    misses.push_back(std::async(std::launch::async, [&] { return thread.catch_up(); }));
  }
  for (auto& m : misses) cr_assert(m.get());
  cr_assert_leq(bucket.gets() - gets_before, 10, "20 misses, %d GETs", bucket.gets() - gets_before);
}

Test(log_thread, catch_up_gives_up_on_a_hung_bucket) {
  FakeLogBucket bucket;
  FakeApplier applier;
  LogThreadOptions o = options("host-a");
  o.catch_up_wait_ns = 100'000'000;
  o.call_timeout_ns = 1'000'000'000;
  LogThread thread(bucket, applier, origin(), o);
  thread.start();
  cr_assert(thread.catch_up());
  bucket.set_hung(true);
  cr_assert_not(thread.catch_up());
  bucket.set_down(true);
  bucket.set_hung(false);
  cr_assert_not(thread.catch_up(), "a round that failed did not reach the head");
}

Test(log_thread, an_unreadable_entry_halts_the_host) {
  FakeLogBucket bucket;
  FakeApplier applier;
  bucket.write(1, "{\"v\":1,\"seq\":1,");
  LogThread thread(bucket, applier, origin(), options("host-a"));
  thread.start();
  cr_assert(wait_for([&] { return thread.halted(); }));
  int64_t before = monotonic_ns();
  Result<OpResult> refused = thread.commit(dir_op("/x"));
  cr_assert_not(refused.ok());
  cr_assert_eq(refused.error().code, ErrorCode::kIo);
  cr_assert_lt(monotonic_ns() - before, 100'000'000, "fails at once");
  int gets = bucket.gets();
  cr_assert_not(thread.catch_up());
  cr_assert_eq(bucket.gets(), gets, "a halted host sends no more requests");
  cr_assert_eq(applier.count(), 0);
  cr_assert_eq(bucket.puts(), 0);
  thread.stop();
}

Test(log_thread, a_prev_mismatch_halts_the_host) {
  FakeLogBucket bucket;
  FakeApplier applier;
  std::string first = their_entry(1, kFsJsonSha, "/1");
  bucket.write(1, first);
  bucket.write(2, their_entry(2, kFsJsonSha, "/2"));  // names fs.json, not log/1
  LogThread thread(bucket, applier, origin(), options("host-a"));
  thread.start();
  cr_assert(wait_for([&] { return thread.halted(); }));
  cr_assert_eq(thread.position().seq, 1, "log/1 applied, log/2 not");
  cr_assert_eq(applier.count(), 1);
}

Test(log_thread, an_entry_under_another_seq_halts_the_host) {
  FakeLogBucket bucket;
  FakeApplier applier;
  bucket.write(1, their_entry(2, kFsJsonSha, "/2"));
  LogThread thread(bucket, applier, origin(), options("host-a"));
  thread.start();
  cr_assert(wait_for([&] { return thread.halted(); }));
  cr_assert_eq(applier.count(), 0);
}

Test(log_thread, a_store_failure_halts_the_host_and_its_waiters) {
  FakeLogBucket bucket;
  FakeApplier applier;
  applier.failing = true;
  LogThread thread(bucket, applier, origin(), options("host-a"));
  thread.start();
  cr_assert(wait_for([&] { return bucket.gets() >= 1; }));
  Result<OpResult> r = thread.commit(dir_op("/x"));
  cr_assert_not(r.ok());
  cr_assert_eq(r.error().code, ErrorCode::kIo);
  cr_assert(r.error().message.find("halted") != std::string::npos, "%s", r.error().message.c_str());
  cr_assert(thread.halted());
  cr_assert(bucket.at(1).has_value(), "committed in the bucket, not applied here");
  cr_assert_eq(thread.position().seq, 0);
  cr_assert_not(thread.commit(dir_op("/y")).ok());
}

Test(log_thread, stop_wakes_waiters_while_a_put_hangs) {
  FakeLogBucket bucket;
  FakeApplier applier;
  LogThread thread(bucket, applier, origin(), options("host-a"));
  thread.start();
  cr_assert(wait_for([&] { return bucket.gets() >= 1; }));
  bucket.set_hung(true);
  std::vector<std::future<Result<OpResult>>> commits;
  commits.push_back(commit_async(thread, "/sent"));
  cr_assert(bucket.wait_until([&] { return bucket.puts() >= 1; }));
  for (int i = 0; i < 3; ++i) commits.push_back(commit_async(thread, "/q" + std::to_string(i)));
  cr_assert(wait_for([&] { return thread.queued() == 3; }));
  int64_t before = monotonic_ns();
  thread.stop();
  for (auto& c : commits) {
    Result<OpResult> r = c.get();
    cr_assert_not(r.ok());
    cr_assert(r.error().message.find("stopping") != std::string::npos, "%s",
              r.error().message.c_str());
  }
  cr_assert_lt(monotonic_ns() - before, 1'000'000'000, "stop waits for one call at most");
  cr_assert_not(thread.commit(dir_op("/after")).ok());
}

Test(log_thread, an_unanswering_bucket_is_reported_then_back) {
  FakeLogBucket bucket;
  FakeApplier applier;
  LogThread thread(bucket, applier, origin(), options("host-a"));
  thread.start();
  cr_assert(thread.catch_up());
  cr_assert(thread.reachable());
  bucket.set_down(true);
  cr_assert(wait_for([&] { return !thread.reachable(); }));
  bucket.set_down(false);
  cr_assert(wait_for([&] { return thread.reachable(); }));
  cr_assert(thread.catch_up());
}

Test(log_thread, commits_before_start_wait_for_it) {
  FakeLogBucket bucket;
  FakeApplier applier;
  LogThread thread(bucket, applier, origin(), options("host-a"));
  auto early = commit_async(thread, "/early");
  cr_assert(wait_for([&] { return thread.queued() == 1; }));
  thread.start();
  cr_assert_eq(dir_of(early.get()), "/early");
}
