// The store directory: created 0700, and trusted only if the daemon's user
// owns it and nobody else can write to it, with none of its own files a
// symbolic link (a link there once let mounting delete or overwrite files
// elsewhere).
#pragma once

#include <string>

#include "base/unique_fd.h"
#include "imageattachfs/result.h"

namespace iafs {

// Creates `dir` (mode 0700) if absent (unless `read_only`: then a store with
// a data.mdb must be there), then checks it: a directory (a symlink to one is
// fine: the admin made it), owned by the effective user, not writable by
// group or others; `lock`, `data.mdb`, `lock.mdb` and `staging` in it, where
// present, are not symbolic links. kInvalid, with one line that says what to
// do, otherwise. Returns the directory, open.
Result<UniqueFd> open_store_directory(const std::string& dir, bool read_only = false);

// Whether the store directory `dir_fd` is on a read-only filesystem.
bool on_read_only_filesystem(int dir_fd);

// Takes the store's exclusive lock (STORE/lock, opened without following a
// link) through `dir_fd`. kBusy when another daemon holds it; kReadOnly
// (saying to mount with -o ro) when the store is on a read-only filesystem.
Result<UniqueFd> lock_store_directory(int dir_fd, const std::string& dir);

// The lock of a read-only mount: STORE/lock held shared, so that read-only
// mounts of one store coexist while a writing daemon (or fsck --repair),
// which takes it exclusively, cannot start beside them, nor they beside it.
// On a read-only filesystem nothing can write: the lock is taken if the file
// is there and never created; an empty descriptor when it is absent.
Result<UniqueFd> lock_store_directory_shared(int dir_fd, const std::string& dir);

}  // namespace iafs
