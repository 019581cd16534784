#include "service/mountpoints.h"

#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace iafs {
namespace {

Error refused(std::string message) { return make_error(ErrorCode::kInvalid, std::move(message)); }

std::string read_mountinfo() {
  std::ifstream file("/proc/self/mountinfo");
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace

bool store_mounted_at(const std::string& mountinfo, const std::string& point,
                      const std::string& store_dir) {
  const std::string wanted_point = mountinfo_escaped(point);
  const std::string wanted_source = mountinfo_escaped(store_dir);
  std::istringstream lines(mountinfo);
  std::string line;
  while (std::getline(lines, line)) {
    // ID PARENT MAJOR:MINOR ROOT POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER
    std::istringstream fields(line);
    std::string id, parent, dev, root, at, field;
    if (!(fields >> id >> parent >> dev >> root >> at) || at != wanted_point) continue;
    while (fields >> field && field != "-") {
    }
    std::string type, source;
    if (fields >> type >> source && type == "fuse.imageattachfs" && source == wanted_source) {
      return true;
    }
  }
  return false;
}

Status check_mountpoint(const std::string& name, const std::string& point,
                        const std::string& store_dir) {
  if (store_mounted_at(read_mountinfo(), point, store_dir)) {
    return refused(name + ": " + store_dir + " is already mounted there (fusermount3 -u " +
                   point + " first)");
  }
  // stat() of a dead FUSE mount may be answered from the kernel's cached
  // attributes; statfs() always asks the filesystem, and a dead one answers
  // ENOTCONN (a mount on top would stack on it).
  struct stat st;
  struct statfs fs;
  if (stat(point.c_str(), &st) != 0 || statfs(point.c_str(), &fs) != 0) {
    int error = errno;
    if (error == ENOTCONN) {
      return refused(name + ": a FUSE mount whose daemon is gone (fusermount3 -u " + point +
                     " first)");
    }
    return refused(name + ": not a directory (" + std::strerror(error) + ")");
  }
  if (!S_ISDIR(st.st_mode)) return refused(name + ": not a directory");
  return Status::Ok();
}

}  // namespace iafs
