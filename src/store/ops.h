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
  // Its user.image.created_at (a restore sets it); 0: the op's time for new
  // bytes, kept for the same bytes.
  int64_t created_ns = 0;
  // Its user.image.focus (a restore sets it before the commit); nullopt:
  // none for new bytes, kept for the same bytes.
  std::optional<FocalPoint> focus;
  // Computed from the bytes at commit: the average colour and a BlurHash.
  std::optional<uint32_t> color;
  std::string blurhash;
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

// Set the created_at of a set's original (a restored user.image.created_at).
// Absent: kNotFound.
struct SetCreated {
  ImageSetKey set;
  int64_t created_ns = 0;
};

// Set (or, with nullopt, remove) a set's focal point: its -cover thumbnails
// cropped around the old one are dropped. Absent: kNotFound.
struct SetFocus {
  ImageSetKey set;
  std::optional<FocalPoint> focus;
};

// Set the mtime of a directory of the namespace, named by its path
// ("/posts/42/photos/0/thumb"): rsync -a and tar restore them.
struct SetDirMtime {
  std::string dir;
  int64_t mtime_ns = 0;
};

// rm thumb/NAME on a bucket's store (SCALEOUT.md §3, §5): the thumbnail
// object of `original`'s bytes under `recipe` and `name` takes a new
// generation, the seq of the entry holding this op (its key gains
// "~<seq:020>"), and every host drops its copy of `set`'s (the set the
// remover named, when given).
struct DropThumb {
  BlobId original{};
  std::string recipe;  // 16 hex digits of the canonical recipe's SHA-256
  std::string name;    // the thumbnail's name in the key ("300.jpg")
  std::optional<ImageSetKey> set;
};

struct Op {
  std::variant<AttachOriginal, RemoveSet, MoveSet, SetMtime, SetCreated, SetFocus, SetDirMtime,
               DropThumb>
      change;
  int64_t time_ns = 0;  // when the op was made (ns since the epoch, UTC)
};

}  // namespace iafs
