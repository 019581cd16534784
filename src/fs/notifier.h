// The notifier: sends a request's invalidations and then its reply (DESIGN
// §5b) off the FUSE workers. An invalidation can wait on a kernel lock held
// by another request (a directory's lock during a CREATE or RENAME, a page's
// lock during a READ) until that request is answered. Sent from a worker,
// with every worker waiting so (-s, or max_threads busy), the mount hung;
// sent from one queue, a reply queued behind such a wait never came. So each
// job runs on a thread of its own: a job waits only for requests that the
// workers (never blocked here) or other jobs answer, and the reply still
// comes only after the invalidations that make its request's result visible.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>

namespace iafs {

class Notifier {
 public:
  Notifier() = default;
  // Waits for the running jobs.
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Allows threads (call after any fork(): threads do not survive it).
  void start();
  // Runs `job` (invalidate, reply, invalidate) on a thread of its own; before
  // start() and after stop(), right here.
  void submit(const std::function<void()>& job);
  // Waits for the running jobs; later jobs run inline.
  void stop();

 private:
  std::mutex mutex_;
  std::condition_variable idle_;
  int running_jobs_ = 0;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace iafs
