#include "attach/image_sets.h"

#include <algorithm>
#include <memory>
#include <optional>

#include "base/clock.h"
#include "image/image.h"
#include "image/placeholders.h"
#include "log/log.h"
#include "path/path.h"
#include "store/hashing.h"

namespace iafs {

ImageSets::ImageSets(Store& store, const Schema& schema, StagingArea& staging,
                     unsigned thumb_threads, Committer* committer)
    : store_(store),
      local_committer_(committer == nullptr ? std::make_unique<LocalCommitter>(store) : nullptr),
      committer_(committer != nullptr ? *committer : *local_committer_),
      schema_(schema),
      staging_(staging),
      decodes_(thumb_threads),
      pool_(thumb_threads) {}

Status ImageSets::writable(const char* what) const {
  if (!store_.read_only()) return Status::Ok();
  return make_error(ErrorCode::kReadOnly, std::string(what) + ": the mount is read-only");
}

const AttachmentSchema* ImageSets::attachment_of(const ImageSetKey& set) const {
  return schema_.find_attachment(set.type, set.attachment);
}

uint64_t ImageSets::max_bytes_of(const ImagePath& path) const {
  const AttachmentSchema* attachment = attachment_of(path.set);
  return attachment != nullptr ? attachment->originals.max_bytes : OriginalLimits{}.max_bytes;
}

Result<FileVersion> ImageSets::find_original(const ImagePath& path) {
  // A miss may be another host's news: learnt once before it is answered.
  for (bool caught_up = false;; caught_up = true) {
    auto record = store_.get_set(path.set);
    if (!record) return record.error();
    if (record->has_value() && (*record)->ext == path.original_ext) return version_of(**record);
    if (caught_up || !committer_.catch_up()) {
      return make_error(ErrorCode::kNotFound, "no such original");
    }
  }
}

Result<ThumbnailLookup> ImageSets::find_thumbnail(const ImagePath& path, pid_t looker) {
  if (removed_thumbnails_.hides(looker, path)) {
    return make_error(ErrorCode::kNotFound, "just removed by this thread");
  }
  const AttachmentSchema* attachment = attachment_of(path.set);
  if (attachment == nullptr) return make_error(ErrorCode::kNotFound, "unknown attachment");
  auto record = store_.get_set(path.set);
  // A miss may be another host's news: learnt once before it is answered.
  for (bool caught_up = false;; caught_up = true) {
    if (!record) return record.error();
    Status allowed = Status::Ok();
    if (!record->has_value()) {
      allowed = make_error(ErrorCode::kNotFound, "the set holds no original");
    } else if (!plan_thumbnail((*record)->width, (*record)->height, path.thumbnail,
                               attachment->thumbnails.enlarge, (*record)->focus)) {
      allowed = make_error(ErrorCode::kNotFound, "larger than the original (" +
                                                     std::to_string((*record)->width) + "x" +
                                                     std::to_string((*record)->height) + ")");
    }
    if (allowed) break;
    if (caught_up || !committer_.catch_up()) return allowed.error();
    record = store_.get_set(path.set);
  }
  const SetRecord& original = **record;
  auto thumb = store_.get_thumbnail(path.set, path.thumbnail);
  if (!thumb) return thumb.error();
  ThumbnailLookup lookup;
  if (thumb->has_value() && (*thumb)->source == original.blob) {
    lookup.stored = version_of(**thumb, path.thumbnail.format, original);
    thumbnails_found_.add();
    touch_thumbnail(path, *lookup.stored);
  } else if (store_.read_only()) {
    log_debug("thumbnail " + path_string(path) + ": not stored, and a read-only mount makes none");
    return make_error(ErrorCode::kNotFound, "not stored (read-only mount)");
  }
  return lookup;
}

void ImageSets::make_thumbnail(const ImagePath& path, ThumbnailPool::Done done) {
  ImageSetKey set = path.set;
  ThumbnailSpec spec = path.thumbnail;
  if (store_.read_only()) {
    auto found = find_thumbnail(path);
    if (!found) return done(found.error());
    return done(*found->stored);  // read-only: find_thumbnail gives a stored one or kNotFound
  }
  auto make = [this, set, spec] {
    Result<FileVersion> made = make_now(set, spec);
    // A set removed meanwhile is no failure to make a thumbnail.
    if (!made && made.error().code != ErrorCode::kNotFound) thumbnail_failures_.add();
    return made;
  };
  pool_.submit(path_string(path), std::move(make), std::move(done));
}

// Runs on a pool thread. When the original is replaced meanwhile, makes the
// thumbnail of the new one: a reader asked for the name, and the name now
// shows the new original. Gives up (kIo) only after many replacements in a row.
Result<FileVersion> ImageSets::make_now(const ImageSetKey& set, const ThumbnailSpec& spec,
                                        bool* stored_now_out) {
  constexpr int kAttempts = 64;
  if (stored_now_out != nullptr) *stored_now_out = false;
  const AttachmentSchema* attachment = attachment_of(set);
  if (attachment == nullptr) return make_error(ErrorCode::kNotFound, "unknown attachment");
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto record = store_.get_set(set);
    if (!record) return record.error();
    if (!record->has_value()) return make_error(ErrorCode::kNotFound, "the set holds no original");
    const SetRecord original = **record;
    auto stored = store_.get_thumbnail(set, spec);
    if (!stored) return stored.error();
    if (stored->has_value() && (*stored)->source == original.blob) {
      thumbnails_found_.add();  // made by a request just before this one
      return version_of(**stored, spec.format, original);
    }
    auto plan = plan_thumbnail(original.width, original.height, spec,
                               attachment->thumbnails.enlarge, original.focus);
    if (!plan) return make_error(ErrorCode::kNotFound, "larger than the original");
    int64_t took_ns = 0;
    bool replaced = false;
    auto thumb = thumbnail_of(original, spec, *plan, *attachment, took_ns, replaced);
    if (replaced) continue;  // replaced while it was read
    if (!thumb) return thumb.error();
    bool stored_now = false;
    auto put = store_.put_thumbnail(set, spec, original.blob, thumb->bytes, thumb->width,
                                    thumb->height, thumb->created_ns, &stored_now, original.focus);
    if (put && stored_now && !thumb->key.empty()) {
      // A drop_thumb applied between the key's read and this store found
      // nothing to drop: this copy is of the generation it ended.
      auto now = current_thumbnail_key(original, spec, *attachment);
      if (now && *now != thumb->key) {
        (void)store_.remove_thumbnail(set, spec);
        continue;
      }
    }
    if (put) {
      if (stored_now) {
        if (stored_now_out != nullptr) *stored_now_out = true;
        if (budget_ != nullptr) budget_->stored();
        // Fetched from the bucket (took_ns 0: another host made it): found.
        (took_ns != 0 ? thumbnails_made_ : thumbnails_found_).add();
        if (took_ns != 0) thumbnail_seconds_.observe_ns(took_ns);
        if (took_ns != 0 && log_enabled(LogLevel::kInfo)) {
          log_info("thumbnail " + path_string(thumbnail_path(set, attachment->multiple, spec)) +
                   ": made " + std::to_string(thumb->width) + "x" + std::to_string(thumb->height) +
                   " in " + std::to_string(took_ns / 1000000) + " ms");
        }
      } else {
        thumbnails_found_.add();
      }
      return version_of(*put, spec.format, original);
    }
    if (put.error().code != ErrorCode::kNotFound) return put.error();
  }
  return make_error(ErrorCode::kIo, "the original kept changing while its thumbnail was made");
}

