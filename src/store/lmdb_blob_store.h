// The default BlobStore: blob bytes in LMDB, in chunks of kChunkSize, so that
// LMDB never needs long runs of contiguous free pages (DESIGN §5a).
#pragma once

#include "imageattachfs/blob_store.h"

namespace iafs {

class LmdbBlobStore final : public BlobStore {
 public:
  static constexpr uint64_t kChunkSize = 256 * 1024;

  Status put(StoreTxn& txn, const BlobId& id, std::span<const uint8_t> bytes) override;
  Status remove(StoreTxn& txn, const BlobId& id, uint64_t size) override;
  Status read(StoreTxn& txn, const BlobId& id, uint64_t size, uint64_t offset, uint64_t length,
              const BlobReadSink& sink) override;
};

}  // namespace iafs
