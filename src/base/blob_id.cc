// The two definitions of the blob interface (imageattachfs/blob_store.h)
// that every backend shares.
#include <algorithm>

#include "imageattachfs/blob_store.h"

namespace iafs {

Status SpanSource::read(uint64_t offset, std::span<uint8_t> out) const {
  if (offset > bytes_.size() || out.size() > bytes_.size() - offset) {
    return make_error(ErrorCode::kIo, "a read past the end of the bytes to store");
  }
  std::copy_n(bytes_.begin() + static_cast<ptrdiff_t>(offset), out.size(), out.begin());
  return Status::Ok();
}

std::string blob_id_hex(const BlobId& id) {
  static const char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(id.size() * 2);
  for (uint8_t b : id) {
    hex.push_back(kDigits[b >> 4]);
    hex.push_back(kDigits[b & 15]);
  }
  return hex;
}

std::optional<BlobId> blob_id_from_hex(std::string_view hex) {
  BlobId id{};
  if (hex.size() != 2 * id.size()) return std::nullopt;
  auto digit = [](char c) -> int {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  };
  for (size_t i = 0; i < id.size(); ++i) {
    int high = digit(hex[2 * i]), low = digit(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    id[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return id;
}

}  // namespace iafs
