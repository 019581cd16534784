// heif_primary_size: the primary item's `ispe` (image spatial extents) of an
// ISOBMFF file, found through pitm and ipma (ISO/IEC 23008-12).
#include <optional>
#include <string_view>

#include "image/byte_reader.h"
#include "image/header_size.h"

namespace iafs::image_detail {
namespace {

struct Box {
  std::string_view type;
  std::span<const uint8_t> payload;  // after the header (and, for full boxes, not skipped)
};

// The box at `at` of `bytes`, or nullopt when its header or size runs past the end.
std::optional<Box> box_at(std::span<const uint8_t> bytes, size_t at, size_t* next) {
  auto size32 = read_be(bytes, at, 4);
  if (!size32 || bytes.size() - at < 8) return std::nullopt;
  std::string_view type(reinterpret_cast<const char*>(bytes.data() + at + 4), 4);
  uint64_t size = *size32;
  size_t header = 8;
  if (size == 1) {
    auto high = read_be(bytes, at + 8, 4), low = read_be(bytes, at + 12, 4);
    if (!high || !low) return std::nullopt;
    size = uint64_t(*high) << 32 | *low;
    header = 16;
  } else if (size == 0) {
    size = bytes.size() - at;
  }
  if (size < header || size > bytes.size() - at) return std::nullopt;
  *next = at + size;
  return Box{type, bytes.subspan(at + header, size - header)};
}

// The first child box of `type` among the boxes in `bytes`.
std::optional<Box> find_box(std::span<const uint8_t> bytes, std::string_view type) {
  size_t at = 0, next = 0;
  while (at < bytes.size()) {
    std::optional<Box> box = box_at(bytes, at, &next);
    if (!box) return std::nullopt;
    if (box->type == type) return box;
    at = next;
  }
  return std::nullopt;
}

// A full box's payload after its version and flags.
constexpr size_t kFullBoxHeader = 4;

std::optional<uint32_t> primary_item(const Box& pitm) {
  auto version = read_be(pitm.payload, 0, 1);
  if (!version) return std::nullopt;
  return read_be(pitm.payload, kFullBoxHeader, *version == 0 ? 2 : 4);
}

// The 1-based ipco property indices associated with `item`, visited in order.
template <typename Visit>
bool for_each_property_of(const Box& ipma, uint32_t item, Visit visit) {
  auto version = read_be(ipma.payload, 0, 1);
  auto flags = read_be(ipma.payload, 1, 3);
  auto entries = read_be(ipma.payload, kFullBoxHeader, 4);
  if (!version || !flags || !entries) return false;
  int id_bytes = *version < 1 ? 2 : 4;
  int index_bytes = (*flags & 1) ? 2 : 1;
  size_t at = kFullBoxHeader + 4;
  for (uint32_t e = 0; e < *entries; ++e) {
    auto id = read_be(ipma.payload, at, id_bytes);
    auto count = read_be(ipma.payload, at + id_bytes, 1);
    if (!id || !count) return false;
    at += id_bytes + 1;
    for (uint32_t a = 0; a < *count; ++a, at += index_bytes) {
      auto index = read_be(ipma.payload, at, index_bytes);
      if (!index) return false;
      uint32_t mask = index_bytes == 2 ? 0x7fff : 0x7f;  // the top bit: "essential"
      if (*id == item) visit(*index & mask);
    }
  }
  return true;
}

// The index-th (1-based) child of ipco.
std::optional<Box> property(const Box& ipco, uint32_t index) {
  size_t at = 0, next = 0;
  for (uint32_t i = 1; at < ipco.payload.size(); ++i, at = next) {
    std::optional<Box> box = box_at(ipco.payload, at, &next);
    if (!box) return std::nullopt;
    if (i == index) return box;
  }
  return std::nullopt;
}

}  // namespace

std::optional<ClaimedSize> heif_primary_size(std::span<const uint8_t> bytes) {
  std::optional<Box> meta = find_box(bytes, "meta");
  if (!meta || meta->payload.size() < kFullBoxHeader) return std::nullopt;
  std::span<const uint8_t> children = meta->payload.subspan(kFullBoxHeader);
  std::optional<Box> pitm = find_box(children, "pitm");
  std::optional<Box> iprp = find_box(children, "iprp");
  if (!pitm || !iprp) return std::nullopt;
  std::optional<uint32_t> item = primary_item(*pitm);
  std::optional<Box> ipco = find_box(iprp->payload, "ipco");
  std::optional<Box> ipma = find_box(iprp->payload, "ipma");
  if (!item || !ipco || !ipma) return std::nullopt;
  std::optional<ClaimedSize> size;
  bool parsed = for_each_property_of(*ipma, *item, [&](uint32_t index) {
    std::optional<Box> box = property(*ipco, index);
    if (size || !box || box->type != "ispe") return;
    auto width = read_be(box->payload, kFullBoxHeader, 4);
    auto height = read_be(box->payload, kFullBoxHeader + 4, 4);
    if (width && height) size = ClaimedSize{*width, *height};
  });
  return parsed ? size : std::nullopt;
}

}  // namespace iafs::image_detail