Status ImageSets::pin(const FileVersion& version) { return store_.pin(version.blob); }

void ImageSets::unpin(const FileVersion& version) { store_.unpin(version.blob); }

Result<FileVersion> ImageSets::pin_original(const ImagePath& path) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto current = find_original(path);
    if (!current) return current.error();
    Status pinned = pin(*current);
    if (pinned) return current;
    if (pinned.error().code != ErrorCode::kNotFound) return pinned.error();
  }
  return make_error(ErrorCode::kIo, "the original kept changing while it was opened");
}

Status ImageSets::read(const FileVersion& version, uint64_t offset, uint64_t length,
                       const BlobReadSink& sink) {
  return read_fetched(version.blob, version.size, offset, length, [&] {
    return store_.read_blob(version.blob, version.size, offset, length, sink);
  });
}

Status ImageSets::read_fetched(const BlobId id, uint64_t size, uint64_t offset, uint64_t length,
                               const std::function<Status()>& read) {
  // `id` is a copy: a read's reply can let the kernel release the open file
  // whose version the caller's id lives in before this returns.
  // Read first: the bytes are here on nearly every read, and asking the
  // store whether they are costs a transaction. A read that finds them gone
  // (never fetched, or dropped by cache_size) fetches them and reads again.
  constexpr int kAttempts = 4;
  Status status = read();  // one snapshot: eviction cannot cut it short
  if (status) {
    if (cache_ != nullptr) cache_->used(id);
    return status;
  }
  std::optional<CacheBudget::Hold> hold;  // not evicted between fetch and read
  if (cache_ != nullptr) hold.emplace(*cache_, id);
  bool read_cached = false;
  for (int attempt = 0; !status && attempt < kAttempts; ++attempt) {
    auto cached = store_.blob_cached(id);
    if (!cached) return status;
    if (*cached) {
      // Cached whole (and checked) since the read that failed: read it
      // again, once; a read of cached bytes that fails is a real error.
      if (read_cached) return status;
      read_cached = true;
    } else if (Status fetched = committer_.fetch(id, size, offset, length); !fetched) {
      return fetched;
    }
    status = read();
  }
  return status;
}

