// The schema: which types exist, their attachments, and each attachment's
// thumbnail policy and limits on originals (DESIGN §3).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "imageattachfs/format.h"

namespace iafs {

// Which thumbnail sizes (a width, or a height) may be made.
// A size is allowed when 1 <= size <= max, and, if `sizes` is not empty,
// it is one of them, and, if `step` > 0, size % step == 0.
struct SizePolicy {
  uint32_t max = 4096;
  std::vector<uint32_t> sizes;  // an explicit list; empty means any up to max
  uint32_t step = 0;            // 0 means any

  bool allows(uint32_t size) const;
};

struct ThumbnailPolicy {
  SizePolicy widths;
  SizePolicy heights;
  int quality = 85;  // 1..100, for lossy encoders (jpg, webp, avif)
};

struct OriginalLimits {
  std::vector<ImageFormat> formats;  // accepted formats of originals; empty: all
  uint64_t max_bytes = 100ull * 1000 * 1000;
  uint64_t max_pixels = 50ull * 1000 * 1000;

  bool accepts(ImageFormat format) const;
};

struct AttachmentSchema {
  std::string name;
  bool multiple = false;  // the anchor's uselist: image sets by index, or one set
  ThumbnailPolicy thumbnails;
  OriginalLimits originals;
};

struct TypeSchema {
  std::string name;
  std::vector<AttachmentSchema> attachments;

  const AttachmentSchema* find_attachment(std::string_view name) const;
};

struct Schema {
  std::vector<TypeSchema> types;  // listed in this order

  const TypeSchema* find_type(std::string_view name) const;
  const AttachmentSchema* find_attachment(std::string_view type, std::string_view attachment) const;
};

}  // namespace iafs
