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

// Validates the bytes of `fd` as the original at `path` and commits them, then
// invalidates what the kernel caches of the original's name, data and
// thumbnails. `mtime_ns` 0 means now.
Status commit_staged(Filesystem& fs, const ImagePath& path, int fd, int64_t mtime_ns);

}  // namespace iafs
