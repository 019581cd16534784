// The schema: which types exist, their attachments, and each attachment's
// thumbnail policy and limits on originals (DESIGN §3).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "imageattachfs/format.h"
#include "imageattachfs/image_path.h"

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

// Which boxes (WxH, for the fit and -cover recipes) may be made, besides
// the presets' own.
struct BoxPolicy {
  enum class Kind : uint8_t {
    kAny,   // any W x H whose W is an allowed width and H an allowed height
    kList,  // exactly these
    kNone,  // none: only the presets'
  };
  Kind kind = Kind::kAny;
  std::vector<std::pair<uint32_t, uint32_t>> boxes;  // kList, sorted

  bool allows(uint32_t width, uint32_t height, const SizePolicy& widths,
              const SizePolicy& heights) const;
};

// A request larger than the original: the original's own size, or ENOENT.
enum class Enlarge : uint8_t { kClamp, kNo };

// A named recipe (`preset.avatar = 96x96-cover`): thumb/avatar.webp is that
// recipe in that format. `recipe.format` is unused.
struct Preset {
  std::string name;
  ThumbnailSpec recipe;
};

struct ThumbnailPolicy {
  SizePolicy widths;
  SizePolicy heights;
  BoxPolicy boxes;
  std::vector<ImageFormat> formats;  // thumbnail formats allowed; empty: all
  int quality = 85;                  // 1..100, for lossy encoders (jpg, webp, avif)
  std::vector<std::pair<ImageFormat, int>> format_quality;  // quality.<ext> = Q overrides
  Enlarge enlarge = Enlarge::kClamp;
  std::vector<Preset> presets;
  std::vector<ThumbnailSpec> eager;  // canonical: made right after each upload commits

  // Whether this recipe may be made (its size and its format).
  bool allows(const ThumbnailSpec& spec) const;
  // The encoder quality of a lossy format.
  int quality_for(ImageFormat format) const;
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
