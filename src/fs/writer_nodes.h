// Writer nodes: an upload opened on an original that readers hold (or a
// restore writing over a thumbnail, whose writes are dropped) gets an
// inode of its own. The kernel keeps one size and one page cache per inode;
// an upload's writes on the readers' inode grow its size under them (a
// reader then reads the old bytes plus zeros). So OPEN-for-write of a
// version's node answers ESTALE, which makes the kernel walk the path again
// with LOOKUP_REVAL; that lookup, from the same thread, finds a fresh node
// with no version (shown with zero timeouts, so other processes' next walk
// asks again and finds the version), and the upload is opened on it.
#pragma once

#include <fuse_lowlevel.h>
#include <sys/types.h>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "imageattachfs/image_path.h"

namespace iafs {

class WriterNodes {
 public:
  // An OPEN-for-write by thread `pid` of the version node at `path`: true
  // (answer ESTALE) unless the same thread was sent back already and came
  // back to the version's node anyway (then the upload opens there).
  bool send_back(pid_t pid, const ImagePath& path);
  // The writer node that a lookup of `path` by `pid` should find, if it was
  // sent back: its nodeid once made (nullopt: make one and call made()).
  bool wanted(pid_t pid, const ImagePath& path, std::optional<fuse_ino_t>* nodeid);
  void made(pid_t pid, const ImagePath& path, fuse_ino_t nodeid);
  // The upload opened on its writer node: lookups find the version again.
  void opened(pid_t pid, const ImagePath& path);

 private:
  struct Pending {
    std::optional<fuse_ino_t> nodeid;
    std::chrono::steady_clock::time_point since;
  };
  using Key = std::pair<pid_t, ImagePath>;
  void expire_locked();

  std::mutex mutex_;
  std::map<Key, Pending> pending_;
};

}  // namespace iafs
