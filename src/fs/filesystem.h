// The mounted filesystem: FUSE low-level operations translating kernel
// requests to ImageSets calls (DESIGN §5, §5b). One file per group of
// operations; errno values are born only in errno_of() (errors.cc).
#pragma once

#include <fuse_lowlevel.h>
#include <sys/stat.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "attach/image_sets.h"
#include "fs/inode_table.h"
#include "fs/notifier.h"
#include "fs/writer_nodes.h"
#include "imageattachfs/result.h"

namespace iafs {

// An open file (fi->fh): a pinned version, or a staged file being written.
struct OpenFile {
  ImagePath path;
  std::optional<FileVersion> version;  // reading a version
  std::unique_ptr<StagedFile> staged;  // an upload or a scratch file
  bool pinned = false;                 // this open pinned `version` (its node names none)
  // A thumbnail opened for writing (a restore: cp -a, tar -x): its writes
  // are accepted and dropped, reads give `version` (README "Backing up").
  bool discard = false;
  std::atomic<bool> written = false;  // discard: a write was dropped
};

// A directory handle (fi->fh of opendir): the listing position (DESIGN §5a).
struct DirHandle {
  std::mutex mutex;
  off_t next_offset = 0;            // the offset after the last entry returned
  std::optional<ListCursor> after;  // streaming listings: resume after this entry
};

// The object a file handle names (REQUIRES: set by open/create/opendir).
template <typename Handle>
Handle& handle_of(const fuse_file_info* fi) {
  return *reinterpret_cast<Handle*>(fi->fh);
}
// The open file of a request, if it has one (setattr and getattr may not).
inline OpenFile* open_file_of(const fuse_file_info* fi) {
  return fi != nullptr && fi->fh != 0 ? &handle_of<OpenFile>(fi) : nullptr;
}

struct FsTimeouts {
  double entry = 86400.0;  // names are invalidated explicitly when they change
  double attr = 86400.0;
};

// What one request changed, for the other mounts of the store (-o serve=):
// their kernels saw none of it, so it is named by path and resolved against
// each peer's own nodes.
struct PeerChanges {
  std::vector<std::pair<ImagePath, std::string>> names;  // (directory, name)
  std::vector<ImagePath> attributes;  // files and directories whose attributes (mtime) changed
  std::vector<ImagePath> moved_dirs;  // set directories that now hold other images
  bool empty() const { return names.empty() && attributes.empty() && moved_dirs.empty(); }
};

// Invalidations of kernel caches that one request makes: `entries` are sent
// before its reply, `entries_after` after it (names in a directory the
// kernel holds locked for the request: DESIGN §5b), `inodes` before it;
// `peers` to every other mount of the store, before the reply.
struct Invalidations {
  std::vector<std::pair<fuse_ino_t, std::string>> entries;
  std::vector<std::pair<fuse_ino_t, std::string>> entries_after;
  std::vector<fuse_ino_t> inodes;
  PeerChanges peers;
};

class Filesystem {
 public:
  // The filesystem of the store in `store_dir`; requests are served once
  // set_sets() has been called (after daemonizing: LMDB and libvips do not
  // survive fork()).
  // The mount shows `uid`, `gid` as every file's owner, and modes without the
  // bits of `umask` (directories 0777, originals 0666, thumbnails 0444).
  Filesystem(std::string store_dir, uid_t uid, gid_t gid, mode_t umask = 022);

  // The operation table for fuse_session_new; serve_operations() for a
  // serve mount: every write refused with EROFS, FLUSH with ENOSYS.
  static const fuse_lowlevel_ops& operations();
  static const fuse_lowlevel_ops& serve_operations();

  void set_session(fuse_session* session) { session_ = session; }
  // This mount serves the store read-only to web servers (-o serve=): no
  // writes, no scratch files shown, and once the kernel allows it no OPEN and
  // no FLUSH: a cached file is read with no request at all.
  void serve_read_only() { serving_ = true; }
  bool serving() const { return serving_; }
  // Called at INIT: whether the kernel opens files without asking (answering
  // OPEN with ENOSYS turns that on for the connection).
  void set_no_open(bool no_open) { no_open_ = no_open; }
  bool no_open() const { return no_open_; }
  // The readahead to set on the mount at `mountpoint` once INIT is done
  // (INIT sets it to the kernel's default): at the first request after it.
  void set_readahead(std::string mountpoint, unsigned kib) {
    readahead_mountpoint_ = std::move(mountpoint);
    readahead_kib_ = kib;
  }
  // Another mount of the same store: it gets this mount's PeerChanges.
  void add_peer(Filesystem* peer) { peers_.push_back(peer); }
  // Also starts the notifier thread: call after daemonizing.
  void set_sets(ImageSets* sets) {
    sets_ = sets;
    notifier_.start();
  }

  ImageSets& sets() { return *sets_; }
  const std::string& store_dir() const { return store_dir_; }
  InodeTable& inodes() { return inodes_; }
  WriterNodes& writers() { return writers_; }

  // The node of a request's nodeid; replies ENOENT and returns nullopt if unknown.
  std::optional<Node> node_or_reply(fuse_req_t req, fuse_ino_t nodeid);

