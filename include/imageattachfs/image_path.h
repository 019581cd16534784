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

// A thumbnail: a width (`300.jpg`) or a height (`x200.jpg`) and an output format.
struct ThumbnailSpec {
  bool by_height = false;
  uint32_t size = 0;  // pixels, >= 1
  ImageFormat format = ImageFormat::kJpeg;

  bool operator==(const ThumbnailSpec&) const = default;
  auto operator<=>(const ThumbnailSpec&) const = default;
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
           kind != NodeKind::kStaging && kind != NodeKind::kMetrics;
  }
};

}  // namespace iafs
