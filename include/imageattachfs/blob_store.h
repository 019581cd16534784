// The blob-store interface: where the bytes of originals and thumbnails live.
// Blobs are immutable and named by the SHA-256 of their bytes (DESIGN §5a).
// The default implementation keeps them in LMDB in chunks; an S3-backed
// cache can be added behind the same interface without touching fs/.
// Nothing here names a storage engine: the store that owns a BlobStore hands
// it the BlobBatch its records are written in.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "imageattachfs/result.h"

namespace iafs {

// SHA-256 of a blob's bytes.
using BlobId = std::array<uint8_t, 32>;

// Lowercase hex of a BlobId (64 characters).
std::string blob_id_hex(const BlobId& id);

// A group of changes that become durable together, when the store that
// began it commits it (records and blob bytes in one step). Opaque here: each
// BlobStore accepts only the batches of the store it belongs to.
class BlobBatch {
 public:
  virtual ~BlobBatch() = default;
};

// Receives the pieces of a read in order. The pieces are valid only during the
// call (they may point into the store's memory map).
using BlobReadSink = std::function<void(std::span<const std::span<const uint8_t>> pieces)>;

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // Makes `bytes` durable under `id` when `batch` commits, replacing any bytes
  // stored under `id`. REQUIRES: id is the SHA-256 of bytes.
  virtual Status put(BlobBatch& batch, const BlobId& id, std::span<const uint8_t> bytes) = 0;

  // Removes blob `id` of `size` bytes when `batch` commits.
  virtual Status remove(BlobBatch& batch, const BlobId& id, uint64_t size) = 0;

  // Reads bytes [offset, offset + length) of the committed blob `id` (of
  // `size` bytes) and hands them to `sink` in one call. A range past the end
  // is cut short. Errors: kIo when the blob's bytes are missing or short.
  virtual Status read(const BlobId& id, uint64_t size, uint64_t offset, uint64_t length,
                      const BlobReadSink& sink) = 0;
};

}  // namespace iafs
