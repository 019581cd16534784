// ImageSets: a thumbnail's bytes, another host's or made here.
#include "attach/shared_thumbnails.h"

#include <algorithm>

#include "attach/image_sets.h"
#include "base/clock.h"
#include "image/image.h"
#include "image/placeholders.h"
#include "imageattachfs/format.h"
#include "imageattachfs/recipe.h"
#include "log/log.h"
#include "path/path.h"
#include "store/hashing.h"

namespace iafs {

std::string thumbnail_recipe_text(const ThumbnailSpec& spec, int quality,
                                  const std::optional<FocalPoint>& focus) {
  std::string text =
      "r1;fmt=" + std::string(canonical_extension(spec.format)) + ";q=" + std::to_string(quality);
  // Only the focal-point crop looks at the focus (attention and entropy
  // crops do not; a focus change drops only kCover records).
  if (spec.fit == ThumbFit::kCover && focus) {
    text += ";focus=" + std::to_string(focus->x) + "," + std::to_string(focus->y);
  }
  return text;
}

SharedThumbnailName shared_thumbnail_name(const BlobId& original, const ThumbnailSpec& spec,
                                          int quality, const std::optional<FocalPoint>& focus) {
  std::string recipe = thumbnail_recipe_text(spec, quality, focus);
  std::string recipe_hash = blob_id_hex(
      sha256_of(std::span(reinterpret_cast<const uint8_t*>(recipe.data()), recipe.size())));
  return SharedThumbnailName{original, recipe_hash.substr(0, 16), thumbnail_name(spec)};
}

std::string shared_thumbnail_key(const SharedThumbnailName& name, uint64_t gen) {
  std::string key = "t/" + blob_id_hex(name.original) + "/" + name.recipe + "/" + name.name;
  if (gen != 0) {
    std::string digits = std::to_string(gen);
    key += "~" + std::string(20 - std::min<size_t>(20, digits.size()), '0') + digits;
  }
  return key;
}

std::string shared_thumbnail_key(const BlobId& original, const ThumbnailSpec& spec, int quality,
                                 const std::optional<FocalPoint>& focus) {
  return shared_thumbnail_key(shared_thumbnail_name(original, spec, quality, focus));
}

int ImageSets::quality_of(const ThumbnailSpec& spec, const AttachmentSchema& attachment) {
  return spec.fit == ThumbFit::kLqip ? kLqipQuality
                                     : attachment.thumbnails.quality_for(spec.format);
}

Result<std::pair<SharedThumbnailName, uint64_t>> ImageSets::thumbnail_generation(
    const SetRecord& original, const ThumbnailSpec& spec, const AttachmentSchema& attachment) {
  SharedThumbnailName name =
      shared_thumbnail_name(original.blob, spec, quality_of(spec, attachment), original.focus);
  auto gen = store_.thumb_gen(name.original, name.recipe, name.name);
  if (!gen) return gen.error();
  return std::pair{std::move(name), *gen};
}

Result<std::string> ImageSets::current_thumbnail_key(const SetRecord& original,
                                                     const ThumbnailSpec& spec,
                                                     const AttachmentSchema& attachment) {
  auto current = thumbnail_generation(original, spec, attachment);
  if (!current) return current.error();
  return shared_thumbnail_key(current->first, current->second);
}

Status ImageSets::drop_shared_thumbnail(const ImagePath& path) {
  const AttachmentSchema* attachment = attachment_of(path.set);
  if (attachment == nullptr) return make_error(ErrorCode::kNotFound, "unknown attachment");
  auto record = store_.get_set(path.set);
  if (!record) return record.error();
  if (!*record) return make_error(ErrorCode::kNotFound, "the set holds no original");
  auto current = thumbnail_generation(**record, path.thumbnail, *attachment);
  if (!current) return current.error();
  const auto& [name, gen] = *current;
  auto applied =
      committer_.commit(Op{DropThumb{name.original, name.recipe, name.name, path.set}, now_ns()});
  if (!applied) return applied.error();
  // The generation this entry ended, as this host applied it (another drop
  // may have landed between the read above and this one).
  std::string ended = shared_thumbnail_key(name, applied->ended_generation.value_or(gen));
  log_info("thumbnail " + path_string(path) + ": dropped on every host; " + ended + " ended");
  // No host reads that generation any more (SCALEOUT.md §5): a DELETE that
  // fails leaves it to the original's garbage collection.
  if (Status s = committer_.delete_thumbnail(ended); !s) {
    log_warning("thumbnail " + ended + ": not deleted: " + s.error().message);
  }
  return Status::Ok();
}

namespace {

Result<EncodedImage> lqip_of(std::span<const uint8_t> original) {
  auto made = make_placeholders(original);
  if (!made) return made.error();
  return EncodedImage{std::move(made->lqip), made->lqip_width, made->lqip_height};
}

}  // namespace

Result<SharedThumbnail> ImageSets::thumbnail_of(const SetRecord& original,
                                                const ThumbnailSpec& spec,
                                                const ThumbnailPlan& plan,
                                                const AttachmentSchema& attachment,
                                                int64_t& took_ns, bool& replaced) {
  took_ns = 0;
  replaced = false;
  int quality = quality_of(spec, attachment);
  bool shared = committer_.shares_thumbnails();
  std::string key;
  if (shared) {
    auto current = current_thumbnail_key(original, spec, attachment);
    if (!current) return current.error();
    key = std::move(*current);
  }
  // A drop_thumb applied meanwhile ended this generation: its bytes are
  // neither kept nor offered (make_now starts again, with the new key).
  auto dropped_meanwhile = [&]() -> bool {
    auto now = current_thumbnail_key(original, spec, attachment);
    if (now && *now == key) return false;
    replaced = true;
    return true;
  };
  if (shared) {
    auto found = committer_.find_thumbnail(key);
    if (found && *found) {
      if (dropped_meanwhile()) return make_error(ErrorCode::kNotFound, "dropped meanwhile");
      (*found)->key = key;
      return std::move(**found);
    }
    if (!found) log_warning("thumbnail " + key + ": " + found.error().message + ": made here");
  }
  Result<EncodedImage> thumb = make_error(ErrorCode::kIo, "not made");
  {
    DecodeGate::Permit permit(decodes_, original.size);  // before the copy
    // Not zeroed first: a 130 MB original is written once, by the copy.
    std::unique_ptr<uint8_t[]> buffer(new uint8_t[original.size]);
    std::span<uint8_t> bytes(buffer.get(), original.size);
    // Only bytes checked whole: not ranges still to be checked against the
    // blob's name (a fetch of it all checks them).
    Status read = read_fetched(original.blob, original.size, 0, original.size, [&]() -> Status {
      auto checked = store_.blob_cached(original.blob);
      if (!checked) return checked.error();
      if (!*checked) return make_error(ErrorCode::kIo, "its bytes are not all checked yet");
      return store_.read_blob_into(original.blob, bytes);
    });
    if (!read) {
      auto held = store_.has_blob(original.blob);
      if (!held || *held) return read.error();  // the bytes are there: a real error
      replaced = true;
      return read.error();
    }
    int64_t start = monotonic_ns();
    if (spec.fit == ThumbFit::kLqip) {
      thumb = lqip_of(bytes);  // the preview the placeholders are computed on
    } else {
      thumb = iafs::make_thumbnail(bytes, plan, spec.format, quality);
    }
    took_ns = std::max<int64_t>(1, monotonic_ns() - start);
  }
  ++resizes_;
  if (!thumb) return make_error(ErrorCode::kIo, "cannot make thumbnail: " + thumb.error().message);
  SharedThumbnail mine{std::move(thumb->bytes), thumb->width, thumb->height, now_ns(), key};
  if (!shared) return mine;
  if (dropped_meanwhile()) return make_error(ErrorCode::kNotFound, "dropped meanwhile");
  auto offered = committer_.share_thumbnail(key, mine);
  if (!offered) {
    // Not in the bucket: served from here, as made (SCALEOUT.md §6 step 3).
    log_warning("thumbnail " + key + ": not shared: " + offered.error().message);
    return mine;
  }
  if (*offered) {  // another host's, made first
    (*offered)->key = key;
    return std::move(**offered);
  }
  return mine;
}

}  // namespace iafs
