// File descriptors the daemon owns, and errors of system calls on its own
// files (the store directory, staging).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "imageattachfs/result.h"

namespace iafs {

// An owned file descriptor, closed when it goes out of scope.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// An Error for the system call that just failed (reads errno): kNoSpace for a
// full disk or quota, kTooBig for EFBIG, else kIo; the message is
// "`what`: strerror(errno)".
Error error_from_errno(const std::string& what);

// The first `size` bytes of `fd` (fewer if it is shorter), read with pread.
// Errors name `what`.
Result<std::vector<uint8_t>> read_whole(int fd, uint64_t size, const std::string& what);

// `path` as /proc/self/mountinfo writes its path and source fields: space,
// tab, newline and backslash as octal escapes.
std::string mountinfo_escaped(const std::string& path);

}  // namespace iafs
