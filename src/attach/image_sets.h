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
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "attach/cache_budget.h"
#include "attach/decode_gate.h"
#include "attach/file_version.h"
#include "attach/metrics.h"
#include "attach/removed_thumbnails.h"
#include "attach/shared_thumbnails.h"
#include "attach/staged_file.h"
#include "attach/staging.h"
#include "attach/thumbnail_budget.h"
#include "attach/thumbnail_pool.h"
#include "imageattachfs/image_path.h"
#include "imageattachfs/result.h"
#include "imageattachfs/schema.h"
#include "store/committer.h"
#include "store/store.h"

namespace iafs {

struct ThumbnailPlan;

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
    kThumbnailKept,   // a scratch file onto a thumbnail name: its bytes dropped
  };
  Kind kind = Kind::kNothing;
  ApplyOutcome applied;
  std::optional<FileVersion> thumbnail;  // kThumbnailKept: the mount's own, if any
};

// What importing one original takes (ImageSets::plan_import).
struct ImportPlan {
  enum class Kind {
    kSkip,      // the set holds these bytes under this extension, with this mtime
    kSetMtime,  // the same, but another mtime: `op` sets the file's
    kAttach,    // validated: `op` attaches the bytes
  };
  Kind kind = Kind::kSkip;
  bool replaces = false;  // kAttach: the set holds another original now
  std::optional<Op> op;   // kSetMtime, kAttach
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
  // bounded however many clients upload. Changes are made durable by
  // `committer` (a store on a bucket's), or else applied to `store` at once.
  ImageSets(Store& store, const Schema& schema, StagingArea& staging, unsigned thumb_threads,
            Committer* committer = nullptr);

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

  // -o thumb_budget: the budget told of each thumbnail stored and used
  // (set before serving; none: no budget).
  void set_thumbnail_budget(ThumbnailBudget* budget) { budget_ = budget; }
  // -o cache_size on a bucket's store: told of each original read.
  void set_cache_budget(CacheBudget* cache) { cache_ = cache; }
  // A reader opened the thumbnail `version` at `path` (its last use, for the budget).
  void touch_thumbnail(const ImagePath& path, const FileVersion& version) {
    if (budget_ != nullptr) budget_->touch(path, version.revision);
  }

  // Resizes done since start.
  uint64_t resizes() const { return resizes_; }

  // Thumbnails made at upload (eager.cc, README "Made at upload"). When on
  // (the daemon turns it on; the admin commands exit after their commits),
  // every commit that changes an original queues, as background jobs of the
  // resize pool, the set's lqip.webp first and then its attachment's
  // `eager` thumbnails. A read-only store queues none.
  void set_eager_thumbnails(bool on) { eager_on_ = on; }
  // Queues the eager thumbnails of `set` (done by each commit when on).
  void queue_eager_thumbnails(const ImageSetKey& set);
  // Another host's change applied to the store (its original committed
  // there): this host makes (or, shared, fetches) the same eager thumbnails,
  // so that every host lists the same ones.
  void another_host_changed(const Op& op, const ApplyOutcome& outcome);
  // Eager thumbnails made and stored since start, and dropped (queue full).
  uint64_t eager_thumbnails_made() const { return eager_made_.value(); }
  uint64_t eager_thumbnails_dropped() const { return eager_dropped_.value(); }

  // Reading a version: pinned versions stay readable after they are
  // replaced or removed, until unpinned. pin(): kNotFound if it is gone.
  Status pin(const FileVersion& version);
  void unpin(const FileVersion& version);
  // The original stored at `path` now, pinned (the caller unpins it): one
  // replaced between finding and pinning it is found again.
  Result<FileVersion> pin_original(const ImagePath& path);
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
  // `created_ns`: its created_at (0: the commit's time; kept for the same bytes).
  Result<ApplyOutcome> commit_original(const ImagePath& path, std::span<const uint8_t> bytes,
                                       int64_t mtime_ns, int64_t created_ns = 0);
  // The judging half of commit_original: the op that commits `bytes` as the
  // original named by `path`, or why they are refused.
  Result<AttachOriginal> judge_original(const ImagePath& path, std::span<const uint8_t> bytes,
                                        int64_t mtime_ns, int64_t created_ns = 0);
  // The storing half: applies a judged `op` with its bytes (one info line);
  // `bytes_stored` as Committer::commit's.
  Result<ApplyOutcome> store_original(const ImagePath& path, const AttachOriginal& op,
                                      const BlobSource& bytes,
                                      const std::function<void()>& bytes_stored = {});

