// A consistent read of a whole store for the admin commands (export): one
// LMDB read transaction held from open() to destruction. The environment is
// opened read-only (MDB_RDONLY, with LMDB's reader table, as fsck does), so a
// snapshot can be taken beside a daemon writing the store. While it is held
// LMDB cannot reuse the pages it reads: the store's file may grow meanwhile.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>

#include "imageattachfs/blob_store.h"
#include "imageattachfs/result.h"
#include "store/lmdb.h"
#include "store/store.h"

namespace iafs {

class StoreSnapshot {
 public:
  // The store in `dir` as it is now. kIo when it is absent or unreadable.
  static Result<std::unique_ptr<StoreSnapshot>> open(const std::string& dir);

  // Whether the store is a bucket's (Store::begin_log): it holds only the
  // bytes its host has read.
  Result<bool> on_bucket();
  // The number of image sets (records holding an original).
  uint64_t set_count() const;
  // Every set in key order (the listing order), with its thumbnails; `fn`
  // returns false to stop.
  Status for_each_set(const std::function<bool(StoredSet&&)>& fn);
  // Bytes [offset, offset + length) of blob `id` of `size` bytes as of the
  // snapshot; pieces valid during `sink` only.
  Status read_blob(const BlobId& id, uint64_t size, uint64_t offset, uint64_t length,
                   const BlobReadSink& sink);

 private:
  StoreSnapshot(std::unique_ptr<LmdbEnv> env) : env_(std::move(env)) {}
  std::unique_ptr<LmdbEnv> env_;
  std::unique_ptr<StoreTxn> txn_;  // destroyed before env_
};

// The sets whose keys start with `prefix`, in key order, with their
// thumbnails, read within `txn`; `fn` returns false to stop. A malformed
// record: kIo ("corrupt record: ...").
Status read_sets_in(StoreTxn& txn, std::span<const uint8_t> prefix,
                    const std::function<bool(StoredSet&&)>& fn);

}  // namespace iafs
