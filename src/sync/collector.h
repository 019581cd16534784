// Garbage collection of a bucket (SCALEOUT.md §9), run by maintenance
// hosts. The unit is a sha: b/<sha> and every t/<sha>/... object. A listing
// only proposes; every decision is a log entry, applied alike by every host
// (store_gc.cc):
// 1. condemn: shas in b/ or t/ that no set names, whose objects are older
//    than the grace (so an upload in flight is not taken), every
//    `interval`; a listing that fails aborts the run;
// 2. sweep: shas condemned at least the grace ago (in entry time) and not
//    revived by an attach since;
// 3. DELETE b/<sha> and t/<sha>/* of every sha the state, caught up to the
//    log's head, says this host's sweep took (or another's over an hour
//    ago: that host died), then swept: each becomes a tombstone, against
//    which an attach of a writer that found the blob before the DELETE is
//    refused. Only the sweeping host deletes, before its swept: a DELETE
//    can never follow a swept, after which writers put the bytes again.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "imageattachfs/result.h"
#include "s3/client.h"
#include "store/store.h"
#include "sync/log_thread.h"

namespace iafs::sync {

struct CollectorOptions {
  std::string host;  // this host's uuid: it deletes what its own sweeps took
  int64_t grace_ns = int64_t{24} * 3600 * 1'000'000'000;     // -o s3_gc_grace=
  int64_t interval_ns = int64_t{24} * 3600 * 1'000'000'000;  // -o s3_gc_interval=
};

class Collector {
 public:
  // The client, store and log thread outlive it.
  Collector(s3::Client& client, Store& store, LogThread& log, CollectorOptions options)
      : client_(client), store_(store), log_(log), options_(std::move(options)) {}

  // One round: deletes what is sweeping, sweeps what is due, and condemns
  // when a listing is due. Called by the maintenance thread, once a second.
  void run_once();

 private:
  // The shas to condemn: listed in b/ or t/, named by no set, not already
  // condemned or sweeping, older than the grace.
  Result<std::vector<BlobId>> proposals();
  Status remove_objects(const BlobId& id);
  // Appends `kind` steps for `shas` (at most kMaxShas an op).
  Status append(GcStep::Kind kind, const std::vector<BlobId>& shas);

  s3::Client& client_;
  Store& store_;
  LogThread& log_;
  const CollectorOptions options_;
  int64_t next_listing_ns_ = 0;  // monotonic; 0: at the first round
};

}  // namespace iafs::sync
