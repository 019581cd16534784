#include "sync/collector.h"

#include <algorithm>
#include <map>
#include <set>

#include "base/clock.h"
#include "log/log.h"
#include "s3/blobs.h"

namespace iafs::sync {
namespace {

constexpr int64_t kCallsMs = 60000;
constexpr size_t kMaxShas = 1000;  // an op's list (an entry stays well under 1 MiB)
// A sweeping host stops deleting this long before its ownership ends, so
// that two hosts never delete one sha (kSweepOwnershipNs).
constexpr int64_t kOwnerMarginNs = int64_t{600} * 1'000'000'000;

// Every object under `prefix` (recursively) with its LastModified.
Result<std::vector<s3::ListedObject>> list_all(s3::Client& client, const std::string& prefix) {
  std::vector<s3::ListedObject> out;
  s3::ListQuery query;
  query.prefix = prefix;
  for (;;) {
    auto page = client.list(query, s3::Deadline::after_ms(kCallsMs));
    if (!page) return page.error();
    out.insert(out.end(), page->objects.begin(), page->objects.end());
    if (page->next_token.empty()) return out;
    query.continuation_token = page->next_token;
  }
}

// The sha of "b/<sha>" or "t/<sha>/...".
std::optional<BlobId> sha_of_key(const std::string& key) {
  if (key.size() < 2 + 64 || (key[0] != 'b' && key[0] != 't') || key[1] != '/') return {};
  if (key[0] == 'b' && key.size() != 66) return {};
  if (key[0] == 't' && (key.size() < 67 || key[66] != '/')) return {};
  return blob_id_from_hex(std::string_view(key).substr(2, 64));
}

}  // namespace

void Collector::run_once() {
  if (log_.halted()) return;
  std::vector<BlobId> sweeping, due;
  bool caught_up = false;
  for (;;) {
    sweeping.clear();
    due.clear();
    int64_t now = now_ns();
    Status scanned = store_.scan_gc([&](const BlobId& id, const GcState& state) {
      int64_t age = now - state.time_ns;
      if (state.kind == GcState::Kind::kSweeping) {
        if (state.host == options_.host && age < kSweepOwnershipNs - kOwnerMarginNs) {
          sweeping.push_back(id);
        } else if (age >= kSweepOwnershipNs) {
          due.push_back(id);  // its host died: a sweep of ours takes it over
        }
      }
      if (state.kind == GcState::Kind::kCondemned && age >= options_.grace_ns) due.push_back(id);
      return true;
    });
    if (!scanned) {
      log_error("s3: gc: the store: " + scanned.error().message);
      return;
    }
    // No DELETE on a lagging state: a swept it has not applied yet may
    // already have let writers put the bytes again.
    if (sweeping.empty() || caught_up) break;
    if (!log_.catch_up()) return;
    caught_up = true;
  }
  // 3. What this host's sweeps took: DELETE, then swept.
  if (!sweeping.empty()) {
    std::vector<BlobId> deleted;
    for (const BlobId& id : sweeping) {
      if (Status s = remove_objects(id); !s) {
        log_warning("s3: gc: " + s.error().message + " (retried at the next round)");
        continue;
      }
      deleted.push_back(id);
    }
    if (!deleted.empty()) {
      if (Status s = append(GcStep::Kind::kSwept, deleted); !s) return;
      log_info("s3: gc: deleted " + std::to_string(deleted.size()) +
               " originals and their thumbnails from the bucket");
    }
  }
  // 2. Condemned long enough: sweep (the state decides again at its seq).
  if (!due.empty() && !append(GcStep::Kind::kSweep, due)) return;
  // 1. A listing proposes what to condemn.
  if (monotonic_ns() < next_listing_ns_) return;
  next_listing_ns_ = monotonic_ns() + options_.interval_ns;
  auto proposed = proposals();
  if (!proposed) {
    log_warning("s3: gc: no condemn this round: " + proposed.error().message);
    return;
  }
  if (!proposed->empty() && append(GcStep::Kind::kCondemn, *proposed)) {
    log_info("s3: gc: condemned " + std::to_string(proposed->size()) +
             " originals that no set names");
  }
}

Result<std::vector<BlobId>> Collector::proposals() {
  // The listing first: a sha named after it is kept by the state's own check.
  auto blobs = list_all(client_, "b/");
  if (!blobs) return blobs.error();
  auto thumbs = list_all(client_, "t/");
  if (!thumbs) return thumbs.error();
  auto named = store_.referenced_originals();
  if (!named) return named.error();
  std::set<BlobId> collecting;
  Status scanned = store_.scan_gc([&](const BlobId& id, const GcState&) {
    collecting.insert(id);
    return true;
  });
  if (!scanned) return scanned.error();
  // A sha is old when its newest object is older than the grace.
  int64_t server_now = now_ns() + client_.clock_skew_ns();
  std::map<BlobId, int64_t> newest;
  for (const auto* listing : {&*blobs, &*thumbs}) {
    for (const s3::ListedObject& object : *listing) {
      std::optional<BlobId> id = sha_of_key(object.key);
      if (!id) continue;
      int64_t& at = newest.try_emplace(*id, object.last_modified_ns).first->second;
      at = std::max(at, object.last_modified_ns);
    }
  }
  std::vector<BlobId> out;
  for (const auto& [id, at] : newest) {
    if (named->count(id) != 0 || collecting.count(id) != 0) continue;
    if (server_now - at < options_.grace_ns) continue;
    out.push_back(id);
  }
  return out;
}

Status Collector::remove_objects(const BlobId& id) {
  std::string hex = blob_id_hex(id);
  auto thumbs = list_all(client_, "t/" + hex + "/");
  if (!thumbs) return thumbs.error();
  for (const s3::ListedObject& object : *thumbs) {
    if (Status s = client_.remove(object.key, s3::Deadline::after_ms(kCallsMs)); !s) return s;
  }
  return client_.remove(s3::blob_key(id), s3::Deadline::after_ms(kCallsMs));
}

Status Collector::append(GcStep::Kind kind, const std::vector<BlobId>& shas) {
  for (size_t at = 0; at < shas.size(); at += kMaxShas) {
    LogOp op;
    GcStep step;
    step.kind = kind;
    step.shas.assign(shas.begin() + static_cast<ptrdiff_t>(at),
                     shas.begin() + static_cast<ptrdiff_t>(std::min(shas.size(), at + kMaxShas)));
    if (kind == GcStep::Kind::kSweep) step.grace_ns = options_.grace_ns;
    op.change = std::move(step);
    Result<OpResult> result = log_.commit(std::move(op));
    Status s = !result ? Status(result.error()) : result->status;
    if (!s) {
      log_warning("s3: gc: a step not committed: " + s.error().message);
      return s;
    }
  }
  return Status::Ok();
}

}  // namespace iafs::sync
