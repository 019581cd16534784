// Bounds-checked reads of integers from untrusted bytes, for the header
// parsers. Not part of the module's interface.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace iafs::image_detail {

// Big- or little-endian integers at an offset; nullopt past the end.
inline std::optional<uint32_t> read_be(std::span<const uint8_t> bytes, size_t at, int size) {
  if (at > bytes.size() || size_t(size) > bytes.size() - at) return std::nullopt;
  uint32_t value = 0;
  for (int i = 0; i < size; ++i) value = value << 8 | bytes[at + i];
  return value;
}

inline std::optional<uint32_t> read_le(std::span<const uint8_t> bytes, size_t at, int size) {
  if (at > bytes.size() || size_t(size) > bytes.size() - at) return std::nullopt;
  uint32_t value = 0;
  for (int i = size - 1; i >= 0; --i) value = value << 8 | bytes[at + i];
  return value;
}

// Whether `bytes` holds `tag` at `at`.
inline bool has_tag(std::span<const uint8_t> bytes, size_t at, std::string_view tag) {
  if (at > bytes.size() || tag.size() > bytes.size() - at) return false;
  for (size_t i = 0; i < tag.size(); ++i) {
    if (bytes[at + i] != uint8_t(tag[i])) return false;
  }
  return true;
}

}  // namespace iafs::image_detail
