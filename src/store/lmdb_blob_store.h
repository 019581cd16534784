// The default BlobStore: blob bytes in LMDB, in chunks of kChunkSize, so that
// LMDB never needs long runs of contiguous free pages (DESIGN §5a). Its
// batches are the store's write transactions (StoreTxn).
#pragma once

#include <span>
#include <vector>

#include "imageattachfs/blob_store.h"
#include "store/lmdb.h"

namespace iafs {

class LmdbBlobStore final : public BlobStore {
 public:
  static constexpr uint64_t kChunkSize = uint64_t{256} * 1024;
  static_assert(kRangeAlign % kChunkSize == 0);

  explicit LmdbBlobStore(LmdbEnv& env) : env_(env) {}

  Status put(BlobBatch& batch, const BlobId& id, const BlobSource& source) override;
  Status remove(BlobBatch& batch, const BlobId& id, uint64_t size) override;
  Status put_range(BlobBatch& batch, const BlobId& id, uint64_t offset,
                   std::span<const uint8_t> bytes) override;
  Result<bool> holds(BlobBatch& batch, const BlobId& id, uint64_t offset) override;
  // Each read is one read transaction; the pieces point into the map, and
  // the map's pages they covered are released from the daemon's resident
  // memory once `sink` returns (they stay in the page cache).
  Status read(const BlobId& id, uint64_t size, uint64_t offset, uint64_t length,
              const BlobReadSink& sink) override;
  // Each chunk's pages are released as soon as they are copied.
  Status read_into(const BlobId& id, uint64_t size, uint64_t offset,
                   std::span<uint8_t> out) override;
  // The same read as read() within `txn` (a snapshot that outlives one
  // call: export).
  static Status read_in(StoreTxn& txn, const BlobId& id, uint64_t size, uint64_t offset,
                        uint64_t length, const BlobReadSink& sink);

 private:
  static Status pieces_of(StoreTxn& txn, const BlobId& id, uint64_t size, uint64_t offset,
                          uint64_t length, std::vector<std::span<const uint8_t>>& pieces);

  LmdbEnv& env_;
};

}  // namespace iafs
