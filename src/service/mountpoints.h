// Checks of a mountpoint before anything is created or mounted: it must be
// a directory, and this store must not be mounted there already (a second
// mount of one store, or its dead mount after a crash).
#pragma once

#include <string>

#include "base/unique_fd.h"  // mountinfo_escaped
#include "imageattachfs/result.h"

namespace iafs {

// kInvalid with one line for the terminal when `point` (absolute) is not an
// existing directory, or when /proc/self/mountinfo shows the store at
// `store_dir` (its fsname) mounted at `point`. The message starts with
// `name` (the point as the user wrote the option: "/srv/images",
// "serve=/srv/images-www").
Status check_mountpoint(const std::string& name, const std::string& point,
                        const std::string& store_dir);

// Whether mountinfo text holds a mount of type fuse.imageattachfs whose
// source is `store_dir` at `point`.
bool store_mounted_at(const std::string& mountinfo, const std::string& point,
                      const std::string& store_dir);

}  // namespace iafs
