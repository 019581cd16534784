// Uploads of originals: bytes staged per open file, judged and committed at
// every FLUSH (DESIGN §2, §5b).
#pragma once

#include <memory>

#include "fs/filesystem.h"

namespace iafs {

// A new upload of the original at `path`. Without `truncate`, the staged file
// starts as a copy of the committed original (if any).
Result<std::unique_ptr<OpenFile>> begin_upload(Filesystem& fs, const ImagePath& path,
                                               bool truncate);

// How a commit reaches the kernel's caches of the set directory's names.
enum class SetDirLock {
  kFree,      // FLUSH: nothing is locked, invalidate before replying
  kHeldByOp,  // RENAME: the kernel holds the directory: invalidate after the reply
};

// Validates the bytes of `fd` as the original at `path` and commits them, then
// invalidates what the kernel caches of the original's name, data and
// thumbnails. `mtime_ns` 0 means now. On a refusal, the data of the
// original's inodes is invalidated too (an O_TRUNC open emptied it).
Status commit_staged(Filesystem& fs, const ImagePath& path, int fd, int64_t mtime_ns,
                     SetDirLock lock);

}  // namespace iafs
