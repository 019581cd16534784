// The one place where errno values are born (STYLE.md).
#include <cerrno>

#include "fs/filesystem.h"

namespace iafs {

int errno_of(const Error& error) {
  switch (error.code) {
    case ErrorCode::kNotFound:
      return ENOENT;
    case ErrorCode::kInvalid:
      return EINVAL;
    case ErrorCode::kTooBig:
      return EFBIG;
    case ErrorCode::kPermission:
      return EPERM;
    case ErrorCode::kNotSupported:
      return ENOTSUP;
    case ErrorCode::kNoAttribute:
      return ENODATA;
    case ErrorCode::kExists:
      return EEXIST;
    case ErrorCode::kNotEmpty:
      return ENOTEMPTY;
    case ErrorCode::kCrossDevice:
      return EXDEV;
    case ErrorCode::kNoSpace:
      return ENOSPC;
    case ErrorCode::kIo:
      return EIO;
    case ErrorCode::kIsDirectory:
      return EISDIR;
    case ErrorCode::kNotDirectory:
      return ENOTDIR;
    case ErrorCode::kRange:
      return ERANGE;
    case ErrorCode::kBusy:
      return EBUSY;
    case ErrorCode::kStale:
      return ESTALE;
    case ErrorCode::kNameTooLong:
      return ENAMETOOLONG;
    case ErrorCode::kTooMany:
      return EMFILE;
    case ErrorCode::kReadOnly:
      return EROFS;
  }
  return EIO;
}

void reply_error(fuse_req_t req, const Error& error) { fuse_reply_err(req, errno_of(error)); }

void reply_status(fuse_req_t req, const Status& status) {
  fuse_reply_err(req, status ? 0 : errno_of(status.error()));
}

}  // namespace iafs
