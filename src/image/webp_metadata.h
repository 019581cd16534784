// Removing EXIF and XMP from an encoded WebP. Not part of the module's interface.
#pragma once

#include <cstdint>
#include <vector>

namespace iafs::image_detail {

// Removes the EXIF and XMP chunks of an encoded WebP in place (clearing
// their VP8X flags). False, leaving `webp` as it was, when it is not a
// well-formed RIFF WebP.
bool strip_webp_metadata(std::vector<uint8_t>& webp);

}  // namespace iafs::image_detail