Result<ApplyOutcome> ImageSets::commit_original(const ImagePath& path,
                                                std::span<const uint8_t> bytes, int64_t mtime_ns,
                                                int64_t created_ns) {
  auto op = judge_original(path, bytes, mtime_ns, created_ns);
  if (!op) return op.error();
  return store_original(path, *op, SpanSource(bytes));
}

Result<ApplyOutcome> ImageSets::store_original(const ImagePath& path, const AttachOriginal& op,
                                               const BlobSource& bytes,
                                               const std::function<void()>& bytes_stored) {
  Result<ApplyOutcome> applied = committer_.commit(Op{op, now_ns()}, bytes, {}, bytes_stored);
  if (applied && applied->changed) {
    log_info("upload " + path_string(path) + ": committed " + std::to_string(op.size) + " bytes, " +
             std::to_string(op.width) + "x" + std::to_string(op.height));
    if (eager_on_) queue_eager_thumbnails(path.set);
  }
  return applied;
}

Result<AttachOriginal> ImageSets::judge_original(const ImagePath& path,
                                                 std::span<const uint8_t> bytes, int64_t mtime_ns,
                                                 int64_t created_ns) {
  DecodeGate::Permit permit(decodes_, bytes.size());
  return judge(path, bytes, mtime_ns, created_ns);
}

Result<AttachOriginal> ImageSets::judge(const ImagePath& path, std::span<const uint8_t> bytes,
                                        int64_t mtime_ns, int64_t created_ns) {
  if (Status s = writable("commit"); !s) return s.error();
  const AttachmentSchema* attachment = attachment_of(path.set);
  if (attachment == nullptr) return make_error(ErrorCode::kInvalid, "unknown attachment");
  if (bytes.empty()) return make_error(ErrorCode::kInvalid, "empty file: not an image");
  Result<ImageInfo> info = probe_original(bytes, path.original_format, attachment->originals);
  if (!info) return info.error();
  // Computed once, at commit: what a page shows before the image arrives.
  Result<Placeholders> placeholders = make_placeholders(bytes);
  if (!placeholders) {
    return make_error(ErrorCode::kInvalid,
                      "decodes but cannot be resized: " + placeholders.error().message);
  }
  AttachOriginal op;
  op.set = path.set;
  op.blob = sha256_of(bytes);
  op.size = bytes.size();
  op.xxh3 = xxh3_of(bytes);
  op.format = path.original_format;
  op.ext = path.original_ext;
  op.width = info->width;
  op.height = info->height;
  op.mtime_ns = mtime_ns;
  op.created_ns = created_ns;
  op.color = placeholders->color;
  op.blurhash = std::move(placeholders->blurhash);
  return op;
}

Result<ApplyOutcome> ImageSets::remove_original(const ImagePath& path) {
  if (Status s = writable("remove"); !s) return s.error();
  return committer_.commit(Op{RemoveSet{path.set, path.original_ext}, now_ns()});
}

Status ImageSets::remove_thumbnail(const ImagePath& path, pid_t remover) {
  if (Status s = writable("remove"); !s) return s;
  // On a bucket, every host's copy goes and the object gets a new key.
  Status removed = committer_.shares_thumbnails()
                       ? drop_shared_thumbnail(path)
                       : store_.remove_thumbnail(path.set, path.thumbnail);
  if (removed) removed_thumbnails_.removed(remover, path);
  return removed;
}

Result<ApplyOutcome> ImageSets::set_mtime(const ImagePath& original, int64_t mtime_ns) {
  if (Status s = writable("set the mtime"); !s) return s.error();
  return committer_.commit(Op{SetMtime{original.set, mtime_ns}, now_ns()}, SpanSource({}),
                           original.original_ext);
}

}  // namespace iafs
