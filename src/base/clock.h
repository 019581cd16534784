// Times as the store keeps them: int64 nanoseconds since the epoch (UTC).
#pragma once

#include <time.h>

#include <cstdint>

namespace iafs {

constexpr int64_t kNanosPerSecond = 1000000000;

inline int64_t to_ns(const timespec& ts) {
  return int64_t{ts.tv_sec} * kNanosPerSecond + ts.tv_nsec;
}

inline timespec to_timespec(int64_t ns) {
  int64_t seconds = ns / kNanosPerSecond;
  int64_t rest = ns % kNanosPerSecond;
  if (rest < 0) {  // times before 1970 round towards minus infinity
    rest += kNanosPerSecond;
    --seconds;
  }
  return timespec{static_cast<time_t>(seconds), static_cast<long>(rest)};
}

// Now, in ns since the epoch (UTC).
inline int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return to_ns(ts);
}

// A monotonic clock in ns, for durations.
inline int64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return to_ns(ts);
}

// A monotonic clock that also counts time suspended, for ages that a
// suspend must not hide (how old a check of the bucket is).
inline int64_t boottime_ns() {
  timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return to_ns(ts);
}

}  // namespace iafs
