// Which thumbnails an eviction pass drops: from the thumbnails a scan offers
// once each, the least recently used whose bytes add up to what must go,
// as few as that takes from the old end (ties: the one offered first goes).
// Pure: no store, no clock (tests/unit/budget_test.cc).
#pragma once

#include <cstdint>
#include <vector>

#include "store/store.h"

namespace iafs {

class LruChoice {
 public:
  // Chooses at least `need` bytes, if the offers hold that many, keeping at
  // most `max_count` (the oldest); a pass that needs more runs again.
  LruChoice(uint64_t need, size_t max_count) : need_(need), max_count_(max_count) {}

  // A thumbnail last used at `used_ns`.
  void offer(const ThumbnailRef& ref, int64_t used_ns);

  // The chosen thumbnails, least recently used first; the chooser is empty after.
  std::vector<ThumbnailRef> take();
  uint64_t chosen_bytes() const { return sum_; }

 private:
  struct Entry {
    int64_t used_ns;
    uint64_t order;  // offers in order: the earlier of equal times goes first
    ThumbnailRef ref;
  };
  // Whether `a` was used before `b` (the heap's "less": the most recent on top).
  static bool older(const Entry& a, const Entry& b);
  bool full() const;

  uint64_t need_;
  size_t max_count_;
  uint64_t sum_ = 0;
  uint64_t offers_ = 0;
  std::vector<Entry> heap_;  // a max-heap by older(): the most recent chosen on top
};

}  // namespace iafs
