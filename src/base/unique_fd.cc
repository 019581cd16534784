#include "base/unique_fd.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
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

Result<std::vector<uint8_t>> read_whole(int fd, uint64_t size, const std::string& what) {
  std::vector<uint8_t> bytes(size);
  uint64_t done = 0;
  while (done < size) {
    ssize_t n = pread(fd, bytes.data() + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return error_from_errno(what);
    if (n == 0) break;
    done += static_cast<uint64_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

std::string mountinfo_escaped(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
      char code[5];
      std::snprintf(code, sizeof code, "\\%03o", static_cast<unsigned char>(c));
      out += code;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace iafs