  // Bulk import (imports.cc: `imageattachfs import`, `import-imageattach`).
  // kTooBig when an original of `size` bytes is over the schema's max_bytes
  // for `path`: judged before the bytes are read, as a flush judges an upload.
  Status check_original_size(const ImagePath& path, uint64_t size) const;
  // What storing `bytes` as the original at `path` with `mtime_ns` takes:
  // nothing (or only the mtime) when the set holds these bytes under this
  // extension; else the bytes judged exactly as an upload is (judge_original:
  // same checks, same errors, kInvalid / kTooBig). Stores nothing.
  Result<ImportPlan> plan_import(const ImagePath& path, std::span<const uint8_t> bytes,
                                 int64_t mtime_ns);
  // Applies the ops of plans (bytes[i] the blob of ops[i], empty for
  // kSetMtime) in one write transaction: all are stored, or none (see
  // Store::apply_all, which also says why two ops may not carry one blob).
  Result<std::vector<ApplyOutcome>> commit_imports(std::span<const Op> ops,
                                                   std::span<const std::span<const uint8_t>> bytes);

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

  // Restores (restores.cc): what a backup tool's writes of thumbnails,
  // attributes and directory mtimes mean (README "Backing up and restoring").
  //
  // setxattr(2) of `name` to `value` on the file at `path`, whose node shows
  // `shown` (if any). Only user.image.*: else kNotSupported. On an original,
  // a value equal to the one shown succeeds and changes nothing;
  // user.image.created_at (RFC 3339) sets it (one op); another value of an
  // attribute computed from the bytes is kPermission. On a scratch file or
  // an original being uploaded, created_at is kept for the commit and the
  // others (judged from the bytes at the commit) are accepted; on a
  // thumbnail, every one is accepted and nothing changes (a thumbnail is
  // the mount's own, made from the original). kInvalid: a malformed value.
  Status set_xattr(const ImagePath& path, const std::optional<FileVersion>& shown,
                   const std::string& name, std::string_view value);
  // A scratch file of thumb/ renamed onto thumbnail `to`: its bytes are
  // dropped; returns the mount's own thumbnail there (made now if it was not
  // stored), or nullopt when there is none (no original, or larger than it).
  Result<std::optional<FileVersion>> keep_own_thumbnail(const ImagePath& scratch,
                                                        const ImagePath& to);
  // A directory's mtime: what utimens last set (kept in the store), or
  // nullopt when none did.
  std::optional<int64_t> directory_mtime(const ImagePath& dir);
  Status set_directory_mtime(const ImagePath& dir, int64_t mtime_ns);
  // A thumbnail's version as it shows now: its original's mtime and
  // created_at (touch or a restore may have changed them since its lookup).
  void refresh_thumbnail(const ImagePath& thumbnail, FileVersion& version);

  // The user.image.* extended attributes of a file, in listing order.
  std::vector<std::pair<std::string, std::string>> xattrs_of(const FileVersion& version) const;
  // Those of the file at `path` showing `version` (focus.cc): xattrs_of and,
  // on an original that is still the set's, user.image.focus when it has one.
  std::vector<std::pair<std::string, std::string>> attributes_of(const ImagePath& path,
                                                                 const FileVersion& version);
  // setxattr (`text`) or removexattr (nullopt) of user.image.focus at `path`
  // (focus.cc): on a committed original, one SetFocus op (the outcome names
  // the -cover thumbnails it dropped); on a scratch file or an open upload,
  // kept for its commit. kInvalid: not "x,y" in 0…1 (attach/focus_text.h);
  // kNotSupported: not an original or scratch file; kNotFound: no such original.
  Result<ApplyOutcome> set_focus(const ImagePath& path, std::optional<std::string_view> text);

