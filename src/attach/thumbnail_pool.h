// The resize pool: thumbnails are made on their own threads (one per core by
// default), so slow resizes never stall the FUSE workers (DESIGN §5b).
// Concurrent requests for one thumbnail share one resize (single flight).
// Two priorities: a job someone waits for (a reader's lookup) runs before
// every background job (thumbnails made at upload, README "Made at upload").
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
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

  // Added to the daemon's nice on the pool's threads, and on libvips' own
  // (image_init, and image_renice_workers before each job): a burst of new
  // thumbnails must not slow reads of cached ones.
  static constexpr int kResizeNice = 10;

  // Background jobs queued at most (beyond: dropped, see submit_background).
  static constexpr size_t kMaxBackgroundQueued = 4096;

  // What submit_background did.
  enum class Queued {
    kQueued,   // queued behind the other background jobs
    kAlready,  // a job with that key is queued: nothing added
    kDropped,  // the background queue is full: nothing added
  };

  // Starts `threads` worker threads (at least 1). Background jobs run on at
  // most threads - 1 of them at once (1 when there is one), so a reader's
  // job finds a thread free of background work.
  explicit ThumbnailPool(unsigned threads, size_t max_background = kMaxBackgroundQueued);
  // Finishes the queued readers' jobs and the running ones, drops the queued
  // background jobs (their `done` is not called), then joins the threads.
  ~ThumbnailPool();
  ThumbnailPool(const ThumbnailPool&) = delete;
  ThumbnailPool& operator=(const ThumbnailPool&) = delete;

  // Runs `make` on a pool thread unless a job with the same `key` is queued
  // or running, in which case `done` waits for that job's result. `done` is
  // called on a pool thread. A background job of that key still queued is
  // promoted: it runs before every background job.
  void submit(const std::string& key, Make make, Done done);

  // Queues `make` to run when no reader's job is queued, after the
  // background jobs queued before it; `done` (if any) is called with its
  // result on a pool thread. A job of that key already queued makes it
  // (kAlready). A running one may have read what `make` is queued for
  // because it changed (an original replaced): `make` is queued again
  // behind the background jobs once that one ends (kQueued), once however
  // often this is asked while it runs.
  Queued submit_background(const std::string& key, Make make, Done done = nullptr);

  // Background jobs queued now (not running).
  size_t background_queued();
  // Background jobs queued or running now: 0 once all are stored.
  size_t background_pending();

 private:
  struct Job {
    Make make;
    std::vector<Done> waiters;
    bool queued_background = false;                 // in background_, not running
    std::list<std::string>::iterator in_background;  // if queued_background
    bool running = false;
    Make rerun;                      // queued in the background once it ends
    std::vector<Done> rerun_waiters;  // of the rerun
  };
  void work();
  // REQUIRES: mutex_ held. Whether a thread may take a job now.
  bool runnable() const;
  // REQUIRES: mutex_ held. Queues the job of `key` behind the background jobs.
  void queue_background(const std::string& key, Job& job);

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::deque<std::string> queue_;       // readers' jobs, first
  std::list<std::string> background_;   // background jobs, when queue_ is empty
  size_t max_background_;
  unsigned max_background_running_;
  unsigned background_running_ = 0;
  std::map<std::string, Job> jobs_;  // queued or running, by key
  std::vector<std::thread> threads_;
};

}  // namespace iafs
