// libvips: validate and measure originals, make thumbnails (DESIGN §2a).
// Knows nothing of storage.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "imageattachfs/format.h"
#include "imageattachfs/image_path.h"
#include "imageattachfs/result.h"
#include "imageattachfs/schema.h"

namespace iafs {

// Starts libvips for this process: operation cache off, untrusted loaders
// blocked, every loader blocked but jpeg, png, webp, gif and heif; libvips'
// log routed into ours at debug level. Call once, after any fork().
// `worker_nice` is what image_renice_workers() adds to the caller's nice.
Status image_init(const char* argv0, int worker_nice = 0);

// libvips computes on the threads of its worker pool, not on the thread that
// asks: glib makes a worker on the thread that first needs one, at that
// thread's nice, and keeps it for whatever libvips runs next. Raises every
// libvips worker below it to the nice image_init() chose (a no-op when that
// added nothing). Cheap: a look at this process's thread names.
void image_renice_workers();

// Stops libvips (vips_shutdown). Call once at exit.
void image_shutdown();

struct ImageInfo {
  ImageFormat format;
  uint32_t width = 0;  // as displayed: after EXIF orientation
  uint32_t height = 0;
};

// Validates an original: first the header (its format must be `expected`, else
// kInvalid; bytes over limits.max_bytes or width*height over limits.max_pixels:
// kTooBig, before any pixel is decoded; a format not in limits.formats:
// kInvalid), then one full sequential decode that fails on truncation (kInvalid).
// Empty or non-image bytes: kInvalid. Messages say why, for the log.
Result<ImageInfo> probe_original(std::span<const uint8_t> bytes, ImageFormat expected,
                                 const OriginalLimits& limits);

struct Dimensions {
  uint32_t width = 0;
  uint32_t height = 0;

  bool operator==(const Dimensions&) const = default;
};

// The preview lqip.webp (image/placeholders.h makes it): its longer side
// kLqipSide, the shorter floored (at least 1; small originals enlarged).
inline constexpr uint32_t kLqipSide = 32;
inline constexpr int kLqipQuality = 40;

// Where a -cover recipe crops the image it scaled.
enum class Crop : uint8_t {
  kNone,       // no crop: `scaled` is the output
  kFocus,      // centred on `focus`, as far as the image allows
  kAttention,  // libvips' smartcrop, attention
  kEntropy,    // libvips' smartcrop, entropy
};

// How a thumbnail is made: the whole oriented image resized to exactly
// `scaled`, then, for a crop, the `size` area that `crop` picks.
struct ThumbnailPlan {
  Dimensions size;    // the output's exact size
  Dimensions scaled;  // == size unless cropped
  Crop crop = Crop::kNone;
  FocalPoint focus;  // kFocus: the set's focal point, else the centre

  bool operator==(const ThumbnailPlan&) const = default;
};

// The plan of a plain resize to `size`, no crop.
inline ThumbnailPlan resize_plan(Dimensions size) { return {size, size, Crop::kNone, {}}; }

// The plan of `spec` for an original of (displayed) size width x height:
//   `300`: 300 x max(1, floor(H*300/W)); `x200`: max(1, floor(W*200/H)) x 200;
//   `300x200`: the larger of those two that fits inside the box;
//   `300x300-cover*`: scaled to cover the box (the covering side rounded up),
//     then cropped to it; `lqip`: the longer side kLqipSide, whatever the original.
// A request larger than the original: nullopt with Enlarge::kNo; with
// kClamp the original's own size (for -cover, the largest area of the box's
// proportions, floored, that the original holds, cropped unscaled).
std::optional<ThumbnailPlan> plan_thumbnail(uint32_t width, uint32_t height,
                                            const ThumbnailSpec& spec, Enlarge enlarge,
                                            const std::optional<FocalPoint>& focus);

struct EncodedImage {
  std::vector<uint8_t> bytes;
  uint32_t width = 0;
  uint32_t height = 0;
};

// Makes a thumbnail by `plan` from the original's bytes, in `format`:
// shrink-on-load, EXIF orientation applied, sRGB, all metadata stripped,
// alpha flattened onto white for JPEG, first frame of animations; exactly
// plan.size. `quality` (1..100) applies to lossy formats. Errors: kIo with
// libvips' reason.
Result<EncodedImage> make_thumbnail(std::span<const uint8_t> original, const ThumbnailPlan& plan,
                                    ImageFormat format, int quality);

}  // namespace iafs
