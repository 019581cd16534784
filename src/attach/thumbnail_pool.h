// The resize pool: thumbnails are made on their own threads (one per core by
// default), so slow resizes never stall the FUSE workers (DESIGN §5b).
// Concurrent requests for one thumbnail share one resize (single flight).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "attach/file_version.h"
#include "imageattachfs/result.h"

namespace iafs {

class ThumbnailPool {
 public:
  using Make = std::function<Result<FileVersion>()>;
  using Done = std::function<void(const Result<FileVersion>&)>;

  // Starts `threads` worker threads (at least 1).
  explicit ThumbnailPool(unsigned threads);
  // Finishes the queued work, then joins the threads.
  ~ThumbnailPool();
  ThumbnailPool(const ThumbnailPool&) = delete;
  ThumbnailPool& operator=(const ThumbnailPool&) = delete;

  // Runs `make` on a pool thread unless a job with the same `key` is queued
  // or running, in which case `done` waits for that job's result. `done` is
  // called on a pool thread.
  void submit(const std::string& key, Make make, Done done);

 private:
  struct Job {
    Make make;
    std::vector<Done> waiters;
  };
  void work();

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::deque<std::string> queue_;
  std::map<std::string, Job> jobs_;  // queued or running, by key
  std::vector<std::thread> threads_;
};

}  // namespace iafs
