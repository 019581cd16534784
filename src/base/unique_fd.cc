#include "base/unique_fd.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace iafs {

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) close(fd_);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.release();
  }
  return *this;
}

Error error_from_errno(const std::string& what) {
  int saved = errno;
  ErrorCode code = ErrorCode::kIo;
  if (saved == ENOSPC || saved == EDQUOT) code = ErrorCode::kNoSpace;
  if (saved == EFBIG) code = ErrorCode::kTooBig;
  return make_error(code, what + ": " + std::strerror(saved));
}

}  // namespace iafs
