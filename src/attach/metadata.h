// The metadata files (README "Metadata files"): index.json of a multiple
// attachment and meta.json of a set, as JSON built from the stored records.
// Byte-stable: the same store gives the same bytes (fixed key order, no
// whitespace, integers as integers, no time of reading in them).
//
//   meta.json:  SET "\n"
//   index.json: {"sets":[SET,SET,...]} "\n"      (sets in ascending index)
//   SET:   {"index":0,"name":"original.jpg","width":640,"height":427,
//           "mimetype":"image/jpeg","bytes":51234,"sha256":"<64 hex>",
//           "mtime":"2026-12-01T16:26:20.123456789Z",
//           "blurhash":"LEHV6nWB2yk8pyo0adR*.7kCMdnj","color":"#7f6e5d",
//           "lqip":"/posts/1/photos/0/thumb/lqip.webp",
//           "srcset":{"jpg":"/posts/1/photos/0/thumb/16.jpg 16w, ...",...},
//           "thumbnails":[THUMB,...]}
//   THUMB: {"name":"300.jpg","width":300,"height":200,"bytes":9876}
//
// blurhash and color are there when computed (originals committed before
// they existed have none); srcset has, per allowed thumbnail format, the
// allowed widths up to the original's (the width list, or for a range the
// common responsive widths it allows: kSrcsetWidths), formats with none left out.
//
// width/height are as displayed (after EXIF orientation), bytes the file's
// size, sha256 the lowercase hex SHA-256 of the original's bytes (its blob
// id), mtime the original's mtime in RFC 3339 UTC with nine fraction digits:
// a string, because JavaScript's JSON.parse rounds integers above 2^53 (the
// nanoseconds since 1970 are ~1.8e18), and Date, Python's datetime and
// PostgreSQL parse it as it is. Thumbnails in key order: widths ascending,
// then heights (`x<h>` names), each size by format.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "imageattachfs/blob_store.h"
#include "imageattachfs/schema.h"
#include "store/store.h"

namespace iafs {

struct ThumbnailMetadata {
  std::string name;  // "300.jpg", "x200.webp"
  uint32_t width = 0;
  uint32_t height = 0;
  uint64_t bytes = 0;
};

struct SetMetadata {
  uint32_t index = 0;  // 0 for a single attachment
  std::string name;    // "original.jpeg": the extension as written
  uint32_t width = 0;
  uint32_t height = 0;
  std::string mimetype;
  uint64_t bytes = 0;
  BlobId sha256{};
  int64_t mtime_ns = 0;
  std::optional<FocalPoint> focus;  // user.image.focus, shown as "focus":[x,y] when set
  std::string blurhash;           // "" when none
  std::optional<uint32_t> color;  // 0xRRGGBB
  std::string lqip;               // the preview's path
  std::vector<std::pair<ImageFormat, std::string>> srcset;
  std::vector<ThumbnailMetadata> thumbnails;
};

// The widths a srcset offers when the policy is a range, not a list: the
// common responsive ones (Next.js's device and image sizes).
inline constexpr uint32_t kSrcsetWidths[] = {16,  32,  48,  64,   96,   128,  256,  384,
                                             640, 750, 828, 1080, 1200, 1920, 2048, 3840};

// What the metadata files show of `set` under `attachment`'s schema: its
// original, and the thumbnails made from that original that the policy
// allows (what `ls thumb/` lists).
SetMetadata set_metadata(const StoredSet& set, const AttachmentSchema& attachment);

// The bytes of meta.json.
std::string meta_json(const SetMetadata& set);
// The bytes of index.json. REQUIRES: `sets` in ascending index.
std::string index_json(std::span<const SetMetadata> sets);

// "2026-12-01T16:26:20.123456789Z": `ns` since the epoch, UTC.
std::string rfc3339_ns(int64_t ns);

// The name of a metadata file: "index.json" (kIndexFile) or "meta.json".
inline constexpr const char* kIndexFileName = "index.json";
inline constexpr const char* kMetaFileName = "meta.json";

}  // namespace iafs
