// The notifier: one thread that sends a request's invalidations and then its
// reply (DESIGN §5b). An invalidation can wait on a kernel lock held by
// another request (a directory's lock during a CREATE, a page's lock during
// a READ) that needs a free FUSE worker to finish; sent from a worker, with
// every worker waiting so (-s, or max_threads busy), the mount hung. Here no
// worker ever waits: it hands the request over and takes the next one,
// while the reply still comes only after the invalidations that make the
// request's result visible.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace iafs {

class Notifier {
 public:
  Notifier() = default;
  // Sends what is queued, then stops.
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Starts the thread (after any fork(): threads do not survive it).
  void start();
  // Runs `job` (invalidate, reply, invalidate) on the notifier thread, in the
  // order submitted; before start() and after stop(), right here.
  void submit(std::function<void()> job);
  // Runs what is queued and stops the thread; submit() then runs jobs inline.
  void stop();

 private:
  void work();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  bool running_ = false;
  std::thread thread_;
};

}  // namespace iafs
