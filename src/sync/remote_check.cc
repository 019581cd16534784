#include "sync/remote_check.h"

#include <map>

#include "s3/blobs.h"
#include "s3/sigv4.h"
#include "store/store.h"
#include "sync/bucket_committer.h"
#include "sync/entry.h"
#include "sync/log_bucket.h"
#include "sync/snapshots.h"

namespace iafs::sync {
namespace {

constexpr int64_t kCallMs = 60000;
constexpr size_t kMaxProblems = 50;  // then one line says how many more

class Problems {
 public:
  explicit Problems(std::vector<std::string>& out) : out_(out) {}
  // Says how many lines were left out.
  void finish() {
    if (dropped_ != 0) out_.push_back("... and " + std::to_string(dropped_) + " more");
    dropped_ = 0;
  }
  void add(std::string line) {
    if (out_.size() < kMaxProblems) {
      out_.push_back(std::move(line));
    } else {
      ++dropped_;
    }
  }

 private:
  std::vector<std::string>& out_;
  uint64_t dropped_ = 0;
};

// Every key under `prefix` with its size.
Result<std::map<std::string, uint64_t>> list_keys(s3::Client& client, const std::string& prefix) {
  std::map<std::string, uint64_t> keys;
  s3::ListQuery query;
  query.prefix = prefix;
  for (;;) {
    auto page = client.list(query, s3::Deadline::after_ms(kCallMs));
    if (!page) return page.error();
    for (const s3::ListedObject& object : page->objects) keys[object.key] = object.size;
    if (page->next_token.empty()) return keys;
    query.continuation_token = page->next_token;
  }
}

}  // namespace

Result<RemoteReport> check_remote(s3::Client& client, const std::string& scratch_dir) {
  RemoteReport report;
  Problems problems(report.problems);
  auto fs_json = client.get("fs.json", std::nullopt, s3::Deadline::after_ms(kCallMs));
  if (!fs_json) return fs_json.error();
  if (!*fs_json) return make_error(ErrorCode::kNotFound, "no fs.json: not a store's bucket");
  std::string origin = s3::sha256_hex((*fs_json)->bytes);
  StoreOptions store_options;
  store_options.map_size = uint64_t{1} << 36;
  store_options.nometasync = true;  // scratch
  auto store = Store::open(scratch_dir, store_options);
  if (!store) return store.error();
  if (Status s = (*store)->begin_log(origin); !s) return s.error();

  // The newest snapshot that reads back whole.
  Snapshots snapshots(client);
  auto seqs = snapshots.complete(s3::Deadline::after_ms(kCallMs));
  if (!seqs) return seqs.error();
  std::string snapshot_entry;  // the SHA-256 of the entry it is at
  for (auto seq = seqs->rbegin(); seq != seqs->rend() && report.snapshot_seq == 0; ++seq) {
    auto fetched = snapshots.get(*seq, s3::Deadline::after_ms(10 * kCallMs));
    Status loaded = fetched ? (*store)->load_derived(LogCursor{*seq, fetched->index.entry_sha256,
                                                               fetched->index.time_ns},
                                                     fetched->parts)
                            : Status(fetched.error());
    if (!loaded) {
      problems.add(snapshot_prefix(*seq) + ": " + loaded.error().message);
      continue;
    }
    report.snapshot_seq = *seq;
    report.snapshot_records = fetched->index.records;
    snapshot_entry = fetched->index.entry_sha256;
  }

  // The log kept: contiguous keys, each entry chained to the one before.
  auto keys = list_keys(client, "log/");
  if (!keys) return keys.error();
  std::vector<uint64_t> kept;
  for (const auto& [key, size] : *keys) {
    std::optional<uint64_t> seq = seq_of_log_key(key);
    if (!seq) {
      problems.add("a stray key in log/: " + key);
    } else {
      kept.push_back(*seq);
    }
  }
  if (!kept.empty()) {
    report.first_seq = kept.front();
    report.head_seq = kept.back();
  }
  uint64_t start = report.snapshot_seq + 1;
  if (report.first_seq > start) {
    problems.add("entries " + log_key(start) + " to " + log_key(report.first_seq - 1) +
                 " are missing and no snapshot covers them");
  }
  std::unique_ptr<LogBucket> log = s3_log_bucket(client);
  std::string prev = report.first_seq <= 1 ? origin : "";
  uint64_t expected = report.first_seq;
  for (uint64_t seq : kept) {
    if (seq != expected) {
      problems.add("entries " + log_key(expected) + " to " + log_key(seq - 1) + " are missing");
      prev.clear();
    }
    expected = seq + 1;
    auto bytes = log->get_entry(seq, s3::Deadline::after_ms(kCallMs).monotonic_ns);
    if (!bytes) return bytes.error();
    if (!*bytes) {
      problems.add(log_key(seq) + " vanished while it was read");
      prev.clear();
      continue;
    }
    std::string sha = s3::sha256_hex(**bytes);
    Result<Entry> entry = decode_entry(**bytes);
    if (!entry || entry->seq != seq || (!prev.empty() && entry->prev != prev)) {
      problems.add(log_key(seq) + (!entry              ? ": " + entry.error().message
                                   : entry->seq != seq ? " names another seq"
                                                       : " does not chain to the entry before it"));
      prev = sha;
      continue;
    }
    prev = sha;
    if (seq == report.snapshot_seq && sha != snapshot_entry) {
      problems.add(snapshot_prefix(seq) + " is not at this log's " + log_key(seq));
    }
    if (seq < start) continue;  // in the snapshot already
    Result<LoggedEntry> logged = logged_entry(*entry, sha);
    auto applied = logged ? (*store)->apply_logged(*logged)
                          : Result<std::vector<Result<ApplyOutcome>>>(logged.error());
    if (!applied) {
      problems.add(log_key(seq) + " cannot be applied: " + applied.error().message);
      break;  // the state past it is unknown
    }
    ++report.entries_applied;
  }

  // Every original the state names is in b/, at its size.
  auto named = (*store)->referenced_originals();
  if (!named) return named.error();
  report.originals = named->size();
  auto blobs = list_keys(client, "b/");
  if (!blobs) return blobs.error();
  for (const auto& [id, size] : *named) {
    auto found = blobs->find(s3::blob_key(id));
    if (found == blobs->end()) {
      problems.add(s3::blob_key(id) + " is missing: a dangling reference");
    } else if (found->second != size) {
      problems.add(s3::blob_key(id) + " holds " + std::to_string(found->second) + " bytes, not " +
                   std::to_string(size));
    }
  }
  problems.finish();
  return report;
}

}  // namespace iafs::sync
