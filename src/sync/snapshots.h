// Snapshots of the log's state in the bucket (SCALEOUT.md §8): the derived
// tables at seq s (Store::dump_derived) as zstd parts under
// snap/<s:020>/<host>/<part:06>.zst, then snap/<s:020>/index, created only if
// absent: the index names the parts that count. A snapshot without its index
// is incomplete and never read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "imageattachfs/result.h"
#include "s3/client.h"
#include "store/store.h"

namespace iafs::sync {

struct SnapshotPart {
  std::string key;     // under the mount's prefix
  uint64_t bytes = 0;  // of the object (compressed)
  uint64_t xxh3 = 0;   // of the object's bytes
};

// snap/<seq>/index.
struct SnapshotIndex {
  uint64_t seq = 0;
  std::string entry_sha256;  // of log/<seq>'s bytes: log/<seq+1>'s prev
  int64_t time_ns = 0;       // log/<seq>'s time_ns
  std::string host;          // the writer
  std::vector<SnapshotPart> parts;
  uint64_t records = 0;
  std::string stream_sha256;  // of the uncompressed stream: the same from every correct host
};

std::string encode_snapshot_index(const SnapshotIndex& index);
// kInvalid, one line, for anything but an index of format 1.
Result<SnapshotIndex> decode_snapshot_index(std::string_view bytes);

// "snap/00000000000000001234/": the prefix of snapshot `seq`.
std::string snapshot_prefix(uint64_t seq);

// A snapshot read back: its index and its stream's parts, uncompressed.
struct FetchedSnapshot {
  SnapshotIndex index;
  std::vector<std::string> parts;
};

// The snapshots of the bucket `client` reaches (it outlives this).
class Snapshots {
 public:
  explicit Snapshots(s3::Client& client) : client_(client) {}

  // What put() did.
  struct Written {
    bool created = false;  // false: another host's index was there (our parts are deleted)
    std::string diverged;  // not empty: that index's stream differs from ours, and why
  };
  // Writes `dump` (at dump.at.seq > 0) as host `host`'s snapshot.
  Result<Written> put(const DerivedDump& dump, const std::string& host, s3::Deadline deadline);
  // Every snapshot's seq, ascending, and whether it is complete (has an index).
  Result<std::vector<std::pair<uint64_t, bool>>> list(s3::Deadline deadline);
  // The seqs of the complete snapshots, ascending.
  Result<std::vector<uint64_t>> complete(s3::Deadline deadline);
  // Snapshot `seq`: its parts fetched, each checked against the index's XXH3
  // and the whole stream against its SHA-256 (kIo when one differs or is missing).
  Result<FetchedSnapshot> get(uint64_t seq, s3::Deadline deadline);
  // Deletes snapshot `seq`: its index first (so no host starts reading it),
  // then every object under its prefix.
  Status remove(uint64_t seq, s3::Deadline deadline);

 private:
  // Deletes every object under `prefix`.
  Status remove_all(const std::string& prefix, s3::Deadline deadline);

  s3::Client& client_;
};

}  // namespace iafs::sync
