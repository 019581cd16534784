// libfuse sessions: RAII for its C objects, the request loops, and the serve
// mount's loop on a thread of its own beside the main mount's (-o serve=).
#pragma once

#include <fuse_lowlevel.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

namespace iafs {

struct SessionDestroy {
  void operator()(fuse_session* session) const { fuse_session_destroy(session); }
};
using SessionPtr = std::unique_ptr<fuse_session, SessionDestroy>;

// Signal handlers installed on a session, removed when this goes out of scope.
class SignalHandlers {
 public:
  explicit SignalHandlers(fuse_session* session);
  ~SignalHandlers();
  SignalHandlers(const SignalHandlers&) = delete;
  SignalHandlers& operator=(const SignalHandlers&) = delete;
  bool ok() const { return ok_; }

 private:
  fuse_session* session_;
  bool ok_;
};

// The session mounted at a mountpoint, unmounted when this goes out of scope.
class MountedSession {
 public:
  MountedSession(fuse_session* session, std::string mountpoint);
  ~MountedSession();
  MountedSession(const MountedSession&) = delete;
  MountedSession& operator=(const MountedSession&) = delete;
  bool ok() const { return ok_; }
  const std::string& mountpoint() const { return mountpoint_; }

 private:
  fuse_session* session_;
  std::string mountpoint_;
  bool ok_;
};

// Raises the readahead of the mount at `mountpoint` (its bdi's
// read_ahead_kb, which only root may write) to `kib`: the kernel's default
// of 128 KiB turns a cold read of a large original into many small READs.
// Reads /proc/self/mountinfo, never the mount itself (its loop may not run
// yet). Logs at debug level when it cannot.
void raise_readahead(const std::string& mountpoint, unsigned kib);

struct LoopSettings {
  bool single_thread = false;
  unsigned max_threads = 64;
};

// Serves a session's requests until it exits (told to, or unmounted).
// Returns libfuse's status (0: exited normally).
int run_loop(fuse_session* session, const LoopSettings& settings);

// A session's loop on a thread of its own.
class BackgroundLoop {
 public:
  BackgroundLoop(fuse_session* session, std::string mountpoint, LoopSettings settings);
  // Stops the loop (stop()).
  ~BackgroundLoop();
  BackgroundLoop(const BackgroundLoop&) = delete;
  BackgroundLoop& operator=(const BackgroundLoop&) = delete;

  void start();
  // Tells the loop to exit and waits for it. A worker sees the exit only
  // after its next request, so this sends one (a STATFS, which the kernel
  // never answers from its caches) unless the loop ended already.
  void stop();

 private:
  fuse_session* session_;
  std::string mountpoint_;
  LoopSettings settings_;
  std::thread thread_;
  std::atomic<bool> running_ = false;
  std::atomic<bool> stopping_ = false;
};

}  // namespace iafs
