// -o thumb_budget=SIZE: the thumbnails' bytes kept under a budget by evicting
// the least recently used (approximately), off the FUSE threads; originals
// never. `imageattachfs gc --budget` runs the same pass on an unmounted store.
//
// Last use: each thumbnail record keeps used_ns (made, or read). Reads do not
// write: a lookup or open of a thumbnail notes its time in memory here, and
// the background thread writes the noted times in one transaction every few
// seconds, each thumbnail's at most once per kUseResolution. An eviction pass
// orders by the later of the stored and the noted time, so the order is
// exact within this mount's recent reads and within kUseResolution across
// restarts (and for gc).
//
// A pass walks the thumbnail records (no blob is read) and evicts, oldest
// first, down to 7/8 of the budget, so that a store at its budget does not
// walk for every thumbnail made. Evicting is `rm thumb/X`: the record goes,
// the blob when no record and no open file holds it; a file open on it keeps
// reading its pinned bytes whole, and the next lookup makes it again. A
// thumbnail used less than kGrace ago is not evicted (the reader that made it
// is about to pin it): the budget may be exceeded by that much for a moment.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "attach/metrics.h"
#include "imageattachfs/image_path.h"
#include "imageattachfs/result.h"
#include "imageattachfs/schema.h"
#include "store/store.h"

namespace iafs {

struct EvictionSummary {
  uint64_t thumbnails = 0;  // evicted
  uint64_t bytes = 0;
};

// The thumbnail at `path` whose revision was `revision`, evicted.
struct EvictedThumbnail {
  ImagePath path;
  uint64_t revision = 0;
};
// Told of each batch evicted, after its commit (to invalidate the kernels' entries).
using EvictedFn = std::function<void(const std::vector<EvictedThumbnail>&)>;

// One eviction pass: the least recently used thumbnails go until the
// thumbnails' bytes are at most `target`. `used_of` gives a record's last use
// (default: its used_ns); records used at or after `newest_ns` stay.
// `schema` names the paths told to `evicted` (a type it no longer has is
// evicted all the same, and not told).
Result<EvictionSummary> evict_thumbnails_to(
    Store& store, const Schema& schema, uint64_t target, int64_t newest_ns,
    const std::function<int64_t(const ThumbnailRef&, const ThumbRecord&)>& used_of,
    const EvictedFn& evicted);

class ThumbnailBudget {
 public:
  static constexpr int64_t kUseResolution = 60ll * 1000000000;  // ns between writes of one's use
  static constexpr int64_t kGrace = 1ll * 1000000000;           // ns a just-used one is kept

  // A budget of `budget` bytes (> 0) for the thumbnails of `store`.
  ThumbnailBudget(Store& store, const Schema& schema, uint64_t budget, EvictedFn evicted);
  ~ThumbnailBudget();  // stops the thread
  ThumbnailBudget(const ThumbnailBudget&) = delete;
  ThumbnailBudget& operator=(const ThumbnailBudget&) = delete;

  // Starts the background thread (after any fork()).
  void start();
  void stop();

  // The thumbnail at `path` (that revision) was used now: looked up or opened.
  void touch(const ImagePath& path, uint64_t revision);
  // A thumbnail was stored: wakes the thread to look at the total.
  void stored();

  // What the thread does when woken: writes the noted uses due, and runs a
  // pass if the thumbnails' bytes are over the budget.
  Status run_once();

  uint64_t budget() const { return budget_; }
  uint64_t evicted() const { return evicted_.value(); }
  uint64_t evicted_bytes() const { return evicted_bytes_.value(); }
  uint64_t passes() const { return passes_.value(); }

 private:
  using Key = std::pair<ImageSetKey, ThumbnailSpec>;
  struct Use {
    uint64_t revision = 0;
    int64_t at_ns = 0;       // the last use noted
    int64_t written_ns = 0;  // the last use offered to the store
  };
  static constexpr size_t kMaxNoted = 1 << 16;          // uses held at once, at most
  static constexpr int64_t kWriteEvery = 5000000000ll;  // ns between writes of noted uses

  Status write_uses(int64_t now, bool all);
  void loop();

  Store& store_;
  const Schema& schema_;
  const uint64_t budget_;
  EvictedFn evicted_fn_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<Key, Use> uses_;    // noted, not all written (mutex_)
  bool woken_ = false;         // mutex_
  int64_t last_write_ns_ = 0;  // the thread's
  bool stopping_ = false;      // mutex_
  std::thread thread_;
  Counter evicted_;
  Counter evicted_bytes_;
  Counter passes_;
};

}  // namespace iafs
