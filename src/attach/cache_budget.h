// -o cache_size=SIZE on a bucket's store (SCALEOUT.md §10): the bytes of the
// blobs the host caches (originals and thumbnails) kept under SIZE, off the
// FUSE threads. Records are never evicted, and nothing in the bucket is.
//
// Above the budget a pass frees down to 9/10 of it: first the cached bytes of
// originals, least recently read first (reads are noted in memory; one not
// read since the mount counts as oldest), which a later read fetches again
// from b/<sha256> (Store::uncache_blob); then, if that was not enough,
// thumbnails, as -o thumb_budget evicts them (fetched again from t/ or made
// again). An original held by a read (fetching and reading it) is kept, and
// so is one read less than kGrace ago.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>

#include "attach/metrics.h"
#include "attach/thumbnail_budget.h"
#include "imageattachfs/result.h"
#include "imageattachfs/schema.h"
#include "store/store.h"

namespace iafs {

class CacheBudget {
 public:
  static constexpr int64_t kGrace = 2ll * 1000000000;  // ns a just-read original is kept

  CacheBudget(Store& store, const Schema& schema, uint64_t budget, EvictedFn evicted);
  ~CacheBudget();  // stops the thread
  CacheBudget(const CacheBudget&) = delete;
  CacheBudget& operator=(const CacheBudget&) = delete;

  // Starts the background thread (after any fork()).
  void start();
  void stop();

  // Original `id` was read (or fetched) now.
  void used(const BlobId& id);

  // Keeps original `id`'s bytes from eviction while one read fetches and
  // reads them (however long a slow bucket takes), then notes it used.
  class Hold {
   public:
    Hold(CacheBudget& cache, const BlobId& id);
    ~Hold();
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    CacheBudget& cache_;
    BlobId id_;
  };

  // One pass: frees cached bytes down to 9/10 of the budget if they are above it.
  Status run_once();

  // How many originals' last reads are noted: at most kMaxNoted (tests).
  size_t noted();
  static constexpr size_t kMaxNoted = 1 << 16;

  uint64_t budget() const { return budget_; }
  uint64_t evicted_originals() const { return evicted_originals_.value(); }
  uint64_t evicted_bytes() const { return evicted_bytes_.value(); }

 private:
  void loop();

  Store& store_;
  const Schema& schema_;
  const uint64_t budget_;
  EvictedFn evicted_fn_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<BlobId, int64_t> uses_;  // the last read of each original noted (mutex_)
  std::map<BlobId, int> holds_;     // the reads of each original under way (mutex_)
  bool stopping_ = false;           // mutex_
  std::thread thread_;
  Counter evicted_originals_;
  Counter evicted_bytes_;
};

}  // namespace iafs
