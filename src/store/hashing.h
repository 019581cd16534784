// Content hashes: SHA-256 names blobs (and is shown to users), XXH3 checks them.
#pragma once

#include <cstdint>
#include <span>

#include "imageattachfs/blob_store.h"

namespace iafs {

BlobId sha256_of(std::span<const uint8_t> bytes);
uint64_t xxh3_of(std::span<const uint8_t> bytes);

}  // namespace iafs
