// The kernel's side of an eviction (thumb_budget): as after rm thumb/X, the
// name is deleted and its inode loses its link, so that the kernel forgets
// the node (unpinning the version's blob) once no file is open on it. An open
// file keeps reading the version its node pins.
#include "fs/filesystem.h"
#include "path/path.h"

namespace iafs {

void Filesystem::forget_evicted(const std::vector<EvictedThumbnail>& evicted) {
  if (session_ == nullptr) return;
  for (const EvictedThumbnail& e : evicted) {
    auto parent = inodes_.find_directory(parent_path(e.path));
    if (!parent) continue;  // the kernel knows no name in that thumb/
    std::string name = base_name(e.path);
    bool deleted = false;
    for (fuse_ino_t nodeid : inodes_.find_files(e.path)) {
      auto node = inodes_.get(nodeid);
      if (!node || !node->version || node->version->revision != e.revision) continue;
      deleted |=
          fuse_lowlevel_notify_delete(session_, *parent, nodeid, name.c_str(), name.size()) == 0;
    }
    if (!deleted) fuse_lowlevel_notify_inval_entry(session_, *parent, name.c_str(), name.size());
  }
}

}  // namespace iafs
