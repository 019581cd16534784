#include "attach/lru_choice.h"

#include <algorithm>

namespace iafs {

bool LruChoice::older(const Entry& a, const Entry& b) {
  // std heaps put the greatest on top: "greater" is the more recent.
  return a.used_ns != b.used_ns ? a.used_ns < b.used_ns : a.order < b.order;
}

// Dropping the most recent chosen would leave less than `need`, and the
// count is within max_count.
bool LruChoice::full() const {
  if (heap_.empty()) return false;
  return sum_ - heap_.front().ref.size >= need_ || heap_.size() > max_count_;
}

void LruChoice::offer(const ThumbnailRef& ref, int64_t used_ns) {
  if (need_ == 0 || max_count_ == 0) return;
  uint64_t order = offers_++;
  // Chosen enough (bytes or count) already, and this one is no older than
  // every one chosen: it would go again at once. Most offers of a large
  // store end here, before anything is copied.
  if ((sum_ >= need_ || heap_.size() >= max_count_) && !heap_.empty()) {
    const Entry& top = heap_.front();
    if (used_ns > top.used_ns || (used_ns == top.used_ns && order > top.order)) return;
  }
  heap_.push_back(Entry{used_ns, order, ref});
  std::push_heap(heap_.begin(), heap_.end(), older);
  sum_ += ref.size;
  while (full()) {
    std::pop_heap(heap_.begin(), heap_.end(), older);
    sum_ -= heap_.back().ref.size;
    heap_.pop_back();
  }
}

std::vector<ThumbnailRef> LruChoice::take() {
  std::sort_heap(heap_.begin(), heap_.end(), older);  // ascending: least recent first
  std::vector<ThumbnailRef> out;
  out.reserve(heap_.size());
  for (Entry& e : heap_) out.push_back(std::move(e.ref));
  heap_.clear();
  sum_ = 0;
  return out;
}

}  // namespace iafs
