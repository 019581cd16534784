// Result<T> and Status: errors as values across module boundaries.
// fs maps an Error's category to an errno in exactly one function.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace iafs {

// What went wrong, in the product's terms. Each category maps to one errno.
enum class ErrorCode {
  kNotFound,      // ENOENT: no such name, or a name outside the grammar
  kInvalid,       // EINVAL: bad bytes for the format, bad name to create
  kTooBig,        // EFBIG: over the schema's byte or pixel limits
  kPermission,    // EPERM: writing thumb/, links, renaming a committed original
  kNotSupported,  // ENOTSUP: setting xattrs, xattrs outside user.*
  kNoAttribute,   // ENODATA: an unknown user.* xattr
  kExists,        // EEXIST
  kNotEmpty,      // ENOTEMPTY: rmdir or rename onto a set that holds an original
  kCrossDevice,   // EXDEV: rename to another type or attachment
  kNoSpace,       // ENOSPC: store full
  kIo,            // EIO: the store or libvips failed
  kIsDirectory,   // EISDIR
  kNotDirectory,  // ENOTDIR
  kRange,         // ERANGE: a buffer too small (xattr values)
  kBusy,          // EBUSY: store locked by another daemon
  kStale,         // ESTALE: look the name up again (fs/writer_nodes.h)
  kNameTooLong,   // ENAMETOOLONG: a name over 255 bytes (statfs's f_namemax)
  kTooMany,       // EMFILE: one client holds too many files open
  kReadOnly,      // EROFS: a change asked of a read-only mount (-o ro, -o serve=)
  kNotAsked,      // ENOSYS to OPEN/FLUSH: the kernel does without them from now on
};

struct Error {
  ErrorCode code;
  std::string message;  // for the log: names what and why, never the errno
};

inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

// A value or an Error. Accessing value() of an error is a programming bug.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  static Status Ok() { return Status(); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_{ErrorCode::kIo, {}};
  bool ok_ = true;
};

}  // namespace iafs
