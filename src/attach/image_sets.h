// The product's behaviour, with no FUSE in it (DESIGN §5): what a path holds,
// listing, uploads and scratch files, making thumbnails, removing, renaming
// and reordering sets. The only door into the store: fs and the admin
// commands call it; it calls store and image.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "attach/file_version.h"
#include "attach/removed_thumbnails.h"
#include "attach/metrics.h"
#include "attach/staged_file.h"
#include "attach/staging.h"
#include "attach/thumbnail_pool.h"
#include "imageattachfs/image_path.h"
#include "imageattachfs/result.h"
#include "imageattachfs/schema.h"
#include "store/store.h"

namespace iafs {

// Where a streaming listing (a type's ids, an attachment's indexes) resumes:
// after this id, or after this index.
using ListCursor = std::variant<EntityId, uint32_t>;

// One name in a directory listing.
struct DirEntry {
  ImagePath path;                      // its name is base_name(path)
  std::optional<FileVersion> version;  // originals and thumbnails
  std::optional<ScratchFile> scratch;  // scratch files
  std::optional<ListCursor> cursor;    // streaming listings: resume after this entry
};

// What a stored-or-not thumbnail lookup found.
struct ThumbnailLookup {
  std::optional<FileVersion> stored;  // empty: allowed, and not made yet
};

// What a rename did.
struct RenameOutcome {
  enum class Kind {
    kNothing,         // renamed onto itself
    kCommitted,       // a scratch file became the original (applied says what changed)
    kScratchRenamed,  // a scratch file has another staging name
    kSetMoved,        // mv -T of a set directory
  };
  Kind kind = Kind::kNothing;
  ApplyOutcome applied;
};

// Size and mtime of a scratch file.
struct ScratchStat {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
};

class ImageSets {
 public:
  static constexpr unsigned kMaxUploadsPerOpener = 256;

  // `thumb_threads` resize threads; at most that many decodes (validations
  // of uploads and resizes together) run at once, so that memory stays
  // bounded however many clients upload.
  ImageSets(Store& store, const Schema& schema, StagingArea& staging, unsigned thumb_threads);

  const Schema& schema() const { return schema_; }

  // The original at `path` (kOriginal). kNotFound when the set holds none, or
  // holds one under another extension.
  Result<FileVersion> find_original(const ImagePath& path);

  // The thumbnail at `path` (kThumbnail) if stored, as thread `looker` sees
  // it. kNotFound when the set holds no original, the size is larger than the
  // original's, `looker` has just removed it (see RemovedThumbnails), and on a
  // read-only store when it is not stored (a read-only mount makes none).
  Result<ThumbnailLookup> find_thumbnail(const ImagePath& path, pid_t looker = 0);

  // Gets or makes the thumbnail at `path` on the resize pool; `done` runs on a
  // pool thread. Concurrent calls for one thumbnail make it once. On a
  // read-only store `done` runs at once, with the stored one or kNotFound.
  void make_thumbnail(const ImagePath& path, ThumbnailPool::Done done);

  // Whether the store is read-only (-o ro): every change below is then
  // refused with kReadOnly, and nothing in the store or staging changes.
  bool read_only() const { return store_.read_only(); }

  // Resizes done since start.
  uint64_t resizes() const { return resizes_; }

  // Reading a version: pinned versions stay readable after they are
  // replaced or removed, until unpinned. pin(): kNotFound if it is gone.
  Status pin(const FileVersion& version);
  void unpin(const FileVersion& version);
  // Reads [offset, offset + length) of `version`; pieces valid during `sink`.
  Status read(const FileVersion& version, uint64_t offset, uint64_t length,
              const BlobReadSink& sink);

  // Lists `dir` in listing order, resuming after `after` (the streaming
  // kinds: kType and kAttachment). `fn` returns false to stop.
  Status list(const ImagePath& dir, const std::optional<ListCursor>& after,
              const std::function<bool(DirEntry&&)>& fn);

  // rmdir: succeeds (changing nothing) unless `dir` holds an original,
  // thumbnails or scratch files: kNotEmpty.
  Status remove_directory(const ImagePath& dir);

  // Uploads (uploads.cc). A new upload of the original at `path`; without
  // `truncate` it starts as a copy of the committed original (if any). Open
  // uploads are registered until end_upload().
  // `opener`: the process opening it (see truncate_upload). One process may
  // hold kMaxUploadsPerOpener open at once (kTooMany past that), so that one
  // client cannot take every descriptor from the others.
  Result<std::unique_ptr<StagedFile>> begin_upload(const ImagePath& path, bool truncate,
                                                   pid_t opener = 0);
  // Judges the staged bytes of `upload` and commits them (FLUSH). Writes and
  // truncations of it wait meanwhile. kInvalid / kTooBig: nothing stored.
  Result<ApplyOutcome> commit_upload(StagedFile& upload);
  // Unregisters an upload (RELEASE); logs its refusal if its last flush was refused.
  void end_upload(StagedFile& upload);
  // open(O_TRUNC) of an existing original reaches fs as an open without
  // O_TRUNC, then a truncation without its file handle, from the same
  // process: truncates the newest upload of `original` that process `pid`
  // opened. kPermission when it has none.
  Status truncate_upload(const ImagePath& original, pid_t pid, off_t size);
  // Sets the mtime that the open uploads of `original` will commit, and the
  // committed original's; false when no upload of it is open.
  bool set_upload_mtime(const ImagePath& original, int64_t mtime_ns);

