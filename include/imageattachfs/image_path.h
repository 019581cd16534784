// ImagePath: a path of the namespace (DESIGN §1), parsed once into a typed value.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

#include "imageattachfs/format.h"

namespace iafs {

// An entity id: an integer id (canonical decimal <= 2^63-1) or a string id.
struct EntityId {
  bool is_integer = false;
  uint64_t number = 0;  // when is_integer
  std::string text;     // always the id as written

  bool operator==(const EntityId&) const = default;
  auto operator<=>(const EntityId&) const = default;
};

// How a thumbnail fits its size (a recipe's kind; DESIGN §1 as the README
// extends it). The values are stored in thumbnail keys: never renumber.
enum class ThumbFit : uint8_t {
  kWidth = 0,           // 300.jpg: that width, the height in proportion
  kHeight = 1,          // x200.jpg: that height, the width in proportion
  kBox = 2,             // 300x200.jpg: the largest in proportion that fits inside
  kCover = 3,           // 300x300-cover.jpg: exactly the box, cropped around the focus (or centre)
  kCoverAttention = 4,  // 300x300-cover-attention.jpg: cropped by libvips' attention
  kCoverEntropy = 5,    // 300x300-cover-entropy.jpg: cropped by libvips' entropy
  kLqip = 6,            // lqip.webp: the tiny preview made at commit
};

// A thumbnail recipe in its canonical form (aliases such as `300@2x.jpg`,
// `300.jpeg` and presets name one of these): what makes it, and the name it
// is listed and stored under.
struct ThumbnailSpec {
  ThumbFit fit = ThumbFit::kWidth;
  uint32_t width = 0;   // kWidth, kBox, kCover*: pixels >= 1
  uint32_t height = 0;  // kHeight, kBox, kCover*: pixels >= 1
  ImageFormat format = ImageFormat::kJpeg;

  bool operator==(const ThumbnailSpec&) const = default;
  auto operator<=>(const ThumbnailSpec&) const = default;

  bool is_box() const { return fit >= ThumbFit::kBox && fit <= ThumbFit::kCoverEntropy; }
  bool is_cover() const { return fit >= ThumbFit::kCover && fit <= ThumbFit::kCoverEntropy; }
};

// A set's focal point (user.image.focus), in millionths of the oriented
// image's width and height (0..1000000): exact, so every host applies it alike.
struct FocalPoint {
  uint32_t x = 500000;
  uint32_t y = 500000;

  bool operator==(const FocalPoint&) const = default;
};

// What a path names.
enum class NodeKind : uint8_t {
  kRoot,        // /
  kType,        // /posts
  kEntity,      // /posts/42
  kAttachment,  // /posts/42/photos (a multiple attachment; a single one is a kImageSet)
  kImageSet,    // /posts/42/photos/0 or /users/7/picture
  kOriginal,    // .../original.jpg
  kThumbDir,    // .../thumb
  kThumbnail,   // .../thumb/300.jpg
  kStaging,     // .../.original.jpg.Xy12ab or .../original.jpg~ in a set directory
  kControlDir,  // /.imageattachfs: the daemon's own files (not listed in /)
  kMetrics,     // /.imageattachfs/metrics: its counters, read-only
  kIndexFile,   // /posts/42/photos/index.json: a multiple attachment's sets (read-only)
  kMetaFile,    // .../0/meta.json or /users/7/picture/meta.json: one set's (read-only)
};

// The identity of one image set: type, entity, attachment and order index.
// For a single attachment the index is always 0.
struct ImageSetKey {
  std::string type;
  EntityId id;
  std::string attachment;
  uint32_t index = 0;

  bool operator==(const ImageSetKey&) const = default;
  auto operator<=>(const ImageSetKey&) const = default;
};

struct ImagePath {
  NodeKind kind = NodeKind::kRoot;
  ImageSetKey set;           // the fields that the kind implies are set
  bool multiple = false;     // the attachment is multiple (paths carry the index)
  std::string original_ext;  // kOriginal: the extension as written ("jpeg")
  ImageFormat original_format = ImageFormat::kJpeg;  // kOriginal
  ThumbnailSpec thumbnail;                           // kThumbnail
  std::string staging_name;                          // kStaging: the file name

  bool operator==(const ImagePath&) const = default;
  auto operator<=>(const ImagePath&) const = default;

  bool is_directory() const {
    return kind != NodeKind::kOriginal && kind != NodeKind::kThumbnail &&
           kind != NodeKind::kStaging && kind != NodeKind::kMetrics &&
           kind != NodeKind::kIndexFile && kind != NodeKind::kMetaFile;
  }
};

}  // namespace iafs
