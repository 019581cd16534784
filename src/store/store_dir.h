// The store directory: created 0700, and trusted only if the daemon's user
// owns it and nobody else can write to it, with none of its own files a
// symbolic link (a link there once let mounting delete or overwrite files
// elsewhere).
#pragma once

#include <string>

#include "base/unique_fd.h"
#include "imageattachfs/result.h"

namespace iafs {

// Creates `dir` (mode 0700) if absent, then checks it: a directory (a
// symlink to one is fine: the admin made it), owned by the effective user,
// not writable by group or others; `lock`, `data.mdb`, `lock.mdb` and
// `staging` in it, where present, are not symbolic links. kInvalid, with
// one line that says what to do, otherwise. Returns the directory, open.
Result<UniqueFd> open_store_directory(const std::string& dir);

// Takes the store's exclusive lock (STORE/lock, opened without following a
// link) through `dir_fd`. kBusy when another daemon holds it.
Result<UniqueFd> lock_store_directory(int dir_fd, const std::string& dir);

}  // namespace iafs
