#include "store/hashing.h"

#include <openssl/evp.h>
#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <new>

namespace iafs {

BlobId sha256_of(std::span<const uint8_t> bytes) {
  BlobId id{};
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), id.data(), &len, EVP_sha256(), nullptr);
  return id;
}

uint64_t xxh3_of(std::span<const uint8_t> bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
    throw std::bad_alloc();
  }
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::update(std::span<const uint8_t> bytes) {
  EVP_DigestUpdate(ctx_, bytes.data(), bytes.size());
}

BlobId Sha256::finish() {
  BlobId id{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, id.data(), &len);
  return id;
}

Xxh3::Xxh3() : state_(XXH3_createState()) {
  if (state_ == nullptr || XXH3_64bits_reset(state_) != XXH_OK) throw std::bad_alloc();
}

Xxh3::~Xxh3() { XXH3_freeState(state_); }

void Xxh3::update(std::span<const uint8_t> bytes) {
  XXH3_64bits_update(state_, bytes.data(), bytes.size());
}

uint64_t Xxh3::finish() { return XXH3_64bits_digest(state_); }

}  // namespace iafs
