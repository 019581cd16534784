#include "store/lmdb_blob_store.h"

#include <algorithm>
#include <vector>

#include "store/keys.h"
#include "store/lmdb.h"

namespace iafs {
namespace {

StoreTxn* write_txn_of(BlobBatch& batch) {
  auto* txn = dynamic_cast<StoreTxn*>(&batch);
  return txn != nullptr && txn->is_write() ? txn : nullptr;
}

Error foreign_batch() {
  return make_error(ErrorCode::kIo, "a blob change outside the store's write transaction");
}

}  // namespace

Status LmdbBlobStore::put(BlobBatch& batch, const BlobId& id, std::span<const uint8_t> bytes) {
  StoreTxn* txn_ptr = write_txn_of(batch);
  if (txn_ptr == nullptr) return foreign_batch();
  StoreTxn& txn = *txn_ptr;
  for (uint64_t off = 0, n = 0; off < bytes.size(); off += kChunkSize, ++n) {
    auto chunk = bytes.subspan(off, std::min<uint64_t>(kChunkSize, bytes.size() - off));
    if (Status s = txn.put(txn.dbs().chunks, chunk_key(id, static_cast<uint32_t>(n)), chunk); !s) {
      return s;
    }
  }
  return Status::Ok();
}

Status LmdbBlobStore::remove(BlobBatch& batch, const BlobId& id, uint64_t size) {
  StoreTxn* txn = write_txn_of(batch);
  if (txn == nullptr) return foreign_batch();
  uint64_t chunks = (size + kChunkSize - 1) / kChunkSize;
  for (uint64_t n = 0; n < chunks; ++n) {
    if (Status s = txn->del(txn->dbs().chunks, chunk_key(id, static_cast<uint32_t>(n))); !s) {
      return s;
    }
  }
  return Status::Ok();
}

Status LmdbBlobStore::read(const BlobId& id, uint64_t size, uint64_t offset, uint64_t length,
                           const BlobReadSink& sink) {
  StoreTxn txn(env_, false);
  if (!txn.ok()) return txn.error();
  uint64_t end = std::min(size, offset + length);
  std::vector<std::span<const uint8_t>> pieces;
  for (uint64_t pos = offset; pos < end;) {
    uint64_t n = pos / kChunkSize;
    auto chunk = txn.get(txn.dbs().chunks, chunk_key(id, static_cast<uint32_t>(n)));
    if (!chunk) return chunk.error();
    if (!chunk->has_value()) {
      return make_error(ErrorCode::kIo,
                        "blob " + blob_id_hex(id) + " is missing chunk " + std::to_string(n));
    }
    std::span<const uint8_t> bytes = **chunk;
    uint64_t in_chunk = pos - n * kChunkSize;
    if (in_chunk >= bytes.size()) {
      return make_error(ErrorCode::kIo, "blob " + blob_id_hex(id) + " has a short chunk");
    }
    uint64_t take = std::min<uint64_t>(bytes.size() - in_chunk, end - pos);
    pieces.push_back(bytes.subspan(in_chunk, take));
    pos += take;
  }
  sink(pieces);
  return Status::Ok();
}

}  // namespace iafs
