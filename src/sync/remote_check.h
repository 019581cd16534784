// fsck --remote (SCALEOUT.md §8 step 4): what a bucket holds, checked
// without any host. The newest readable snapshot (every part's XXH3, the
// stream's SHA-256) at an entry of this log; the log kept contiguous and
// chained by prev from fs.json or the snapshot to its head, every entry
// decodable; and every original the state at the head names present in
// b/ at its size. The state is rebuilt in a scratch store to know that.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "imageattachfs/result.h"
#include "s3/client.h"

namespace iafs::sync {

struct RemoteReport {
  uint64_t first_seq = 0;  // the oldest entry kept (0: none)
  uint64_t head_seq = 0;
  uint64_t snapshot_seq = 0;  // the snapshot the state started from (0: log/1)
  uint64_t snapshot_records = 0;
  uint64_t entries_applied = 0;
  uint64_t originals = 0;             // distinct blobs the sets name
  std::vector<std::string> problems;  // one line each; empty: clean
};

// Checks the bucket `client` reaches; `scratch_dir` (made, then removed by
// the caller) holds the rebuilt state. An Error when the bucket cannot be
// read at all (no fs.json, a failing request).
Result<RemoteReport> check_remote(s3::Client& client, const std::string& scratch_dir);

}  // namespace iafs::sync
