#include "sync/bucket_committer.h"

#include <chrono>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>

#include "base/clock.h"
#include "base/numbers.h"
#include "log/log.h"
#include "s3/blobs.h"
#include "s3/sigv4.h"
#include "store/hashing.h"

namespace iafs::sync {

namespace {

// An original's PUT may take beyond the commit timeout this long per MiB.
constexpr int64_t kBlobPutNsPerMib = 1'000'000'000;
constexpr int64_t kThumbnailMs = 10000;  // a GET or PUT of a shared thumbnail
constexpr unsigned kGcRetries = 4;       // an attach refused because GC swept its bytes

const std::string* metadata_of(const s3::ObjectInfo& info, std::string_view name) {
  for (const s3::Header& header : info.metadata) {
    if (header.name == name) return &header.value;
  }
  return nullptr;
}

std::optional<uint64_t> number_of(const s3::ObjectInfo& info, std::string_view name, uint64_t max) {
  const std::string* text = metadata_of(info, name);
  if (text == nullptr) return std::nullopt;
  return parse_canonical_decimal(*text, max);
}

// The op of a change attach made, as the log carries it.
LogOp log_op_of(const Op& op, uint64_t checked, const std::string& original_ext) {
  LogOp out;
  std::visit([&](const auto& change) { out.change = change; }, op.change);
  out.checked = std::holds_alternative<AttachOriginal>(op.change) ? checked : 0;
  bool guarded = std::holds_alternative<SetMtime>(op.change) ||
                 std::holds_alternative<SetCreated>(op.change) ||
                 std::holds_alternative<SetFocus>(op.change);
  if (guarded) out.ext = original_ext;
  return out;
}

}  // namespace

Result<LoggedEntry> logged_entry(const Entry& entry, const std::string& sha256_hex) {
  LoggedEntry out;
  out.seq = entry.seq;
  out.prev_sha256 = entry.prev;
  out.sha256 = sha256_hex;
  out.time_ns = entry.time_ns;
  out.host = entry.host;
  out.ops.reserve(entry.ops.size());
  for (const LogOp& op : entry.ops) {
    LoggedOp logged;
    logged.op.time_ns = entry.time_ns;
    logged.original_ext = op.ext;
    logged.checked = op.checked;
    std::visit(
        [&](const auto& change) {
          using T = std::decay_t<decltype(change)>;
          if constexpr (std::is_same_v<T, GcStep>) {
            static constexpr GcOp::Kind kKinds[] = {GcOp::Kind::kCondemn, GcOp::Kind::kSweep,
                                                    GcOp::Kind::kSwept};
            logged.gc =
                GcOp{kKinds[static_cast<size_t>(change.kind)], change.shas, change.grace_ns};
          } else {
            logged.op.change = change;
          }
        },
        op.change);
    out.ops.push_back(std::move(logged));
  }
  return out;
}

BucketCommitter::BucketCommitter(Store& store, s3::Client& client, bool read_only)
    : store_(store), client_(client), read_only_(read_only), fetches_(store, client) {}

Result<ApplyOutcome> BucketCommitter::commit(const Op& op, const BlobSource& blob,
                                             const std::string& original_ext,
                                             const std::function<void()>& bytes_stored) {
  if (read_only_) {
    return make_error(ErrorCode::kReadOnly, "this host mounts its bucket read-only");
  }
  if (log_ == nullptr) return make_error(ErrorCode::kIo, "the bucket's log is not running");
  const auto* attach = std::get_if<AttachOriginal>(&op.change);
  // One deadline for the whole change: at it, EIO (SCALEOUT.md §5 step 6).
  int64_t deadline = monotonic_ns() + log_->commit_timeout_ns();
  if (attach != nullptr) deadline += static_cast<int64_t>(attach->size >> 20) * kBlobPutNsPerMib;
  for (unsigned attempt = 1;; ++attempt) {
    uint64_t checked = log_->position().seq;
    if (attach != nullptr) {
      // In the bucket before any entry names it; then here, so that this
      // host reads it without a GET.
      auto put = s3::put_blob(client_, attach->blob, blob, attach->xxh3, s3::Deadline{deadline});
      if (!put) {
        return make_error(ErrorCode::kIo, "s3: original " + blob_id_hex(attach->blob) +
                                              " not stored: " + put.error().message);
      }
      if (Status cached = store_.cache_blob(attach->blob, attach->xxh3, blob); !cached) {
        return cached.error();
      }
      if (Status pinned = store_.pin(attach->blob); !pinned) return pinned.error();
    }
    // Its bytes are in the bucket and here: the log's wait holds none of
    // them, so writers waiting together share an entry (group commit).
    if (bytes_stored && attempt == 1) bytes_stored();
    Result<OpResult> result = log_->commit(log_op_of(op, checked, original_ext), deadline);
    if (attach != nullptr) store_.unpin(attach->blob);
    if (!result) return result.error();
    // Garbage collection swept (or is sweeping) these bytes since we found
    // them in the bucket: once the sweep is done, put them again (SCALEOUT.md §9).
    if (attach != nullptr && !result->status && result->status.error().code == ErrorCode::kStale &&
        attempt < kGcRetries) {
      log_info("s3: " + result->status.error().message);
      if (Status s = wait_for_sweep(attach->blob, deadline); !s) return s.error();
      continue;
    }
    if (!result->status) {
      if (result->status.error().code == ErrorCode::kStale) {
        return make_error(ErrorCode::kIo, result->status.error().message);
      }
      return result->status.error();
    }
    const auto* outcome = std::any_cast<ApplyOutcome>(&result->detail);
    if (outcome == nullptr) return make_error(ErrorCode::kIo, "the log applied no outcome");
    return *outcome;
  }
}

Status BucketCommitter::wait_for_sweep(const BlobId& id, int64_t deadline) {
  for (;;) {
    auto state = store_.gc_state(id);
    if (!state) return state.error();
    if (state->kind != GcState::Kind::kSweeping) return Status::Ok();
    if (monotonic_ns() >= deadline) {
      return make_error(ErrorCode::kIo, "s3: original " + blob_id_hex(id) +
                                            " is still being swept from the bucket");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Status BucketCommitter::fetch(const BlobId& id, uint64_t size, uint64_t offset, uint64_t length) {
  return fetches_.fetch(id, size, offset, length);
}

Status BucketCommitter::delete_thumbnail(const std::string& key) {
  return client_.remove(key, s3::Deadline::after_ms(kThumbnailMs));
}

Result<std::optional<SharedThumbnail>> BucketCommitter::find_thumbnail(const std::string& key) {
  auto got = client_.get(key, std::nullopt, s3::Deadline::after_ms(kThumbnailMs));
  if (!got) return got.error();
  if (!*got) return std::optional<SharedThumbnail>();
  const s3::Object& object = **got;
  const std::string* sha = metadata_of(object.info, "sha256");
  auto width = number_of(object.info, "width", UINT32_MAX);
  auto height = number_of(object.info, "height", UINT32_MAX);
  auto created = number_of(object.info, "created", INT64_MAX);
  if (sha == nullptr || !width || !height || !created || *sha != s3::sha256_hex(object.bytes)) {
    return make_error(ErrorCode::kIo, "s3: " + key + " lacks its metadata or its bytes differ");
  }
  SharedThumbnail thumbnail;
  thumbnail.bytes.assign(object.bytes.begin(), object.bytes.end());
  thumbnail.width = static_cast<uint32_t>(*width);
  thumbnail.height = static_cast<uint32_t>(*height);
  thumbnail.created_ns = static_cast<int64_t>(*created);
  return std::optional(std::move(thumbnail));
}

Result<std::optional<SharedThumbnail>> BucketCommitter::share_thumbnail(
    const std::string& key, const SharedThumbnail& mine) {
  s3::PutOptions create;
  create.if_none_match = true;
  create.metadata = {{"sha256", s3::sha256_hex(mine.bytes)},
                     {"width", std::to_string(mine.width)},
                     {"height", std::to_string(mine.height)},
                     {"created", std::to_string(mine.created_ns)}};
  auto put = client_.put(key, mine.bytes, create, s3::Deadline::after_ms(kThumbnailMs));
  if (!put) return put.error();
  if (*put == s3::PutResult::kCreated) return std::optional<SharedThumbnail>();
  // Another host made it first: its bytes are everyone's.
  return find_thumbnail(key);
}

bool BucketCommitter::catch_up() { return log_ != nullptr && log_->catch_up(); }

Result<std::vector<OpResult>> BucketCommitter::apply(const Entry& entry,
                                                     const std::string& sha256_hex, bool own) {
  Result<LoggedEntry> logged = logged_entry(entry, sha256_hex);
  if (!logged) return logged.error();
  auto applied = store_.apply_logged(*logged);
  if (!applied) return applied.error();
  std::vector<OpResult> results;
  results.reserve(applied->size());
  std::vector<std::pair<Op, ApplyOutcome>> changes;
  for (size_t i = 0; i < applied->size(); ++i) {
    Result<ApplyOutcome>& outcome = (*applied)[i];
    if (!outcome) {
      results.push_back(OpResult{Status(outcome.error()), {}});
      continue;
    }
    // This host's own commits are made visible by the requests that wait
    // for them; others' changes reach the kernel here.
    if (!own && outcome->changed) changes.emplace_back(logged->ops[i].op, *outcome);
    results.push_back(OpResult{Status::Ok(), std::any(std::move(outcome).value())});
  }
  if (!changes.empty() && on_remote_change_) on_remote_change_(changes);
  return results;
}

}  // namespace iafs::sync
