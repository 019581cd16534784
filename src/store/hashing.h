// Content hashes: SHA-256 names blobs (and is shown to users), XXH3 checks them.
#pragma once

#include <cstdint>
#include <span>

#include "imageattachfs/blob_store.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX
struct XXH3_state_s;   // xxhash's XXH3_state_t

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

// XXH3-64 of bytes given in pieces.
class Xxh3 {
 public:
  Xxh3();
  ~Xxh3();
  Xxh3(const Xxh3&) = delete;
  Xxh3& operator=(const Xxh3&) = delete;

  void update(std::span<const uint8_t> bytes);
  uint64_t finish();

 private:
  XXH3_state_s* state_;
};

}  // namespace iafs
