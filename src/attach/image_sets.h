// The product's behaviour, with no FUSE in it (DESIGN §5): what a path holds,
// listing, attaching originals, making thumbnails, removing and reordering
// sets. fs and the admin commands call it; it calls store and image.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "attach/file_version.h"
#include "attach/staging.h"
#include "attach/thumbnail_pool.h"
#include "imageattachfs/image_path.h"
#include "imageattachfs/result.h"
#include "imageattachfs/schema.h"
#include "store/store.h"

namespace iafs {

// One name in a directory listing.
struct DirEntry {
  std::string name;
  ImagePath path;
  std::optional<FileVersion> version;  // originals and thumbnails
  std::optional<ScratchFile> scratch;  // scratch files
};

// What a stored-or-not thumbnail lookup found.
struct ThumbnailLookup {
  std::optional<FileVersion> stored;  // empty: allowed, and not made yet
};

class ImageSets {
 public:
  ImageSets(Store& store, const Schema& schema, StagingArea& staging, unsigned thumb_threads);

  const Schema& schema() const { return schema_; }
  StagingArea& staging() { return staging_; }
  Store& store() { return store_; }

  // The original at `path` (kOriginal). kNotFound when the set holds none, or
  // holds one under another extension.
  Result<FileVersion> find_original(const ImagePath& path);

  // The thumbnail at `path` (kThumbnail) if stored. kNotFound when the set
  // holds no original or the size is larger than the original's.
  Result<ThumbnailLookup> find_thumbnail(const ImagePath& path);

  // Gets or makes the thumbnail at `path` on the resize pool; `done` runs on a
  // pool thread. Concurrent calls for one thumbnail make it once.
  void make_thumbnail(const ImagePath& path, ThumbnailPool::Done done);

  // Resizes done since start.
  uint64_t resizes() const { return resizes_; }

  // Lists `dir` in listing order, resuming after the entry named `after`
  // (the streaming kinds: kType and kAttachment). `fn` returns false to stop.
  Status list(const ImagePath& dir, const std::optional<std::string>& after,
              const std::function<bool(DirEntry&&)>& fn);

  // rmdir: succeeds (changing nothing) unless `dir` holds an original,
  // thumbnails or scratch files: kNotEmpty.
  Status remove_directory(const ImagePath& dir);

  // Validates `bytes` as the original named by `path` and commits it with the
  // set's metadata in one transaction. kInvalid / kTooBig: nothing stored.
  Result<ApplyOutcome> commit_original(const ImagePath& path, std::span<const uint8_t> bytes,
                                       int64_t mtime_ns);
  // Removes the set of the original at `path`.
  Result<ApplyOutcome> remove_original(const ImagePath& path);
  Status remove_thumbnail(const ImagePath& path);
  // Moves the set at `from` to `to` (both set directories). kCrossDevice for
  // another type or attachment; kNotEmpty when `to` holds an original.
  Result<ApplyOutcome> move_set(const ImagePath& from, const ImagePath& to);
  Result<ApplyOutcome> set_mtime(const ImagePath& original, int64_t mtime_ns);

  // The user.image.* extended attributes of a file, in listing order.
  std::vector<std::pair<std::string, std::string>> attributes(const FileVersion& version) const;

 private:
  const AttachmentSchema* attachment_of(const ImageSetKey& set) const;
  Result<FileVersion> make_now(const ImageSetKey& set, const ThumbnailSpec& spec);
  Status list_set_directory(const ImagePath& dir, const std::function<bool(DirEntry&&)>& fn);
  Status list_thumbnails(const ImagePath& dir, const std::function<bool(DirEntry&&)>& fn);
  Status list_entity(const ImagePath& dir, const std::function<bool(DirEntry&&)>& fn);

  Store& store_;
  const Schema& schema_;
  StagingArea& staging_;
  std::atomic<uint64_t> resizes_{0};
  ThumbnailPool pool_;  // last: its threads stop before the rest is destroyed
};

// Now, in ns since the epoch (UTC).
int64_t now_ns();

}  // namespace iafs