  // The directory `parent` and the path of `name` in it. Replies with the
  // error and returns nullopt when either is unknown or outside the grammar.
  struct Child {
    Node dir;
    ImagePath path;
  };
  std::optional<Child> child_or_reply(fuse_req_t req, fuse_ino_t parent, const char* name);

  // The stat of a node (a FileVersion, a directory, a scratch file, a
  // pending original), or of the staged bytes of `open`. kNotFound when gone.
  Result<struct stat> stat_of(const Node& node, const OpenFile* open = nullptr);

  // Drops `count` lookups of a node; a version whose node goes is unpinned.
  void forget(fuse_ino_t nodeid, uint64_t count);
  // After a rename: the file nodes at `from` now name `to` (and `version`,
  // pinned, when the rename committed one).
  void retarget(const ImagePath& from, const ImagePath& to,
                const std::optional<FileVersion>& version = {});

  // The entry of the writer node of `path` for thread `pid`, if one is
  // wanted (fs/writer_nodes.h), taking one lookup ref.
  std::optional<fuse_entry_param> writer_entry(pid_t pid, const ImagePath& path);

  // Fills an entry for a directory listing or lookup, taking one lookup ref
  // (a new node of a version pins it; kNotFound if it is gone already).
  Result<fuse_entry_param> entry_for(const ImagePath& path, const std::optional<FileVersion>& v,
                                     const std::optional<ScratchFile>& scratch);

  // What to invalidate: the name `name` in directory `dir` (before or after
  // the reply), the data and attributes of every file node at `path`, the
  // names of thumbnails `specs` of a set.
  void add_entry(Invalidations& out, const ImagePath& dir, const std::string& name,
                 bool after_reply = false);
  void add_files(Invalidations& out, const ImagePath& path);
  void add_thumbnails(Invalidations& out, const ImagePath& set_dir,
                      const std::vector<ThumbnailSpec>& specs);
  // What a commit of the original at `path` changed (or, refused, what an
  // O_TRUNC open may have emptied): its file nodes, its name and a replaced
  // original's under another extension (after the reply when the kernel
  // holds the set directory: `dir_locked`), and its dropped thumbnails.
  void add_commit(Invalidations& out, const ImagePath& path, const Result<ApplyOutcome>& commit,
                  bool dir_locked);
  // For the peers only (this mount's kernel made these changes itself): the
  // name `name` in `dir` changed, the attributes of the files at `path`
  // changed, the set directory `dir` holds other images now.
  static void add_peer_name(Invalidations& out, const ImagePath& dir, const std::string& name);
  static void add_peer_attributes(Invalidations& out, const ImagePath& path);
  static void add_peer_moved_dir(Invalidations& out, const ImagePath& dir);
  // Sends `changes` and replies with `reply` (which calls fuse_reply_*), in
  // DESIGN §5b's order, on the notifier thread: the worker never waits on
  // the kernel. With nothing to invalidate first, replies at once.
  void reply_after(Invalidations changes, std::function<void()> reply);
  // Sends what is queued; later replies are sent inline. Call before the
  // session goes away.
  void stop_notifier() { notifier_.stop(); }
  // Applies another mount's changes to this mount's kernel: invalidates what
  // it knows of them (sent right here; call off the FUSE workers).
  void apply_peer_changes(const PeerChanges& changes);

  // Another host's changes to the bucket this store is on, applied to the
  // store: the kernel forgets what they changed, as a peer mount's would
  // (fs/remote_changes.cc), on a notifier thread: the caller never waits.
  void forget_remote(const std::vector<std::pair<Op, ApplyOutcome>>& changes);

  // Thumbnails evicted (thumb_budget, off the FUSE workers): the kernel is
  // told each name is deleted (fs/evictions.cc), as after rm thumb/X, so its
  // inode goes once no file is open on it and the next lookup makes it again.
  void forget_evicted(const std::vector<EvictedThumbnail>& evicted);

  // Logs a refusal: one line naming the path and the reason.
  void log_refusal(const std::string& op, const ImagePath& path, const Error& error);

  const FsTimeouts& timeouts() const { return timeouts_; }

 private:
  std::string store_dir_;
  ImageSets* sets_ = nullptr;
  InodeTable inodes_;
  WriterNodes writers_;
  fuse_session* session_ = nullptr;
  uid_t uid_;
  gid_t gid_;
  mode_t umask_;
  timespec mount_time_;
  FsTimeouts timeouts_;
  Notifier notifier_;
  bool serving_ = false;
  std::atomic<bool> no_open_ = false;
  std::vector<Filesystem*> peers_;
  std::string readahead_mountpoint_;
  unsigned readahead_kib_ = 0;
  std::once_flag readahead_once_;
};

// The errno of an Error: the one place errno values are born.
int errno_of(const Error& error);
// Replies to `req` with the errno of `error`.
void reply_error(fuse_req_t req, const Error& error);
// Replies 0, or the errno of the status' error.
void reply_status(fuse_req_t req, const Status& status);

// The filesystem of a request.
inline Filesystem& fs_of(fuse_req_t req) {
  return *static_cast<Filesystem*>(fuse_req_userdata(req));
}

}  // namespace iafs
