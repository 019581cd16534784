// fsck: a walk over the store's records (sets, thumbnails), blobs and chunks
// (DESIGN §5a) that reports what is inconsistent or damaged and, on request,
// repairs what it can without losing an original.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "imageattachfs/result.h"

namespace iafs {

struct FsckOptions {
  // Fix what can be fixed: recompute reference counts, drop orphan chunks and
  // blobs, drop thumbnail records whose blob is damaged (they are remade on
  // read), rebuild a missing blob record from chunks that hash to its id.
  // Never drops a set record nor an original's bytes.
  bool repair = false;
};

struct FsckSummary {
  uint64_t sets = 0;           // set records walked
  uint64_t thumbnails = 0;     // thumbnail records walked
  uint64_t blobs = 0;          // blob records walked
  uint64_t bytes_checked = 0;  // blob bytes hashed (XXH3 and SHA-256)
  uint64_t findings = 0;       // lines reported
  uint64_t repaired = 0;       // of them, fixed (only with repair)
  uint64_t notes = 0;          // lines reported that are not damage
};

// Receives one line per finding, as it is to be printed.
using FsckReport = std::function<void(const std::string& line)>;

// Checks the store in directory `dir`, reporting each finding to `report`.
// Without repair the environment is opened read-only (MDB_RDONLY) and read in
// one snapshot, so it runs beside a daemon serving the store. With repair
// everything is changed in one write transaction.
// REQUIRES (repair): the caller holds the store's exclusive lock.
// Errors: kIo when the store is absent or cannot be read.
Result<FsckSummary> fsck_store(const std::string& dir, const FsckOptions& options,
                               const FsckReport& report);

// "3 sets, 2 thumbnails, 5 blobs, 81234 bytes checked; 1 finding, 0 repaired, 1 left".
std::string fsck_summary_line(const FsckSummary& summary);

// 0: nothing found; 1: everything found was repaired; 2: damage left.
int fsck_exit_status(const FsckSummary& summary);

}  // namespace iafs
