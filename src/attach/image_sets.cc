#include "attach/image_sets.h"

#include <time.h>

#include "image/image.h"
#include "log/log.h"
#include "path/path.h"
#include "store/hashing.h"

namespace iafs {

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

ImageSets::ImageSets(Store& store, const Schema& schema, StagingArea& staging,
                     unsigned thumb_threads)
    : store_(store), schema_(schema), staging_(staging), pool_(thumb_threads) {}

const AttachmentSchema* ImageSets::attachment_of(const ImageSetKey& set) const {
  return schema_.find_attachment(set.type, set.attachment);
}

Result<FileVersion> ImageSets::find_original(const ImagePath& path) {
  auto record = store_.get_set(path.set);
  if (!record) return record.error();
  if (!record->has_value() || (*record)->ext != path.original_ext) {
    return make_error(ErrorCode::kNotFound, "no such original");
  }
  return version_of(**record);
}

Result<ThumbnailLookup> ImageSets::find_thumbnail(const ImagePath& path) {
  auto record = store_.get_set(path.set);
  if (!record) return record.error();
  if (!record->has_value()) return make_error(ErrorCode::kNotFound, "the set holds no original");
  const SetRecord& original = **record;
  if (!thumbnail_dimensions(original.width, original.height, path.thumbnail)) {
    return make_error(ErrorCode::kNotFound, "larger than the original (" +
                                                std::to_string(original.width) + "x" +
                                                std::to_string(original.height) + ")");
  }
  auto thumb = store_.get_thumbnail(path.set, path.thumbnail);
  if (!thumb) return thumb.error();
  ThumbnailLookup lookup;
  if (thumb->has_value() && (*thumb)->source == original.blob) {
    lookup.stored = version_of(**thumb, path.thumbnail.format);
  }
  return lookup;
}

void ImageSets::make_thumbnail(const ImagePath& path, ThumbnailPool::Done done) {
  ImageSetKey set = path.set;
  ThumbnailSpec spec = path.thumbnail;
  pool_.submit(
      path_string(path), [this, set, spec] { return make_now(set, spec); }, std::move(done));
}

// Runs on a pool thread. Retries when the original is replaced meanwhile.
Result<FileVersion> ImageSets::make_now(const ImageSetKey& set, const ThumbnailSpec& spec) {
  const AttachmentSchema* attachment = attachment_of(set);
  if (attachment == nullptr) return make_error(ErrorCode::kNotFound, "unknown attachment");
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto record = store_.get_set(set);
    if (!record) return record.error();
    if (!record->has_value()) return make_error(ErrorCode::kNotFound, "the set holds no original");
    const SetRecord original = **record;
    auto stored = store_.get_thumbnail(set, spec);
    if (!stored) return stored.error();
    if (stored->has_value() && (*stored)->source == original.blob) {
      return version_of(**stored, spec.format);
    }
    auto size = thumbnail_dimensions(original.width, original.height, spec);
    if (!size) return make_error(ErrorCode::kNotFound, "larger than the original");
    std::vector<uint8_t> bytes;
    bytes.reserve(original.size);
    Status read =
        store_.read_blob(original.blob, original.size, 0, original.size, [&](auto pieces) {
          for (auto piece : pieces) bytes.insert(bytes.end(), piece.begin(), piece.end());
        });
    if (!read) {
      auto blob = store_.get_blob(original.blob);
      if (!blob || blob->has_value()) return read.error();  // the bytes are there: a real error
      continue;                                             // replaced while reading
    }
    auto thumb = iafs::make_thumbnail(bytes, *size, spec.format, attachment->thumbnails.quality);
    ++resizes_;
    if (!thumb)
      return make_error(ErrorCode::kIo, "cannot make thumbnail: " + thumb.error().message);
    auto put = store_.put_thumbnail(set, spec, original.blob, thumb->bytes, thumb->width,
                                    thumb->height, now_ns());
    if (put) return version_of(*put, spec.format);
    if (put.error().code != ErrorCode::kNotFound) return put.error();
  }
  return make_error(ErrorCode::kIo, "the original kept changing while its thumbnail was made");
}

Result<ApplyOutcome> ImageSets::commit_original(const ImagePath& path,
                                                std::span<const uint8_t> bytes, int64_t mtime_ns) {
  const AttachmentSchema* attachment = attachment_of(path.set);
  if (attachment == nullptr) return make_error(ErrorCode::kInvalid, "unknown attachment");
  if (bytes.empty()) return make_error(ErrorCode::kInvalid, "empty file: not an image");
  auto info = probe_original(bytes, path.original_format, attachment->originals);
  if (!info) return info.error();
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
  return store_.apply(Op{op, now_ns()}, bytes);
}

Result<ApplyOutcome> ImageSets::remove_original(const ImagePath& path) {
  auto found = find_original(path);
  if (!found) return found.error();
  return store_.apply(Op{RemoveSet{path.set}, now_ns()});
}

Status ImageSets::remove_thumbnail(const ImagePath& path) {
  return store_.remove_thumbnail(path.set, path.thumbnail);
}

Result<ApplyOutcome> ImageSets::move_set(const ImagePath& from, const ImagePath& to) {
  if (from.kind != NodeKind::kImageSet || to.kind != NodeKind::kImageSet ||
      from.set.type != to.set.type || from.set.attachment != to.set.attachment) {
    return make_error(ErrorCode::kCrossDevice, "a set moves only within its type and attachment");
  }
  if (from.set == to.set) return ApplyOutcome{};
  auto outcome = store_.apply(Op{MoveSet{from.set, to.set}, now_ns()});
  if (outcome) staging_.move_directory(path_string(from), path_string(to));
  return outcome;
}

Result<ApplyOutcome> ImageSets::set_mtime(const ImagePath& original, int64_t mtime_ns) {
  return store_.apply(Op{SetMtime{original.set, mtime_ns}, now_ns()});
}

}  // namespace iafs
