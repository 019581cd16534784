#include "attach/thumbnail_budget.h"

#include "attach/lru_choice.h"
#include "base/clock.h"
#include "log/log.h"
#include "path/path.h"

namespace iafs {
namespace {

constexpr size_t kMaxPerPass = 100000;  // chosen by one walk, at most (memory)
constexpr size_t kBatch = 256;          // evicted per write transaction
constexpr int kMaxPasses = 1000;

}  // namespace

Result<EvictionSummary> evict_thumbnails_to(
    Store& store, const Schema& schema, uint64_t target, int64_t newest_ns,
    const std::function<int64_t(const ThumbnailRef&, const ThumbRecord&)>& used_of,
    const EvictedFn& evicted) {
  EvictionSummary summary;
  for (int pass = 0; pass < kMaxPasses; ++pass) {
    auto totals = store.totals();
    if (!totals) return totals.error();
    if (totals->thumbnail_bytes <= target) break;
    LruChoice choice(totals->thumbnail_bytes - target, kMaxPerPass);
    Status scanned = store.scan_thumbnails([&](const ThumbnailRef& ref, const ThumbRecord& record) {
      int64_t used = used_of ? used_of(ref, record) : record.used_ns;
      if (used < newest_ns) choice.offer(ref, used);
      return true;
    });
    if (!scanned) return scanned.error();
    std::vector<ThumbnailRef> chosen = choice.take();
    uint64_t evicted_now = 0;
    for (size_t at = 0; at < chosen.size(); at += kBatch) {
      std::span<const ThumbnailRef> batch(chosen.data() + at, std::min(kBatch, chosen.size() - at));
      auto dropped = store.evict_thumbnails(batch);
      if (!dropped) return dropped.error();
      std::vector<EvictedThumbnail> told;
      for (const ThumbnailRef& ref : *dropped) {
        ++summary.thumbnails;
        summary.bytes += ref.size;
        ++evicted_now;
        const AttachmentSchema* attachment =
            schema.find_attachment(ref.set.type, ref.set.attachment);
        if (attachment == nullptr) continue;
        told.push_back({thumbnail_path(ref.set, attachment->multiple, ref.spec), ref.revision});
      }
      if (evicted && !told.empty()) evicted(told);
    }
    if (evicted_now == 0) break;  // all that is left is too recent (or gone meanwhile)
  }
  return summary;
}

ThumbnailBudget::ThumbnailBudget(Store& store, const Schema& schema, uint64_t budget,
                                 EvictedFn evicted)
    : store_(store), schema_(schema), budget_(budget), evicted_fn_(std::move(evicted)) {}

ThumbnailBudget::~ThumbnailBudget() { stop(); }

void ThumbnailBudget::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { loop(); });
}

void ThumbnailBudget::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ThumbnailBudget::touch(const ImagePath& path, uint64_t revision) {
  int64_t now = now_ns();
  std::lock_guard lock(mutex_);
  auto it = uses_.find(Key{path.set, path.thumbnail});
  if (it == uses_.end()) {
    if (uses_.size() >= kMaxNoted) return;  // noted again after the next write
    uses_.emplace(Key{path.set, path.thumbnail}, Use{revision, now, 0});
    return;
  }
  if (it->second.revision != revision) it->second = Use{revision, now, 0};
  it->second.at_ns = std::max(it->second.at_ns, now);
}

void ThumbnailBudget::stored() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_one();
}

// Offers the store each use not offered for kUseResolution; forgets the uses
// older than that (the store's time is then within kUseResolution of theirs).
// At the stop (`all`), every use not written yet.
Status ThumbnailBudget::write_uses(int64_t now, bool all) {
  const int64_t step = all ? 1 : kUseResolution;
  std::vector<std::pair<ThumbnailRef, int64_t>> due;
  {
    std::lock_guard lock(mutex_);
    for (auto& [key, use] : uses_) {
      if (use.at_ns - use.written_ns < step) continue;
      due.push_back({ThumbnailRef{key.first, key.second, use.revision, 0}, use.at_ns});
      use.written_ns = use.at_ns;
    }
  }
  Status written = store_.record_thumbnail_use(due, step);
  std::lock_guard lock(mutex_);
  std::erase_if(uses_, [&](const auto& entry) {
    return now - entry.second.at_ns >= kUseResolution && entry.second.written_ns != 0;
  });
  return written;
}

Status ThumbnailBudget::run_once() {
  int64_t now = now_ns();
  if (now - last_write_ns_ >= kWriteEvery) {
    last_write_ns_ = now;
    if (Status s = write_uses(now, false); !s) return s;
  }
  auto totals = store_.totals();
  if (!totals) return totals.error();
  if (totals->thumbnail_bytes <= budget_) return Status::Ok();
  passes_.add();
  std::map<Key, Use> noted;
  {
    std::lock_guard lock(mutex_);
    noted = uses_;
  }
  auto used_of = [&](const ThumbnailRef& ref, const ThumbRecord& record) {
    auto it = noted.find(Key{ref.set, ref.spec});
    if (it == noted.end() || it->second.revision != ref.revision) return record.used_ns;
    return std::max(record.used_ns, it->second.at_ns);
  };
  auto evicted = [&](const std::vector<EvictedThumbnail>& batch) {
    {
      std::lock_guard lock(mutex_);
      for (const EvictedThumbnail& e : batch) uses_.erase(Key{e.path.set, e.path.thumbnail});
    }
    if (evicted_fn_) evicted_fn_(batch);
  };
  auto summary =
      evict_thumbnails_to(store_, schema_, budget_ - budget_ / 8, now - kGrace, used_of, evicted);
  if (!summary) return summary.error();
  evicted_.add(summary->thumbnails);
  evicted_bytes_.add(summary->bytes);
  if (summary->thumbnails > 0) {
    log_debug("thumb_budget: evicted " + std::to_string(summary->thumbnails) + " thumbnails (" +
              std::to_string(summary->bytes) + " bytes)");
  }
  return Status::Ok();
}

void ThumbnailBudget::loop() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::seconds(1), [&] { return woken_ || stopping_; });
      if (stopping_) break;
      woken_ = false;
    }
    if (Status s = run_once(); !s) log_warning("thumb_budget: " + s.error().message);
  }
  // Uses noted since the last write are kept for the next mount (and gc).
  if (Status s = write_uses(now_ns(), true); !s) log_warning("thumb_budget: " + s.error().message);
}

}  // namespace iafs
