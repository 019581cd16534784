// Mutations of the namespace as values (DESIGN §5a). The store applies each
// in one write transaction, deterministically: an op carries its own time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "imageattachfs/blob_store.h"
#include "imageattachfs/format.h"
#include "imageattachfs/image_path.h"

namespace iafs {

// Attach (or replace) the original of a set. Replacing drops its thumbnails;
// identical bytes under the same extension change nothing.
struct AttachOriginal {
  ImageSetKey set;
  BlobId blob{};
  uint64_t size = 0;
  uint64_t xxh3 = 0;
  ImageFormat format = ImageFormat::kJpeg;
  std::string ext;
  uint32_t width = 0;
  uint32_t height = 0;
  int64_t mtime_ns = 0;  // the original's mtime; 0: the op's time
};

// Remove a set: its original and thumbnails. Absent, or (with `ext`) an
// original under another extension: kNotFound.
struct RemoveSet {
  ImageSetKey set;
  std::optional<std::string> ext;  // only if the original is original.<ext>
};

// Move a set (original and thumbnails) to another key of the same type and
// attachment. The target must hold no original: kNotEmpty. Absent source: kNotFound.
struct MoveSet {
  ImageSetKey from;
  ImageSetKey to;
};

// Set the mtime of a set's original. Absent: kNotFound.
struct SetMtime {
  ImageSetKey set;
  int64_t mtime_ns = 0;
};

struct Op {
  std::variant<AttachOriginal, RemoveSet, MoveSet, SetMtime> change;
  int64_t time_ns = 0;  // when the op was made (ns since the epoch, UTC)
};

}  // namespace iafs
