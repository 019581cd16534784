// Rebuilding a host's state at mount (SCALEOUT.md §8): the checks of the
// store's cursor against the bucket's log, and the load of a snapshot.
#include "base/clock.h"
#include "log/log.h"
#include "s3/sigv4.h"
#include "sync/bucket_mount.h"
#include "sync/maintenance.h"
#include "sync/snapshots.h"

namespace iafs::sync {
namespace {

constexpr int64_t kCheckMs = 15000;                   // the cursor and gap checks
constexpr int64_t kLoadMs = int64_t{10} * 60 * 1000;  // listing and fetching a snapshot

// Why the store must be rebuilt ("" when it need not), and whether entries
// above its cursor are missing.
struct Verdict {
  std::string why;
  bool gap = false;
};

Result<Verdict> check_cursor(LogBucket& log, const LogCursor& cursor) {
  Verdict verdict;
  if (cursor.seq == 0) return verdict;
  auto deadline = s3::Deadline::after_ms(kCheckMs).monotonic_ns;
  auto at = log.get_entry(cursor.seq, deadline);
  if (!at) return at.error();
  if (*at && s3::sha256_hex(**at) != cursor.sha256_hex) {
    verdict.why = log_key(cursor.seq) +
                  " is not the entry this store applied (the bucket was restored or reset)";
    return verdict;
  }
  auto next = log.first_entry_after(cursor.seq, deadline);
  if (!next) return next.error();
  // The newest entry is never truncated: none at or after the cursor means
  // the log is shorter than what this store applied.
  if (!*at && !*next) {
    verdict.why = "the log ends before " + log_key(cursor.seq) +
                  ", which this store applied (the bucket was restored or reset)";
    return verdict;
  }
  if (*next && **next != cursor.seq + 1) {
    verdict.gap = true;
    verdict.why = "the entries after " + log_key(cursor.seq) +
                  " were deleted (the log was truncated while this host was away)";
  }
  return verdict;
}

}  // namespace

Status prepare_store(const BucketPlan& plan, const s3::S3Options& options, Store& store,
                     bool read_only) {
  Result<LogCursor> cursor = store.log_cursor();
  if (!cursor) return cursor.error();
  BucketClient bucket = BucketClient::make(plan.location, options.profile);
  std::unique_ptr<LogBucket> log = s3_log_bucket(*bucket.client);
  Result<Verdict> verdict = check_cursor(*log, *cursor);
  if (!verdict) return make_error(ErrorCode::kIo, "s3: the log: " + verdict.error().message);
  if (cursor->seq != 0 && verdict->why.empty()) return Status::Ok();
  int64_t started = monotonic_ns();
  Snapshots snapshots(*bucket.client);
  std::string why = cursor->seq == 0 ? "a host with nothing applied" : verdict->why;
  // The uuid this host's heartbeat will carry: written at the snapshot's seq
  // before its parts are read, so that no truncation passes it meanwhile.
  Result<std::string> host = store.log_host(plan.host);
  if (!host) return host.error();
  // Truncation may delete a snapshot being read (two newer ones were made):
  // the listing is read again, a few times.
  for (int listing = 0; listing < 3; ++listing) {
    auto seqs = snapshots.complete(s3::Deadline::after_ms(kLoadMs));
    if (!seqs) return make_error(ErrorCode::kIo, "s3: snapshots: " + seqs.error().message);
    for (auto seq = seqs->rbegin(); seq != seqs->rend(); ++seq) {
      if (verdict->gap && *seq <= cursor->seq) break;  // it would not bridge the gap
      std::string name = snapshot_prefix(*seq);
      if (plan.writable && !read_only) {
        Status put = put_heartbeat(*bucket.client, *host, *seq, options.maintain,
                                   s3::Deadline::after_ms(kCheckMs));
        if (!put) return make_error(ErrorCode::kIo, "s3: heartbeat: " + put.error().message);
      }
      auto fetched = snapshots.get(*seq, s3::Deadline::after_ms(kLoadMs));
      if (!fetched) {
        log_warning("s3: " + name + " not used: " + fetched.error().message);
        continue;
      }
      const SnapshotIndex& index = fetched->index;
      LogCursor at{index.seq, index.entry_sha256, index.time_ns};
      if (Status s = store.load_derived(at, fetched->parts); !s) {
        log_warning("s3: " + name + " not used: " + s.error().message);
        continue;
      }
      std::string line = "s3: state loaded from " + name + " (";
      line += std::to_string(index.records) + " records) in ";
      line += std::to_string((monotonic_ns() - started) / 1'000'000) + " ms: ";
      line += why;
      line += "; the log follows from " + log_key(index.seq + 1);
      log_info(line);
      return Status::Ok();
    }
    if (seqs->empty()) break;
  }
  if (cursor->seq == 0) {
    // No snapshot could be read: replay from log/1, if it is there.
    auto first = log->first_entry_after(0, s3::Deadline::after_ms(kCheckMs).monotonic_ns);
    if (!first) return make_error(ErrorCode::kIo, "s3: the log: " + first.error().message);
    if (*first && **first != 1) {
      return make_error(ErrorCode::kIo, "s3: the log starts at " + log_key(**first) +
                                            " and no snapshot could be read: cannot rebuild");
    }
    return Status::Ok();
  }
  if (verdict->gap) {
    return make_error(ErrorCode::kInvalid,
                      "s3: " + verdict->why + ", and no snapshot past them can be read");
  }
  if (Status s = store.load_derived(LogCursor{0, plan.origin, 0}, {}); !s) return s;
  log_info("s3: this host's state is dropped and the log replayed from log/1: " + why);
  return Status::Ok();
}

}  // namespace iafs::sync
