// Content hashes: SHA-256 names blobs (and is shown to users), XXH3 checks them.
#pragma once

#include <cstdint>
#include <span>

#include "imageattachfs/blob_store.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace iafs {

BlobId sha256_of(std::span<const uint8_t> bytes);
uint64_t xxh3_of(std::span<const uint8_t> bytes);

// SHA-256 of bytes given in pieces.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::span<const uint8_t> bytes);
  BlobId finish();

 private:
  evp_md_ctx_st* ctx_;
};

}  // namespace iafs
