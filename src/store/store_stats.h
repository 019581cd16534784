// imageattachfs stat: what a store holds, per type, from one read
// transaction over its set and thumbnail records (no blob is read).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "imageattachfs/result.h"

namespace iafs {

struct TypeStats {
  uint64_t sets = 0;  // image sets: each holds exactly one original
  uint64_t original_bytes = 0;
  uint64_t thumbnails = 0;
  uint64_t thumbnail_bytes = 0;
};

struct StoreStats {
  std::map<std::string, TypeStats> types;  // the types that hold a record, by name
  TypeStats total;
  uint64_t file_bytes = 0;  // data.mdb's size (LMDB never shrinks it; freed pages are reused)
  // A bucket's store: the last log entry applied, and the blob bytes cached.
  std::optional<uint64_t> log_seq;
  std::optional<uint64_t> cached_bytes;
};

// Reads the store in `dir`: opened read-only (MDB_RDONLY, the readers' lock
// table shared), so it runs beside a daemon serving the store, in one
// snapshot. Sizes as ls -l shows them (identical bytes in two sets count
// twice). Cost: one cursor walk over the set and thumbnail records.
// Errors: kNotFound when `dir` holds no store (no data.mdb), kIo otherwise.
Result<StoreStats> read_store_stats(const std::string& dir);

}  // namespace iafs
