#include "base/heap.h"

#include <malloc.h>

#include <atomic>
#include <cstdint>

#include "base/clock.h"

namespace iafs {
namespace {

constexpr int64_t kMinIntervalNs = 100'000'000;
std::atomic<int64_t> g_last_ns{INT64_MIN / 2};

}  // namespace

void release_free_heap(bool even_if_recent) {
  int64_t now = monotonic_ns();
  int64_t last = g_last_ns.load();
  if (!even_if_recent) {
    if (now - last < kMinIntervalNs) return;
    if (!g_last_ns.compare_exchange_strong(last, now)) return;  // another thread does it
  } else {
    g_last_ns = now;
  }
  (void)malloc_trim(0);
}

}  // namespace iafs
