#include "store/lmdb_blob_store.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "store/hashing.h"
#include "store/keys.h"
#include "store/lmdb.h"

namespace iafs {
namespace {

StoreTxn* write_txn_of(BlobBatch& batch) {
  auto* txn = dynamic_cast<StoreTxn*>(&batch);
  return txn != nullptr && txn->is_write() ? txn : nullptr;
}

// Drops the map's pages wholly inside `bytes` from the daemon's resident set
// (MADV_DONTNEED on a read-only shared mapping: the next access maps them
// again from the page cache). A resize reads a whole original and a reply
// copies what it read into the kernel: without this every blob ever read
// would stay resident, and a 130 MB PNG made a thumbnail peak at twice it.
void release_pages(std::span<const uint8_t> bytes) {
  static const auto kPage = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  auto begin = (reinterpret_cast<uintptr_t>(bytes.data()) + kPage - 1) & ~(kPage - 1);
  auto end = (reinterpret_cast<uintptr_t>(bytes.data()) + bytes.size()) & ~(kPage - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

Error foreign_batch() {
  return make_error(ErrorCode::kIo, "a blob change outside the store's write transaction");
}

}  // namespace

Status LmdbBlobStore::put(BlobBatch& batch, const BlobId& id, const BlobSource& source) {
  StoreTxn* txn_ptr = write_txn_of(batch);
  if (txn_ptr == nullptr) return foreign_batch();
  StoreTxn& txn = *txn_ptr;
  Sha256 hash;
  uint64_t size = source.size();
  for (uint64_t off = 0, n = 0; off < size; off += kChunkSize, ++n) {
    // Read straight into the chunk's own page: no copy of the blob beside it.
    auto room = txn.reserve(txn.dbs().chunks, chunk_key(id, static_cast<uint32_t>(n)),
                            std::min<uint64_t>(kChunkSize, size - off));
    if (!room) return room.error();
    if (Status s = source.read(off, *room); !s) return s;
    hash.update(*room);
  }
  if (hash.finish() != id) {
    return make_error(ErrorCode::kIo, "bytes changed while they were stored as blob " +
                                          blob_id_hex(id) + ": nothing stored");
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

Status LmdbBlobStore::put_range(BlobBatch& batch, const BlobId& id, uint64_t offset,
                                std::span<const uint8_t> bytes) {
  StoreTxn* txn = write_txn_of(batch);
  if (txn == nullptr) return foreign_batch();
  if (offset % kRangeAlign != 0) {
    return make_error(ErrorCode::kInvalid, "a blob range at an unaligned offset");
  }
  for (uint64_t at = 0; at < bytes.size(); at += kChunkSize) {
    auto n = static_cast<uint32_t>((offset + at) / kChunkSize);
    auto chunk = bytes.subspan(at, std::min<uint64_t>(kChunkSize, bytes.size() - at));
    if (Status s = txn->put(txn->dbs().chunks, chunk_key(id, n), chunk); !s) return s;
  }
  return Status::Ok();
}

Result<bool> LmdbBlobStore::holds(BlobBatch& batch, const BlobId& id, uint64_t offset) {
  auto* txn = dynamic_cast<StoreTxn*>(&batch);
  if (txn == nullptr) return foreign_batch();
  auto chunk =
      txn->get(txn->dbs().chunks, chunk_key(id, static_cast<uint32_t>(offset / kChunkSize)));
  if (!chunk) return chunk.error();
  return chunk->has_value();
}

Status LmdbBlobStore::read(const BlobId& id, uint64_t size, uint64_t offset, uint64_t length,
                           const BlobReadSink& sink) {
  StoreTxn txn(env_, false);
  if (!txn.ok()) return txn.error();
  return read_in(txn, id, size, offset, length, sink);
}

Status LmdbBlobStore::read_in(StoreTxn& txn, const BlobId& id, uint64_t size, uint64_t offset,
                              uint64_t length, const BlobReadSink& sink) {
  std::vector<std::span<const uint8_t>> pieces;
  if (Status s = pieces_of(txn, id, size, offset, length, pieces); !s) return s;
  sink(pieces);
  for (auto piece : pieces) release_pages(piece);
  return Status::Ok();
}

Status LmdbBlobStore::read_into(const BlobId& id, uint64_t size, uint64_t offset,
                                std::span<uint8_t> out) {
  StoreTxn txn(env_, false);
  if (!txn.ok()) return txn.error();
  std::vector<std::span<const uint8_t>> pieces;
  if (Status s = pieces_of(txn, id, size, offset, out.size(), pieces); !s) return s;
  uint64_t at = 0;
  for (auto piece : pieces) {
    if (piece.size() > out.size() - at) break;
    std::copy(piece.begin(), piece.end(), out.begin() + static_cast<ptrdiff_t>(at));
    at += piece.size();
    release_pages(piece);
  }
  if (at != out.size()) {
    return make_error(ErrorCode::kIo, "blob " + blob_id_hex(id) + " is shorter than the read");
  }
  return Status::Ok();
}

// The spans, in the map, of bytes [offset, offset + length) of blob `id`.
Status LmdbBlobStore::pieces_of(StoreTxn& txn, const BlobId& id, uint64_t size, uint64_t offset,
                                uint64_t length, std::vector<std::span<const uint8_t>>& pieces) {
  uint64_t end = std::min(size, offset + length);
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
  return Status::Ok();
}

}  // namespace iafs
