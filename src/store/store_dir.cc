#include "store/store_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
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

Result<UniqueFd> open_store_directory(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return error_from_errno(dir);
  UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
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
  return fd;
}

Result<UniqueFd> lock_store_directory(int dir_fd, const std::string& dir) {
  UniqueFd fd(openat(dir_fd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return error_from_errno(dir + "/lock");
  if (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    return make_error(ErrorCode::kBusy, dir + ": the store is in use by another imageattachfs");
  }
  return fd;
}

}  // namespace iafs
