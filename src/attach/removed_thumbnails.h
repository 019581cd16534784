// What a thread that removed a thumbnail sees next. A thumbnail is made when
// it is looked up, so a tool that meets EEXIST from open(O_CREAT|O_EXCL),
// unlinks and tries again (GNU tar extracting thumb/300.jpg, cp -f) would
// loop for ever: the lookup before each try makes the thumbnail again. So
// the remover's own next thumbnail lookup finds that name gone, as after any
// unlink; its create then reaches the daemon and gets EPERM like every
// create in thumb/. Lookups by other threads, and the remover's later ones,
// make it again.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <mutex>

#include "imageattachfs/image_path.h"

namespace iafs {

class RemovedThumbnails {
 public:
  // At most this many threads are remembered; the oldest are forgotten first.
  static constexpr size_t kMaxThreads = 1024;

  // Thread `thread` removed the thumbnail at `path` (replaces what it removed
  // before). Thread 0 (unknown) is not remembered.
  void removed(pid_t thread, const ImagePath& path);
  // Whether `thread`'s lookup of the thumbnail at `path` finds it gone: true
  // once, right after it removed that name. Any thumbnail lookup by the
  // thread ends its record.
  bool hides(pid_t thread, const ImagePath& path);
  size_t size();

 private:
  struct Removal {
    ImagePath path;
    std::chrono::steady_clock::time_point at;
  };
  void expire_locked(std::chrono::steady_clock::time_point now);

  std::mutex mutex_;
  std::map<pid_t, Removal> by_thread_;
};

}  // namespace iafs
