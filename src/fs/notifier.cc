#include "fs/notifier.h"

#include <thread>

#include "log/log.h"

namespace iafs {

Notifier::~Notifier() { stop(); }

void Notifier::start() {
  std::lock_guard lock(mutex_);
  if (!stopped_) started_ = true;
}

void Notifier::submit(const std::function<void()>& job) {
  {
    std::lock_guard lock(mutex_);
    if (started_ && !stopped_) {
      ++running_jobs_;
      try {
        std::thread([this, job] {
          job();
          std::lock_guard done(mutex_);
          if (--running_jobs_ == 0) idle_.notify_all();
        }).detach();
        return;
      } catch (const std::system_error& e) {  // no thread to be had: do it here
        --running_jobs_;
        log_warning(std::string("notifier: ") + e.what());
      }
    }
  }
  job();
}

void Notifier::stop() {
  std::unique_lock lock(mutex_);
  stopped_ = true;
  idle_.wait(lock, [this] { return running_jobs_ == 0; });
}

}  // namespace iafs