  // Validates `bytes` as the original named by `path` and commits it with the
  // set's metadata in one transaction. kInvalid / kTooBig: nothing stored.
  Result<ApplyOutcome> commit_original(const ImagePath& path, std::span<const uint8_t> bytes,
                                       int64_t mtime_ns);

  // Scratch files (kStaging paths).
  std::optional<ScratchFile> find_scratch(const ImagePath& path);
  // Creates (or truncates, if it exists) the scratch file at `path`, opened.
  Result<std::pair<ScratchFile, std::unique_ptr<StagedFile>>> create_scratch(const ImagePath& path);
  // Opens scratch file `scratch_id` at `path` with open(2) `flags`;
  // kNotFound if that file is gone.
  Result<std::unique_ptr<StagedFile>> open_scratch(const ImagePath& path, uint64_t scratch_id,
                                                   int flags);
  Result<ScratchStat> stat_scratch(const ImagePath& path, uint64_t scratch_id);
  Status set_scratch_mtime(const ImagePath& path, int64_t mtime_ns);

  // Removes the set of the original at `path` (only if its original is under
  // that extension, checked in the same transaction).
  Result<ApplyOutcome> remove_original(const ImagePath& path);
  // Drops the thumbnail at `path`; `remover`'s next lookup of it finds it gone.
  Status remove_thumbnail(const ImagePath& path, pid_t remover = 0);
  Status remove_scratch(const ImagePath& path);
  Result<ApplyOutcome> set_mtime(const ImagePath& original, int64_t mtime_ns);

  // rename(2) within the namespace (renames.cc): a scratch file onto
  // original.<ext> commits it with its mtime; onto a staging name renames it;
  // a set directory onto another set directory moves the set (mv -T). With
  // `no_replace`, kExists when the target holds something.
  Result<RenameOutcome> rename(const ImagePath& from, const ImagePath& to, bool no_replace);

  // The user.image.* extended attributes of a file, in listing order.
  std::vector<std::pair<std::string, std::string>> xattrs_of(const FileVersion& version) const;

  // The daemon's counters and the store's totals as Prometheus text
  // (set_metrics.cc): what /.imageattachfs/metrics holds. kIo: the store's
  // totals cannot be read.
  Result<std::string> metrics_text();

  // Why uploads are refused (imageattachfs_uploads_refused_total{reason}).
  static constexpr size_t kRefusalReasons = 6;

 private:
  const AttachmentSchema* attachment_of(const ImageSetKey& set) const;
  // kReadOnly (naming `what`) on a read-only store.
  Status writable(const char* what) const;
  uint64_t max_bytes_of(const ImagePath& path) const;
  Result<FileVersion> make_now(const ImageSetKey& set, const ThumbnailSpec& spec);
  Status list_set_directory(const ImagePath& dir, const std::function<bool(DirEntry&&)>& fn);
  Status list_thumbnails(const ImagePath& dir, const std::function<bool(DirEntry&&)>& fn);
  Status list_entity(const ImagePath& dir, const std::function<bool(DirEntry&&)>& fn);
  Result<ApplyOutcome> commit_scratch(const ImagePath& from, const ImagePath& to);
  Result<ApplyOutcome> move_set(const ImagePath& from, const ImagePath& to);
  bool target_exists(const ImagePath& to);
  Result<std::unique_ptr<StagedFile>> open_upload(const ImagePath& path, bool truncate,
                                                  pid_t opener);
  // Counts an upload refused with `error` under its reason.
  void count_refusal(const Error& error);

  Store& store_;
  const Schema& schema_;
  StagingArea& staging_;
  std::atomic<uint64_t> resizes_{0};
  Counter thumbnails_made_;     // resized and stored
  Counter thumbnails_found_;    // looked up, stored already
  Counter thumbnail_failures_;  // could not be made
  Counter uploads_committed_;   // commits that changed the original
  std::array<Counter, kRefusalReasons> uploads_refused_;
  SecondsHistogram thumbnail_seconds_;     // decode + resize + encode of each one made
  std::counting_semaphore<1024> decodes_;  // permits for a decode (see the constructor)
  std::mutex uploads_mutex_;
  std::multimap<ImageSetKey, StagedFile*> uploads_;  // open uploads, by set
  std::map<pid_t, unsigned> uploads_by_opener_;      // uploads_mutex_
  RemovedThumbnails removed_thumbnails_;
  ThumbnailPool pool_;  // last: its threads stop before the rest is destroyed
};

}  // namespace iafs
