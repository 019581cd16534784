#include "store/hashing.h"

#include <openssl/evp.h>
#include <xxhash.h>

#include <cstdio>

namespace iafs {

BlobId sha256_of(std::span<const uint8_t> bytes) {
  BlobId id{};
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), id.data(), &len, EVP_sha256(), nullptr);
  return id;
}

uint64_t xxh3_of(std::span<const uint8_t> bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

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

}  // namespace iafs
