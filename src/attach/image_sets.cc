#include "attach/image_sets.h"

#include "image/placeholders.h"

#include <algorithm>
#include <memory>

#include "base/clock.h"
#include "image/image.h"
#include "image/placeholders.h"
#include "log/log.h"
#include "path/path.h"
#include "store/hashing.h"

namespace iafs {

ImageSets::ImageSets(Store& store, const Schema& schema, StagingArea& staging,
                     unsigned thumb_threads)
    : store_(store),
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
  auto record = store_.get_set(path.set);
  if (!record) return record.error();
  if (!record->has_value() || (*record)->ext != path.original_ext) {
    return make_error(ErrorCode::kNotFound, "no such original");
  }
  return version_of(**record);
}

Result<ThumbnailLookup> ImageSets::find_thumbnail(const ImagePath& path, pid_t looker) {
  if (removed_thumbnails_.hides(looker, path)) {
    return make_error(ErrorCode::kNotFound, "just removed by this thread");
  }
  auto record = store_.get_set(path.set);
  if (!record) return record.error();
  if (!record->has_value()) return make_error(ErrorCode::kNotFound, "the set holds no original");
  const SetRecord& original = **record;
  const AttachmentSchema* attachment = attachment_of(path.set);
  if (attachment == nullptr) return make_error(ErrorCode::kNotFound, "unknown attachment");
  if (!plan_thumbnail(original.width, original.height, path.thumbnail,
                      attachment->thumbnails.enlarge, original.focus)) {
    return make_error(ErrorCode::kNotFound, "larger than the original (" +
                                                std::to_string(original.width) + "x" +
                                                std::to_string(original.height) + ")");
  }
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

namespace {

Result<EncodedImage> lqip_of(std::span<const uint8_t> original) {
  auto made = make_placeholders(original);
  if (!made) return made.error();
  return EncodedImage{std::move(made->lqip), made->lqip_width, made->lqip_height};
}

}  // namespace

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
    Result<EncodedImage> thumb = make_error(ErrorCode::kIo, "not made");
    int64_t took_ns = 0;
    {
      DecodeGate::Permit permit(decodes_, original.size);  // before the copy
      // Not zeroed first: a 130 MB original is written once, by the copy.
      std::unique_ptr<uint8_t[]> buffer(new uint8_t[original.size]);
      std::span<uint8_t> bytes(buffer.get(), original.size);
      Status read = store_.read_blob_into(original.blob, bytes);
      if (!read) {
        auto held = store_.has_blob(original.blob);
        if (!held || *held) return read.error();  // the bytes are there: a real error
        continue;                                 // replaced while reading
      }
      int64_t start = monotonic_ns();
      int quality = spec.fit == ThumbFit::kLqip ? kLqipQuality
                                                : attachment->thumbnails.quality_for(spec.format);
      if (spec.fit == ThumbFit::kLqip) {
        thumb = lqip_of(bytes);  // the preview the placeholders are computed on
      } else {
        thumb = iafs::make_thumbnail(bytes, *plan, spec.format, quality);
      }
      took_ns = monotonic_ns() - start;
    }
    ++resizes_;
    if (!thumb) {
      return make_error(ErrorCode::kIo, "cannot make thumbnail: " + thumb.error().message);
    }
    bool stored_now = false;
    auto put = store_.put_thumbnail(set, spec, original.blob, thumb->bytes, thumb->width,
                                    thumb->height, now_ns(), &stored_now, original.focus);
    if (put) {
      if (stored_now) {
        if (stored_now_out != nullptr) *stored_now_out = true;
        if (budget_ != nullptr) budget_->stored();
        thumbnails_made_.add();
        thumbnail_seconds_.observe_ns(took_ns);
        if (log_enabled(LogLevel::kInfo)) {
          log_info("thumbnail " + path_string(thumbnail_path(set, attachment->multiple, spec)) +
                   ": made " + std::to_string(thumb->width) + "x" +
                   std::to_string(thumb->height) + " in " + std::to_string(took_ns / 1000000) +
                   " ms");
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

Status ImageSets::read(const FileVersion& version, uint64_t offset, uint64_t length,
                       const BlobReadSink& sink) {
  return store_.read_blob(version.blob, version.size, offset, length, sink);
}

Result<ApplyOutcome> ImageSets::commit_original(const ImagePath& path,
                                                std::span<const uint8_t> bytes, int64_t mtime_ns,
                                                int64_t created_ns) {
  auto op = judge_original(path, bytes, mtime_ns, created_ns);
  if (!op) return op.error();
  return store_original(path, *op, SpanSource(bytes));
}

Result<ApplyOutcome> ImageSets::store_original(const ImagePath& path, const AttachOriginal& op,
                                               const BlobSource& bytes) {
  Result<ApplyOutcome> applied = store_.apply(Op{op, now_ns()}, bytes);
  if (applied && applied->changed) {
    log_info("upload " + path_string(path) + ": committed " + std::to_string(op.size) +
             " bytes, " + std::to_string(op.width) + "x" + std::to_string(op.height));
    if (eager_on_) queue_eager_thumbnails(path.set);
  }
  return applied;
}

Result<AttachOriginal> ImageSets::judge_original(const ImagePath& path,
                                                 std::span<const uint8_t> bytes,
                                                 int64_t mtime_ns, int64_t created_ns) {
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
    return make_error(ErrorCode::kInvalid, "decodes but cannot be resized: " +
                                               placeholders.error().message);
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
  return store_.apply(Op{RemoveSet{path.set, path.original_ext}, now_ns()});
}

Status ImageSets::remove_thumbnail(const ImagePath& path, pid_t remover) {
  if (Status s = writable("remove"); !s) return s;
  Status removed = store_.remove_thumbnail(path.set, path.thumbnail);
  if (removed) removed_thumbnails_.removed(remover, path);
  return removed;
}

Result<ApplyOutcome> ImageSets::set_mtime(const ImagePath& original, int64_t mtime_ns) {
  if (Status s = writable("set the mtime"); !s) return s.error();
  return store_.apply(Op{SetMtime{original.set, mtime_ns}, now_ns()});
}

}  // namespace iafs
