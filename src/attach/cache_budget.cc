#include "attach/cache_budget.h"

#include <algorithm>
#include <set>
#include <vector>

#include "base/clock.h"
#include "log/log.h"

namespace iafs {

CacheBudget::CacheBudget(Store& store, const Schema& schema, uint64_t budget, EvictedFn evicted)
    : store_(store), schema_(schema), budget_(budget), evicted_fn_(std::move(evicted)) {}

CacheBudget::~CacheBudget() { stop(); }

void CacheBudget::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { loop(); });
}

void CacheBudget::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CacheBudget::used(const BlobId& id) {
  int64_t now = now_ns();
  std::lock_guard lock(mutex_);
  auto it = uses_.find(id);
  if (it != uses_.end()) {
    it->second = std::max(it->second, now);
    return;
  }
  if (uses_.size() >= kMaxNoted) {
    // Forget the older half at once (they are evicted first either way): a
    // scan per new original would hold up every reader once the map is full.
    std::vector<int64_t> times;
    times.reserve(uses_.size());
    for (const auto& [_, time] : uses_) times.push_back(time);
    auto middle = times.begin() + static_cast<ptrdiff_t>(times.size() / 2);
    std::nth_element(times.begin(), middle, times.end());
    int64_t cut = *middle;
    std::erase_if(uses_, [cut](const auto& use) { return use.second <= cut; });
  }
  uses_.emplace(id, now);
}

CacheBudget::Hold::Hold(CacheBudget& cache, const BlobId& id) : cache_(cache), id_(id) {
  std::lock_guard lock(cache_.mutex_);
  ++cache_.holds_[id_];
}

CacheBudget::Hold::~Hold() {
  {
    std::lock_guard lock(cache_.mutex_);
    auto it = cache_.holds_.find(id_);
    if (--it->second == 0) cache_.holds_.erase(it);
  }
  try {
    cache_.used(id_);
  } catch (...) {  // bad_alloc: only the note of its use is lost
  }
}

size_t CacheBudget::noted() {
  std::lock_guard lock(mutex_);
  return uses_.size();
}

Status CacheBudget::run_once() {
  auto cached = store_.cached_bytes();
  if (!cached) return cached.error();
  if (!*cached || **cached <= budget_) return Status::Ok();
  const uint64_t target = budget_ - budget_ / 10;
  uint64_t excess = **cached - target;
  int64_t now = now_ns();
  struct Candidate {
    BlobId id{};
    uint64_t size = 0;
    int64_t used_ns = 0;
  };
  std::vector<Candidate> candidates;
  uint64_t held = 0;  // the bytes of originals reads hold: kept, over the budget if need be
  {
    std::map<BlobId, int64_t> noted;
    std::set<BlobId> holding;
    {
      std::lock_guard lock(mutex_);
      noted = uses_;
      for (const auto& [id, _] : holds_) holding.insert(id);
    }
    Status scanned = store_.scan_cached_originals([&](const BlobId& id, uint64_t size) {
      if (holding.contains(id)) {
        held += size;
        return true;
      }
      auto it = noted.find(id);
      int64_t used = it == noted.end() ? 0 : it->second;
      // Checked again before it is evicted (holds_).
      if (now - used >= kGrace) candidates.push_back({id, size, used});
      return true;
    });
    if (!scanned) return scanned.error();
  }
  if (held >= excess) return Status::Ok();
  excess -= held;
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& a, const Candidate& b) { return a.used_ns < b.used_ns; });
  uint64_t freed = 0;
  uint64_t originals = 0;
  for (const Candidate& c : candidates) {
    if (freed >= excess) break;
    {
      // A read that holds it from here on and finds it gone fetches it again.
      std::lock_guard lock(mutex_);
      if (holds_.contains(c.id)) continue;
      uses_.erase(c.id);
    }
    if (Status s = store_.uncache_blob(c.id); !s) return s;
    freed += c.size;
    ++originals;
  }
  evicted_originals_.add(originals);
  evicted_bytes_.add(freed);
  uint64_t thumbnails = 0;
  if (freed < excess) {
    auto totals = store_.totals();
    if (!totals) return totals.error();
    uint64_t more = excess - freed;
    uint64_t keep = totals->thumbnail_bytes > more ? totals->thumbnail_bytes - more : 0;
    auto summary =
        evict_thumbnails_to(store_, schema_, keep, now - ThumbnailBudget::kGrace, {}, evicted_fn_);
    if (!summary) return summary.error();
    thumbnails = summary->thumbnails;
    evicted_bytes_.add(summary->bytes);
  }
  log_debug("cache_size: evicted the bytes of " + std::to_string(originals) + " originals (" +
            std::to_string(freed) + " bytes) and " + std::to_string(thumbnails) + " thumbnails");
  return Status::Ok();
}

void CacheBudget::loop() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(500), [&] { return stopping_; });
      if (stopping_) break;
    }
    if (Status s = run_once(); !s) log_warning("cache_size: " + s.error().message);
  }
}

}  // namespace iafs
