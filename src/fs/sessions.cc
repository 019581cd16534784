#include "fs/sessions.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <chrono>

#include "base/unique_fd.h"
#include "log/log.h"

namespace iafs {
namespace {

struct LoopConfigDestroy {
  void operator()(fuse_loop_config* config) const { fuse_loop_cfg_destroy(config); }
};
using LoopConfigPtr = std::unique_ptr<fuse_loop_config, LoopConfigDestroy>;

}  // namespace

SignalHandlers::SignalHandlers(fuse_session* session)
    : session_(session), ok_(fuse_set_signal_handlers(session) == 0) {}

SignalHandlers::~SignalHandlers() {
  if (ok_) fuse_remove_signal_handlers(session_);
}

MountedSession::MountedSession(fuse_session* session, std::string mountpoint)
    : session_(session),
      mountpoint_(std::move(mountpoint)),
      ok_(fuse_session_mount(session, mountpoint_.c_str()) == 0) {}

MountedSession::~MountedSession() {
  if (!ok_) return;
  fuse_session_unmount(session_);
  log_info("unmounted " + mountpoint_);
}


void raise_readahead(const std::string& mountpoint, unsigned kib) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  std::string device;  // MAJOR:MINOR of the last mount at mountpoint
  const std::string wanted = mountinfo_escaped(mountpoint);
  while (std::getline(mountinfo, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    if (fields >> id >> parent >> dev >> root >> point && point == wanted) device = dev;
  }
  if (device.empty()) return log_debug("readahead: " + mountpoint + " not in mountinfo");
  std::ofstream knob("/sys/class/bdi/" + device + "/read_ahead_kb");
  knob << kib << std::flush;
  if (!knob) log_debug("readahead of " + mountpoint + " (bdi " + device + ") stays the kernel's");
}

int run_loop(fuse_session* session, const LoopSettings& settings) {
  if (settings.single_thread) return fuse_session_loop(session);
  LoopConfigPtr config(fuse_loop_cfg_create());
  fuse_loop_cfg_set_max_threads(config.get(), settings.max_threads);
  fuse_loop_cfg_set_idle_threads(config.get(), std::min(10u, settings.max_threads));
  return fuse_session_loop_mt(session, config.get());
}

BackgroundLoop::BackgroundLoop(fuse_session* session, std::string mountpoint,
                               LoopSettings settings)
    : session_(session), mountpoint_(std::move(mountpoint)), settings_(settings) {}

BackgroundLoop::~BackgroundLoop() { stop(); }

void BackgroundLoop::start() {
  running_ = true;
  thread_ = std::thread([this] {
    int rc = run_loop(session_, settings_);
    running_ = false;
    if (!stopping_ || rc != 0) {
      log_warning("the mount at " + mountpoint_ + " ended (unmounted?)");
    }
  });
}

void BackgroundLoop::stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  fuse_session_exit(session_);
  if (running_) {
    // A worker notices the exit after its next request, and libfuse's loop
    // ends when one that notices it is not a surplus idle worker: ask until
    // the loop is gone. The waker may be left inside a STATFS that came
    // after the loop ended; it is detached, and the process is ending.
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::thread([done, point = mountpoint_] {
      while (!*done) {
        struct statvfs st;
        (void)statvfs(point.c_str(), &st);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }).detach();
    thread_.join();
    *done = true;
    return;
  }
  thread_.join();
}

}  // namespace iafs
