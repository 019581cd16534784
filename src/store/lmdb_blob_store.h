// The default BlobStore: blob bytes in LMDB, in chunks of kChunkSize, so that
// LMDB never needs long runs of contiguous free pages (DESIGN §5a). Its
// batches are the store's write transactions (StoreTxn).
#pragma once

#include "imageattachfs/blob_store.h"
#include "store/lmdb.h"

namespace iafs {

class LmdbBlobStore final : public BlobStore {
 public:
  static constexpr uint64_t kChunkSize = uint64_t{256} * 1024;

  explicit LmdbBlobStore(LmdbEnv& env) : env_(env) {}

  Status put(BlobBatch& batch, const BlobId& id, std::span<const uint8_t> bytes) override;
  Status remove(BlobBatch& batch, const BlobId& id, uint64_t size) override;
  // Each read is one read transaction; the pieces point into the map.
  Status read(const BlobId& id, uint64_t size, uint64_t offset, uint64_t length,
              const BlobReadSink& sink) override;

 private:
  LmdbEnv& env_;
};

}  // namespace iafs
