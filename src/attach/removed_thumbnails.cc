#include "attach/removed_thumbnails.h"

#include <algorithm>

namespace iafs {
namespace {

// A tool retries at once; a thread that never looks again (it exited) is
// forgotten after this, so that a reused thread id finds nothing hidden.
constexpr std::chrono::seconds kPatience{10};

}  // namespace

void RemovedThumbnails::expire_locked(std::chrono::steady_clock::time_point now) {
  std::erase_if(by_thread_, [now](const auto& entry) { return now - entry.second.at > kPatience; });
  if (by_thread_.size() < kMaxThreads) return;
  auto oldest = std::min_element(by_thread_.begin(), by_thread_.end(),
                                 [](auto& a, auto& b) { return a.second.at < b.second.at; });
  by_thread_.erase(oldest);
}

void RemovedThumbnails::removed(pid_t thread, const ImagePath& path) {
  if (thread == 0) return;  // no thread (a request from outside the mount's pid namespace)
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  if (!by_thread_.contains(thread)) expire_locked(now);
  by_thread_.insert_or_assign(thread, Removal{path, now});
}

bool RemovedThumbnails::hides(pid_t thread, const ImagePath& path) {
  std::lock_guard lock(mutex_);
  if (by_thread_.empty()) return false;
  auto it = by_thread_.find(thread);
  if (it == by_thread_.end()) return false;
  bool hidden =
      it->second.path == path && std::chrono::steady_clock::now() - it->second.at <= kPatience;
  by_thread_.erase(it);
  return hidden;
}

size_t RemovedThumbnails::size() {
  std::lock_guard lock(mutex_);
  return by_thread_.size();
}

}  // namespace iafs
