#include "fs/writer_nodes.h"

namespace iafs {
namespace {

// A thread sent back retries at once; one that never does (killed) is
// forgotten after this.
constexpr std::chrono::seconds kPatience{10};

}  // namespace

void WriterNodes::expire_locked() {
  auto now = std::chrono::steady_clock::now();
  for (auto it = pending_.begin(); it != pending_.end();) {
    it = now - it->second.since > kPatience ? pending_.erase(it) : std::next(it);
  }
}

bool WriterNodes::send_back(pid_t pid, const ImagePath& path) {
  std::lock_guard lock(mutex_);
  expire_locked();
  auto [it, inserted] = pending_.try_emplace(Key{pid, path});
  if (!inserted) {
    pending_.erase(it);
    return false;
  }
  it->second.since = std::chrono::steady_clock::now();
  return true;
}

bool WriterNodes::wanted(pid_t pid, const ImagePath& path, std::optional<fuse_ino_t>* nodeid) {
  std::lock_guard lock(mutex_);
  if (pending_.empty()) return false;
  auto it = pending_.find(Key{pid, path});
  if (it == pending_.end()) return false;
  *nodeid = it->second.nodeid;
  return true;
}

void WriterNodes::made(pid_t pid, const ImagePath& path, fuse_ino_t nodeid) {
  std::lock_guard lock(mutex_);
  auto it = pending_.find(Key{pid, path});
  if (it != pending_.end()) it->second.nodeid = nodeid;
}

void WriterNodes::opened(pid_t pid, const ImagePath& path) {
  std::lock_guard lock(mutex_);
  if (!pending_.empty()) pending_.erase(Key{pid, path});
}

}  // namespace iafs
