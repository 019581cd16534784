#include "attach/staged_file.h"

#include <unistd.h>

#include <cerrno>

namespace iafs {
namespace {

Error too_big(uint64_t end, uint64_t max) {
  return make_error(ErrorCode::kTooBig, "writing up to byte " + std::to_string(end) +
                                            ", over the limit of " + std::to_string(max));
}

}  // namespace

Status StagedFile::write(std::span<const uint8_t> bytes, off_t offset) {
  if (offset < 0) return make_error(ErrorCode::kInvalid, "negative offset");
  uint64_t end = static_cast<uint64_t>(offset) + bytes.size();
  if (end > max_bytes_) return too_big(end, max_bytes_);
  std::lock_guard lock(mutex_);
  const uint8_t* data = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = pwrite(fd_.get(), data, left, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return error_from_errno("write to the staging file");
    data += n;
    left -= static_cast<size_t>(n);
    offset += n;
  }
  return Status::Ok();
}

Status StagedFile::truncate(off_t size) {
  if (size < 0) return make_error(ErrorCode::kInvalid, "negative size");
  if (static_cast<uint64_t>(size) > max_bytes_) return too_big(size, max_bytes_);
  std::lock_guard lock(mutex_);
  if (ftruncate(fd_.get(), size) != 0) return error_from_errno("truncate the staging file");
  return Status::Ok();
}

Result<struct stat> StagedFile::stat() const {
  struct stat st;
  if (fstat(fd_.get(), &st) != 0) return error_from_errno("stat of the staging file");
  return st;
}

std::optional<Error> StagedFile::refusal() const {
  std::lock_guard lock(mutex_);
  return refusal_;
}

}  // namespace iafs
