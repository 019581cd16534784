#include "attach/thumbnail_pool.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

#include "base/heap.h"
#include "image/image.h"
#include "log/log.h"

namespace iafs {

ThumbnailPool::ThumbnailPool(unsigned threads, size_t max_background)
    : max_background_(max_background) {
  if (threads == 0) threads = 1;
  max_background_running_ = threads > 1 ? threads - 1 : 1;
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

ThumbnailPool::~ThumbnailPool() {
  size_t dropped = 0;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (const std::string& key : background_) jobs_.erase(key);
    dropped = background_.size();
    background_.clear();
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
  if (dropped != 0) {
    log_debug("thumbnail pool: " + std::to_string(dropped) +
              " background thumbnails not made (stopping)");
  }
}

void ThumbnailPool::submit(const std::string& key, Make make, Done done) {
  {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = jobs_.try_emplace(key);
    Job& job = it->second;
    job.waiters.push_back(std::move(done));
    if (!inserted) {
      if (!job.queued_background) return;  // queued for a reader, or running
      background_.erase(job.in_background);
      job.queued_background = false;  // promoted: its own make is kept
    } else {
      job.make = std::move(make);
    }
    queue_.push_back(key);
  }
  wake_.notify_one();
}

ThumbnailPool::Queued ThumbnailPool::submit_background(const std::string& key, Make make,
                                                       Done done) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return Queued::kDropped;
    auto found = jobs_.find(key);
    if (found != jobs_.end()) {
      Job& running = found->second;
      if (!running.running) return Queued::kAlready;  // it reads what is there when it runs
      if (!running.rerun) running.rerun = std::move(make);
      if (done) running.rerun_waiters.push_back(std::move(done));
      return Queued::kQueued;
    }
    if (background_.size() >= max_background_) return Queued::kDropped;
    Job& job = jobs_[key];
    job.make = std::move(make);
    if (done) job.waiters.push_back(std::move(done));
    queue_background(key, job);
  }
  wake_.notify_one();
  return Queued::kQueued;
}

void ThumbnailPool::queue_background(const std::string& key, Job& job) {
  job.queued_background = true;
  job.in_background = background_.insert(background_.end(), key);
}

size_t ThumbnailPool::background_queued() {
  std::lock_guard lock(mutex_);
  return background_.size();
}

size_t ThumbnailPool::background_pending() {
  std::lock_guard lock(mutex_);
  return background_.size() + background_running_;
}

bool ThumbnailPool::runnable() const {
  return !queue_.empty() ||
         (!background_.empty() && background_running_ < max_background_running_);
}

void ThumbnailPool::work() {
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  if (errno == 0 && nice < kResizeNice) {
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice + kResizeNice);
  }
  for (;;) {
    std::string key;
    Make make;
    bool background = false;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || runnable(); });
      if (!runnable()) return;  // stopping, and no reader's job left
      if (!queue_.empty()) {
        key = std::move(queue_.front());
        queue_.pop_front();
      } else {
        key = std::move(background_.front());
        background_.pop_front();
        background = true;
        ++background_running_;
      }
      Job& job = jobs_[key];
      job.queued_background = false;
      job.running = true;
      make = std::move(job.make);
    }
    image_renice_workers();  // the threads libvips resizes on
    Result<FileVersion> result = make();
    std::vector<Done> waiters;
    bool requeued = false;
    bool idle = false;
    {
      std::lock_guard lock(mutex_);
      auto it = jobs_.find(key);
      Job& job = it->second;
      waiters = std::move(job.waiters);
      if (job.rerun && !stopping_) {
        job.running = false;
        job.make = std::move(job.rerun);
        job.rerun = nullptr;
        job.waiters = std::move(job.rerun_waiters);
        job.rerun_waiters.clear();
        queue_background(key, job);
        requeued = true;
      } else {
        jobs_.erase(it);
      }
      if (background) --background_running_;
      idle = jobs_.empty();
    }
    // A background slot freed, or a job queued: another thread may take it.
    if (background || requeued) wake_.notify_one();
    for (Done& done : waiters) {
      if (done) done(result);
    }
    // The resizes' buffers, freed, go back to the kernel once the work is done.
    if (idle) release_free_heap();
  }
}

}  // namespace iafs
