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
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "imageattachfs/result.h"

namespace iafs {

// SHA-256 of a blob's bytes.
using BlobId = std::array<uint8_t, 32>;

// Lowercase hex of a BlobId (64 characters).
std::string blob_id_hex(const BlobId& id);
// The BlobId 64 lowercase hex digits spell; nullopt for anything else.
std::optional<BlobId> blob_id_from_hex(std::string_view hex);

// A group of changes that become durable together, when the store that
// began it commits it (records and blob bytes in one step). Opaque here: each
// BlobStore accepts only the batches of the store it belongs to.
class BlobBatch {
 public:
  virtual ~BlobBatch() = default;
};

// The bytes a put stores, read piece by piece, so that a large original is
// never in memory twice (once as it was judged, once in the store's pages).
class BlobSource {
 public:
  virtual ~BlobSource() = default;
  virtual uint64_t size() const = 0;
  // Fills `out` with bytes [offset, offset + out.size()); kIo when it cannot.
  virtual Status read(uint64_t offset, std::span<uint8_t> out) const = 0;
};

// A BlobSource over bytes in memory.
class SpanSource final : public BlobSource {
 public:
  explicit SpanSource(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  uint64_t size() const override { return bytes_.size(); }
  Status read(uint64_t offset, std::span<uint8_t> out) const override;

 private:
  std::span<const uint8_t> bytes_;
};

// Receives the pieces of a read in order. The pieces are valid only during the
// call (they may point into the store's memory map).
using BlobReadSink = std::function<void(std::span<const std::span<const uint8_t>> pieces)>;

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // Makes the bytes of `source` durable under `id` when `batch` commits,
  // replacing any bytes stored under `id`. kIo (and nothing stored) when the
  // bytes read do not hash to `id`: a source that changed while it was read.
  virtual Status put(BlobBatch& batch, const BlobId& id, const BlobSource& source) = 0;

  // Removes blob `id` of `size` bytes when `batch` commits: all of its
  // bytes stored, or those of the ranges put_range stored.
  virtual Status remove(BlobBatch& batch, const BlobId& id, uint64_t size) = 0;

  // A piece of a blob fetched before the rest (a cache of a bucket's bytes):
  // stores `bytes` as bytes [offset, offset + bytes.size()) of blob `id`
  // when `batch` commits. `offset` is a multiple of kRangeAlign, and so is
  // the piece's length unless it ends the blob. Unchecked: only the whole
  // can be compared with `id`.
  static constexpr uint64_t kRangeAlign = uint64_t{1} << 20;
  virtual Status put_range(BlobBatch& batch, const BlobId& id, uint64_t offset,
                           std::span<const uint8_t> bytes) = 0;
  // Whether the byte at `offset` of blob `id` is stored, as `batch` sees it.
  virtual Result<bool> holds(BlobBatch& batch, const BlobId& id, uint64_t offset) = 0;

  // Reads bytes [offset, offset + length) of the committed blob `id` (of
  // `size` bytes) and hands them to `sink` in one call. A range past the end
  // is cut short. Errors: kIo when the blob's bytes are missing or short.
  virtual Status read(const BlobId& id, uint64_t size, uint64_t offset, uint64_t length,
                      const BlobReadSink& sink) = 0;

  // Copies bytes [offset, offset + out.size()) of the committed blob `id` (of
  // `size` bytes) into `out`: for whole originals read to be resized, which
  // are then in memory once, in `out`. kIo when the blob is missing or short.
  virtual Status read_into(const BlobId& id, uint64_t size, uint64_t offset,
                           std::span<uint8_t> out) = 0;
};

}  // namespace iafs
