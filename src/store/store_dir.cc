#include "store/store_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace iafs {
namespace {

Error untrusted(const std::string& dir, const std::string& why) {
  return make_error(ErrorCode::kInvalid, dir + ": " + why);
}

std::string octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

}  // namespace

Result<UniqueFd> open_store_directory(const std::string& dir, bool read_only) {
  if (!read_only && mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return error_from_errno(dir);
  UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd && read_only && errno == ENOENT) {
    return untrusted(dir, "no such store (a read-only mount creates none)");
  }
  if (!fd) return error_from_errno(dir);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return error_from_errno(dir);
  if (st.st_uid != geteuid()) {
    return untrusted(dir, "owned by uid " + std::to_string(st.st_uid) +
                              ", not by the daemon's user (uid " + std::to_string(geteuid()) +
                              "): refusing the store");
  }
  if ((st.st_mode & 022) != 0) {
    return untrusted(dir, "writable by others (mode " + octal(st.st_mode) +
                              "): refusing the store; chmod go-w it");
  }
  for (const char* name : {"lock", "data.mdb", "lock.mdb", "staging"}) {
    struct stat entry;
    if (fstatat(fd.get(), name, &entry, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISLNK(entry.st_mode)) {
      return untrusted(dir, std::string(name) + " is a symbolic link: refusing the store");
    }
  }
  struct stat data;
  if (read_only && fstatat(fd.get(), "data.mdb", &data, AT_SYMLINK_NOFOLLOW) != 0) {
    return untrusted(dir, "not a store (no data.mdb; a read-only mount creates none)");
  }
  return fd;
}

bool on_read_only_filesystem(int dir_fd) {
  struct statvfs st;
  return fstatvfs(dir_fd, &st) == 0 && (st.f_flag & ST_RDONLY) != 0;
}

Result<UniqueFd> lock_store_directory(int dir_fd, const std::string& dir) {
  if (on_read_only_filesystem(dir_fd)) {
    return make_error(ErrorCode::kReadOnly,
                      dir + ": on a read-only filesystem: mount it with -o ro to serve it");
  }
  UniqueFd fd(openat(dir_fd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return error_from_errno(dir + "/lock");
  if (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    return make_error(ErrorCode::kBusy, dir + ": the store is in use by another imageattachfs");
  }
  return fd;
}

Result<UniqueFd> lock_store_directory_shared(int dir_fd, const std::string& dir) {
  bool read_only_fs = on_read_only_filesystem(dir_fd);
  int flags = read_only_fs ? O_RDONLY : O_RDWR | O_CREAT;
  UniqueFd fd(openat(dir_fd, "lock", flags | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd && read_only_fs && errno == ENOENT) return UniqueFd();
  if (!fd) return error_from_errno(dir + "/lock");
  if (flock(fd.get(), LOCK_SH | LOCK_NB) != 0) {
    return make_error(ErrorCode::kBusy, dir + ": the store is in use by a writing imageattachfs");
  }
  return fd;
}

}  // namespace iafs
