#include "image/gif_scan.h"

#include <algorithm>
#include <array>
#include <string>

#include "image/byte_reader.h"

namespace iafs::image_detail {
namespace {

constexpr size_t kScreenDescriptor = 13;  // "GIF89a", width, height, flags, bg, aspect
constexpr size_t kImageDescriptor = 10;   // 0x2c, left, top, width, height, flags
constexpr uint8_t kColourTableFlag = 0x80;
constexpr int kMaxCodeBits = 12;

Error invalid(std::string why) { return make_error(ErrorCode::kInvalid, "GIF " + std::move(why)); }

size_t colour_table_bytes(uint8_t flags) {
  return (flags & kColourTableFlag) ? 3u << ((flags & 7) + 1) : 0;
}

// The position after a chain of data sub-blocks starting at `at`, or 0 when
// the chain runs past the end.
size_t skip_sub_blocks(std::span<const uint8_t> bytes, size_t at) {
  while (at < bytes.size()) {
    size_t length = bytes[at++];
    if (length == 0) return at;
    if (length > bytes.size() - at) return 0;
    at += length;
  }
  return 0;
}

// Counts the pixels that LZW data yields, stopping at `wanted`. Keeps only
// the length of each table entry's string.
class LzwPixelCounter {
 public:
  explicit LzwPixelCounter(int min_code_bits)
      : min_bits_(min_code_bits), clear_(1u << min_code_bits) {
    reset();
  }

  // Feeds one code; false for a code not in the table.
  bool feed(uint32_t code) {
    if (code == clear_) {
      reset();
      return true;
    }
    if (code == clear_ + 1) {
      ended_ = true;
      return true;
    }
    if (!has_prev_) {
      if (code >= clear_) return false;
      pixels_ += 1;
    } else if (code < next_) {
      pixels_ += code < clear_ ? 1 : lengths_[code];
      add_entry(lengths_for(prev_) + 1);
    } else if (code == next_ && next_ < lengths_.size()) {
      add_entry(lengths_for(prev_) + 1);
      pixels_ += lengths_[code];
    } else {
      return false;
    }
    prev_ = code;
    has_prev_ = true;
    return true;
  }

  int code_bits() const { return code_bits_; }
  bool ended() const { return ended_; }
  uint64_t pixels() const { return pixels_; }

 private:
  void reset() {
    next_ = clear_ + 2;
    code_bits_ = min_bits_ + 1;
    has_prev_ = false;
  }
  uint32_t lengths_for(uint32_t code) const { return code < clear_ ? 1 : lengths_[code]; }
  void add_entry(uint32_t length) {
    if (next_ >= lengths_.size()) return;  // a full table stays full until a clear code
    lengths_[next_++] = length;
    if (next_ == (1u << code_bits_) && code_bits_ < kMaxCodeBits) ++code_bits_;
  }

  int min_bits_;
  uint32_t clear_;
  std::array<uint32_t, 1u << kMaxCodeBits> lengths_{};
  uint32_t next_ = 0;
  int code_bits_ = 0;
  uint32_t prev_ = 0;
  bool has_prev_ = false;
  bool ended_ = false;
  uint64_t pixels_ = 0;
};

// Decodes the sub-blocks at `at` until `wanted` pixels, the end code, or
// the blocks end. The pixel count reached, or an error.
Result<uint64_t> count_frame_pixels(std::span<const uint8_t> bytes, size_t at, int min_code_bits,
                                    uint64_t wanted) {
  LzwPixelCounter counter(min_code_bits);
  uint32_t bits = 0;
  int bit_count = 0;
  while (at < bytes.size()) {
    size_t length = bytes[at++];
    if (length == 0 || length > bytes.size() - at) break;
    for (size_t i = 0; i < length; ++i) {
      bits |= uint32_t(bytes[at + i]) << bit_count;
      bit_count += 8;
      while (bit_count >= counter.code_bits()) {
        uint32_t code = bits & ((1u << counter.code_bits()) - 1);
        bits >>= counter.code_bits();
        bit_count -= counter.code_bits();
        if (!counter.feed(code)) return invalid("LZW code not in the table");
        if (counter.ended() || counter.pixels() >= wanted) return counter.pixels();
      }
    }
    at += length;
  }
  return counter.pixels();
}

}  // namespace

Result<GifLayout> scan_gif(std::span<const uint8_t> bytes, GifCheck check) {
  if (!has_tag(bytes, 0, "GIF87a") && !has_tag(bytes, 0, "GIF89a")) return invalid("signature");
  if (bytes.size() < kScreenDescriptor) return invalid("data cut short in its header");
  GifLayout layout{*read_le(bytes, 6, 2), *read_le(bytes, 8, 2), 0};
  size_t at = kScreenDescriptor + colour_table_bytes(bytes[10]);
  while (at < bytes.size()) {
    uint8_t block = bytes[at];
    if (block == 0x3b) return layout;  // trailer
    if (block == 0x21) {               // extension: label, then sub-blocks
      at = at + 2 <= bytes.size() ? skip_sub_blocks(bytes, at + 2) : 0;
      if (at == 0) return invalid("data cut short in an extension");
      continue;
    }
    if (block != 0x2c) return invalid("block of unknown type " + std::to_string(block));
    if (bytes.size() - at < kImageDescriptor + 1) return invalid("data cut short in a frame");
    uint32_t left = *read_le(bytes, at + 1, 2), top = *read_le(bytes, at + 3, 2);
    uint32_t width = *read_le(bytes, at + 5, 2), height = *read_le(bytes, at + 7, 2);
    layout.width = std::max(layout.width, left + width);
    layout.height = std::max(layout.height, top + height);
    ++layout.frames;
    at += kImageDescriptor + colour_table_bytes(bytes[at + 9]);
    if (at >= bytes.size()) return invalid("data cut short in a frame");
    int min_code_bits = bytes[at++];
    if (min_code_bits < 1 || min_code_bits > 8) return invalid("LZW code size out of range");
    if (check == GifCheck::kPixels) {
      uint64_t wanted = uint64_t(width) * height;
      Result<uint64_t> pixels = count_frame_pixels(bytes, at, min_code_bits, wanted);
      if (!pixels) return pixels.error();
      if (*pixels < wanted) {
        return invalid("frame " + std::to_string(layout.frames) + " of " + std::to_string(width) +
                       "x" + std::to_string(height) + " holds data for " + std::to_string(*pixels) +
                       " pixels only");
      }
    }
    at = skip_sub_blocks(bytes, at);
    if (at == 0) return invalid("data cut short in frame " + std::to_string(layout.frames));
  }
  return invalid("data cut short: no trailer");
}

}  // namespace iafs::image_detail