  // The bytes of the metadata file at `path` (kIndexFile, kMetaFile): JSON
  // of what the attachment or set holds now, read in one transaction
  // (attach/metadata.h). kNotFound when it holds no original.
  Result<std::string> metadata_text(const ImagePath& path);

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
  // The name of the thumbnail object of `original` under `spec` and its
  // generation now, and its key (shared_thumbnails.cc).
  Result<std::pair<SharedThumbnailName, uint64_t>> thumbnail_generation(
      const SetRecord& original, const ThumbnailSpec& spec, const AttachmentSchema& attachment);
  Result<std::string> current_thumbnail_key(const SetRecord& original, const ThumbnailSpec& spec,
                                            const AttachmentSchema& attachment);
  // The quality `spec` is made at under `attachment`.
  static int quality_of(const ThumbnailSpec& spec, const AttachmentSchema& attachment);
  // rm of a thumbnail on a bucket's store: a DropThumb in the log, then a
  // DELETE of the generation it ends.
  Status drop_shared_thumbnail(const ImagePath& path);
  // The bytes of thumbnail `spec` of `original` by `plan`
  // (shared_thumbnails.cc): another host's, or resized here (took_ns: how
  // long; 0 when not resized here). `replaced`: the original's bytes went
  // while they were read, or a drop_thumb ended the generation
  // they were of.
  Result<SharedThumbnail> thumbnail_of(const SetRecord& original, const ThumbnailSpec& spec,
                                       const ThumbnailPlan& plan,
                                       const AttachmentSchema& attachment, int64_t& took_ns,
                                       bool& replaced);
  // Runs `read` of bytes [offset, offset + length) of blob `id` (of `size`
  // bytes) once they are here: fetched first when they are not; evicted
  // before `read` ran, fetched again.
  Status read_fetched(BlobId id, uint64_t size, uint64_t offset, uint64_t length,
                      const std::function<Status()>& read);
  // `stored_now` (if given): set to whether this call stored the thumbnail.
  Result<FileVersion> make_now(const ImageSetKey& set, const ThumbnailSpec& spec,
                               bool* stored_now = nullptr);
  Status list_set_directory(const ImagePath& dir, const std::function<bool(DirEntry&&)>& fn);
  Status list_thumbnails(const ImagePath& dir, const std::function<bool(DirEntry&&)>& fn);
  Status list_scratch_files(const ImagePath& dir, const std::function<bool(DirEntry&&)>& fn);
  Status list_entity(const ImagePath& dir, const std::function<bool(DirEntry&&)>& fn);
  Result<ApplyOutcome> commit_scratch(const ImagePath& from, const ImagePath& to);
  Result<ApplyOutcome> move_set(const ImagePath& from, const ImagePath& to);
  bool target_exists(const ImagePath& to);
  Result<std::unique_ptr<StagedFile>> open_upload(const ImagePath& path, bool truncate,
                                                  pid_t opener);
  // Counts an upload refused with `error` under its reason.
  void count_refusal(const Error& error);
  // judge_original without taking a decode permit (the caller holds one for
  // `bytes`).
  Result<AttachOriginal> judge(const ImagePath& path, std::span<const uint8_t> bytes,
                               int64_t mtime_ns, int64_t created_ns);
  // Calls `fn` on each open upload of the original `path`, under the
  // registry's lock; returns whether there was one.
  bool for_each_upload_of(const ImagePath& path, const std::function<void(StagedFile&)>& fn);

  Store& store_;
  std::unique_ptr<Committer> local_committer_;  // when no committer was given
  Committer& committer_;
  const Schema& schema_;
  StagingArea& staging_;
  std::atomic<uint64_t> resizes_{0};
  Counter thumbnails_made_;     // resized and stored
  Counter thumbnails_found_;    // looked up, stored already
  Counter thumbnail_failures_;  // could not be made
  Counter uploads_committed_;   // commits that changed the original
  std::array<Counter, kRefusalReasons> uploads_refused_;
  SecondsHistogram thumbnail_seconds_;  // decode + resize + encode of each one made
  DecodeGate decodes_;                  // permits for a decode of an original, by count and bytes
  std::mutex uploads_mutex_;
  std::multimap<ImageSetKey, StagedFile*> uploads_;  // open uploads, by set
  std::map<pid_t, unsigned> uploads_by_opener_;      // uploads_mutex_
  RemovedThumbnails removed_thumbnails_;
  ThumbnailBudget* budget_ = nullptr;
  CacheBudget* cache_ = nullptr;
  std::atomic<bool> eager_on_{false};
  Counter eager_made_;     // eager thumbnails resized and stored
  Counter eager_dropped_;  // eager thumbnails not queued: the background queue was full
  ThumbnailPool pool_;     // last: its threads stop before the rest is destroyed
};

}  // namespace iafs
