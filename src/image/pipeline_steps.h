// Steps of a libvips pipeline shared by thumbnails (thumbnail.cc) and
// placeholders (placeholders.cc): colour conversion, flattening, stripping,
// encoding. Not part of the module's interface.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>
#include <vips/vips8>

#include "imageattachfs/format.h"
#include "imageattachfs/result.h"

namespace iafs::image_detail {

struct BlobUnref {
  void operator()(VipsBlob* blob) const { vips_area_unref(VIPS_AREA(blob)); }
};
using BlobPtr = std::unique_ptr<VipsBlob, BlobUnref>;

// 8-bit sRGB, 3 bands (4 with alpha), whatever came in: CMYK, 16-bit,
// greyscale, 12-bit HEIF. vips_thumbnail has already imported any embedded
// ICC profile.
vips::VImage to_srgb8(vips::VImage image);

// libvips' default background is black; ours is white (DESIGN §2a).
vips::VImage flatten_onto_white(vips::VImage image);

// Removes every metadata field (EXIF, GPS, XMP, IPTC, ICC, ...) from the
// image itself: libvips 8.14.1's webpsave ignores `strip` (it wrote the
// original's EXIF with GPS, and XMP; see also strip_webp_metadata). Header
// fields (width, bands, ...) are not metadata and stay.
vips::VImage without_metadata(const vips::VImage& image);

// Encodes in a thumbnail format; every saver is also told to strip (8.14's
// strip is all or nothing). Throws vips::VError, also for HEIC.
BlobPtr encode(const vips::VImage& image, ImageFormat format, int quality);

// The encoded bytes, a WebP's EXIF and XMP chunks removed
// (strip_webp_metadata). kIo when libvips wrote a malformed WebP.
Result<std::vector<uint8_t>> encoded_bytes(const BlobPtr& blob, ImageFormat format);

}  // namespace iafs::image_detail
