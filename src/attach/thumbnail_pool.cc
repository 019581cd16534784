#include "attach/thumbnail_pool.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

namespace iafs {
namespace {

// Resizes yield the CPU to everything else the daemon and the machine do: a
// burst of new thumbnails must not slow reads of cached ones (on Linux,
// nice applies to the calling thread).
constexpr int kResizeNice = 10;  // added to the daemon's own

}  // namespace

ThumbnailPool::ThumbnailPool(unsigned threads) {
  if (threads == 0) threads = 1;
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

ThumbnailPool::~ThumbnailPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void ThumbnailPool::submit(const std::string& key, Make make, Done done) {
  {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = jobs_.try_emplace(key);
    it->second.waiters.push_back(std::move(done));
    if (!inserted) return;
    it->second.make = std::move(make);
    queue_.push_back(key);
  }
  wake_.notify_one();
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
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      key = std::move(queue_.front());
      queue_.pop_front();
      make = std::move(jobs_[key].make);
    }
    Result<FileVersion> result = make();
    std::vector<Done> waiters;
    {
      std::lock_guard lock(mutex_);
      auto it = jobs_.find(key);
      waiters = std::move(it->second.waiters);
      jobs_.erase(it);
    }
    for (Done& done : waiters) done(result);
  }
}

}  // namespace iafs
