// The records of the namespace the store keeps: image sets and thumbnails.
// (How the store counts references to blobs is its own business.)
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "imageattachfs/blob_store.h"
#include "imageattachfs/format.h"
#include "imageattachfs/image_path.h"

namespace iafs {

// One image set: its original.
struct SetRecord {
  BlobId blob{};      // SHA-256 of the original's bytes
  uint64_t size = 0;  // bytes
  ImageFormat format = ImageFormat::kJpeg;
  std::string ext;     // the extension as written ("jpeg")
  uint32_t width = 0;  // as displayed, after EXIF orientation
  uint32_t height = 0;
  int64_t created_ns = 0;  // when first committed (ns since the epoch, UTC)
  int64_t mtime_ns = 0;    // the file's mtime (utimens sets it)
  uint64_t revision = 0;   // store-wide commit number of these bytes: names this version
  std::optional<FocalPoint> focus;  // user.image.focus: where -cover thumbnails crop
  // Computed at commit (records from before have none): the average colour
  // (0xRRGGBB) and a BlurHash of 4x3 components.
  std::optional<uint32_t> color;
  std::string blurhash;
};

// One stored thumbnail of an image set.
struct ThumbRecord {
  BlobId blob{};
  uint64_t size = 0;
  uint32_t width = 0;
  uint32_t height = 0;
  int64_t created_ns = 0;
  uint64_t revision = 0;
  BlobId source{};  // the original it was made from
  // When it was last used (made or read), as kept by -o thumb_budget's
  // eviction: coarse (attach/thumbnail_budget.h). Records written before it
  // existed read as created_ns.
  int64_t used_ns = 0;
};

}  // namespace iafs
