// Filesystem: attributes, entries and invalidation shared by the operations.
#include "fs/filesystem.h"

#include <sys/stat.h>
#include <time.h>

#include "base/clock.h"
#include "fs/sessions.h"
#include "fs/snapshots.h"
#include "log/log.h"
#include "path/path.h"

namespace iafs {
namespace {

void fill_regular(struct stat& st, mode_t mode, uint64_t size, const timespec& mtime) {
  st.st_mode = S_IFREG | mode;
  st.st_size = static_cast<off_t>(size);
  st.st_blocks = (st.st_size + 511) / 512;
  st.st_mtim = st.st_ctim = st.st_atim = mtime;
}

}  // namespace

Filesystem::Filesystem(std::string store_dir, uid_t uid, gid_t gid, mode_t umask)
    : store_dir_(std::move(store_dir)), uid_(uid), gid_(gid), umask_(umask & 0777) {
  clock_gettime(CLOCK_REALTIME, &mount_time_);
}

std::optional<Node> Filesystem::node_or_reply(fuse_req_t req, fuse_ino_t nodeid) {
  std::call_once(readahead_once_, [this] {
    if (!readahead_mountpoint_.empty()) raise_readahead(readahead_mountpoint_, readahead_kib_);
  });
  std::optional<Node> node = inodes_.get(nodeid);
  if (!node) reply_error(req, make_error(ErrorCode::kNotFound, "unknown nodeid"));
  return node;
}

std::optional<Filesystem::Child> Filesystem::child_or_reply(fuse_req_t req, fuse_ino_t parent,
                                                            const char* name) {
  std::optional<Node> dir = node_or_reply(req, parent);
  if (!dir) return std::nullopt;
  auto path = child_path(dir->path, name, sets_->schema());
  if (!path) {
    // A name outside the grammar is an everyday ENOENT (shells and web
    // servers probe names): logged only at debug level (-d).
    if (log_enabled(LogLevel::kDebug)) {
      log_debug("lookup in " + path_string(dir->path) + ": " + path.error().message);
    }
    reply_error(req, path.error());
    return std::nullopt;
  }
  return Child{std::move(*dir), std::move(*path)};
}

Result<struct stat> Filesystem::stat_of(const Node& node, const OpenFile* open) {
  struct stat st {};
  st.st_ino = node.nodeid;
  st.st_uid = uid_;
  st.st_gid = gid_;
  st.st_blksize = blksize_t{128} * 1024;
  if (node.path.is_directory()) {
    // The daemon's own directory takes no names.
    mode_t mode = node.path.kind == NodeKind::kControlDir ? 0555 : 0777;
    st.st_mode = S_IFDIR | (mode & ~umask_);
    st.st_nlink = 2;
    // What utimens set last (rsync -a, tar -x), kept in the store; else the
    // time of the mount.
    std::optional<int64_t> mtime;
    if (node.path.kind != NodeKind::kControlDir) mtime = sets_->directory_mtime(node.path);
    st.st_mtim = st.st_ctim = st.st_atim = mtime ? to_timespec(*mtime) : mount_time_;
    return st;
  }
  st.st_nlink = 1;
  if (node.snapshot) {
    fill_regular(st, 0444 & ~umask_, node.snapshot->bytes.size(),
                 to_timespec(node.snapshot->made_ns));
    return st;
  }
  // A version's node shows that version, even to an upload opened on it: its
  // size and pages are the readers' (DESIGN §5b). Other nodes being written
  // show the staged bytes.
  if (open != nullptr && open->staged && !node.version) {
    auto staged = open->staged->stat();
    if (!staged) return staged.error();
    fill_regular(st, 0666 & ~umask_, staged->st_size, staged->st_mtim);
    return st;
  }
  std::optional<FileVersion> version = node.version;
  if (node.path.kind == NodeKind::kStaging) {
    auto scratch = sets_->stat_scratch(node.path, node.scratch_id);
    if (!scratch) return scratch.error();
    fill_regular(st, 0666 & ~umask_, scratch->size, to_timespec(scratch->mtime_ns));
    return st;
  }
  if (node.path.kind == NodeKind::kOriginal) {
    // The mtime of an original can change under its version (touch).
    auto current = sets_->find_original(node.path);
    if (current && (!version || current->blob == version->blob)) {
      version = *current;
    } else if (!version) {
      // Being created: an empty file until its first commit.
      fill_regular(st, 0666 & ~umask_, 0, to_timespec(now_ns()));
      return st;
    }
  }
  if (node.path.kind == NodeKind::kThumbnail) {
    if (!version) {
      // Created by a restore before its original was there: nothing stored.
      fill_regular(st, 0444 & ~umask_, 0, to_timespec(now_ns()));
      return st;
    }
    // Its original's mtime, which touch may have changed since the lookup.
    sets_->refresh_thumbnail(node.path, *version);
  }
  if (!version) return make_error(ErrorCode::kNotFound, "no such file");
  fill_regular(st, (version->is_thumbnail ? 0444 : 0666) & ~umask_, version->size,
               to_timespec(version->mtime_ns));
  return st;
}

Result<fuse_entry_param> Filesystem::entry_for(const ImagePath& path,
                                               const std::optional<FileVersion>& version,
                                               const std::optional<ScratchFile>& scratch) {
  if (path.kind == NodeKind::kMetrics || is_metadata_file(path)) {
    return snapshot_entry(*this, path);
  }
  fuse_ino_t nodeid;
  if (path.is_directory()) {
    nodeid = inodes_.ref_directory(path);
  } else if (scratch) {
    nodeid = inodes_.ref_scratch(path, scratch->id);
  } else if (version) {
    // A version is pinned from its node's first lookup to its FORGET: the
    // kernel may open it (or, with no OPEN, read it) as long as it knows it.
    // The pin is taken before any other lookup can find the node.
    auto ref = inodes_.ref_version(path, *version, [&] { return sets_->pin(*version); });
    if (!ref) return ref.error();
    nodeid = *ref;
  } else {
    return make_error(ErrorCode::kNotFound, "no such file");
  }
  std::optional<Node> node = inodes_.get(nodeid);
  auto st = node ? stat_of(*node) : Result<struct stat>(make_error(ErrorCode::kNotFound, ""));
  if (!st) {
    forget(nodeid, 1);
    return st.error();
  }
  fuse_entry_param e{};
  e.ino = nodeid;
  e.generation = 1;
  e.attr = *st;
  e.attr_timeout = timeouts_.attr;
  e.entry_timeout = timeouts_.entry;
  return e;
}

std::optional<fuse_entry_param> Filesystem::writer_entry(pid_t pid, const ImagePath& path) {
  std::optional<fuse_ino_t> nodeid;
  if (!writers_.wanted(pid, path, &nodeid)) return std::nullopt;
  if (!nodeid || !inodes_.ref_existing(*nodeid)) {
    nodeid = inodes_.ref_pending(path);
    writers_.made(pid, path, *nodeid);
  }
  std::optional<Node> node = inodes_.get(*nodeid);
  auto st = node ? stat_of(*node) : Result<struct stat>(make_error(ErrorCode::kNotFound, ""));
  if (!st) {
    forget(*nodeid, 1);
    return std::nullopt;
  }
  fuse_entry_param e{};
  e.ino = *nodeid;
  e.generation = 1;
  e.attr = *st;
  // Others' next walk asks again, and finds the committed version.
  e.attr_timeout = 0;
  e.entry_timeout = 0;
  return e;
}

void Filesystem::forget(fuse_ino_t nodeid, uint64_t count) {
  std::optional<Node> gone = inodes_.forget(nodeid, count);
  if (gone && gone->version) sets_->unpin(*gone->version);
}

void Filesystem::retarget(const ImagePath& from, const ImagePath& to,
                          const std::optional<FileVersion>& version) {
  for (fuse_ino_t nodeid : inodes_.find_files(from)) {
    std::optional<FileVersion> pinned = version;
    if (pinned && !sets_->pin(*pinned)) pinned.reset();  // replaced already: resolve by path
    if (auto before = inodes_.retarget_file(nodeid, to, pinned)) sets_->unpin(*before);
  }
}

void Filesystem::add_entry(Invalidations& out, const ImagePath& dir, const std::string& name,
                           bool after_reply) {
  add_peer_name(out, dir, name);
  auto parent = inodes_.find_directory(dir);
  if (!parent) return;  // the kernel knows nothing in it
  (after_reply ? out.entries_after : out.entries).emplace_back(*parent, name);
}

void Filesystem::add_files(Invalidations& out, const ImagePath& path) {
  for (fuse_ino_t nodeid : inodes_.find_files(path)) out.inodes.push_back(nodeid);
}

void Filesystem::add_peer_name(Invalidations& out, const ImagePath& dir, const std::string& name) {
  out.peers.names.emplace_back(dir, name);
}

void Filesystem::add_peer_attributes(Invalidations& out, const ImagePath& path) {
  out.peers.attributes.push_back(path);
}

void Filesystem::add_peer_moved_dir(Invalidations& out, const ImagePath& dir) {
  out.peers.moved_dirs.push_back(dir);
}

void Filesystem::add_thumbnails(Invalidations& out, const ImagePath& set_dir,
                                const std::vector<ThumbnailSpec>& specs) {
  ImagePath thumb_dir = thumb_dir_path(set_dir.set, set_dir.multiple);
  for (const ThumbnailSpec& spec : specs) add_entry(out, thumb_dir, thumbnail_name(spec));
}

void Filesystem::add_commit(Invalidations& out, const ImagePath& path,
                            const Result<ApplyOutcome>& commit, bool dir_locked) {
  add_files(out, path);
  if (!commit || !commit->changed) return;
  ImagePath set_dir = parent_path(path);
  add_entry(out, set_dir, base_name(path), dir_locked);
  if (commit->before && commit->before->ext != path.original_ext) {
    add_entry(out, set_dir, base_name(original_path(path.set, path.multiple, commit->before->ext)),
              dir_locked);
  }
  add_thumbnails(out, set_dir, commit->dropped_thumbnails);
}

namespace {

void send_entries(fuse_session* session,
                  const std::vector<std::pair<fuse_ino_t, std::string>>& entries) {
  for (const auto& [parent, name] : entries) {
    fuse_lowlevel_notify_inval_entry(session, parent, name.c_str(), name.size());
  }
}

}  // namespace

void Filesystem::reply_after(Invalidations changes, std::function<void()> reply) {
  bool to_peers = !peers_.empty() && !changes.peers.empty();
  if (session_ == nullptr ||
      (changes.inodes.empty() && changes.entries.empty() && !to_peers)) {
    reply();
    reply = nullptr;
    if (session_ == nullptr || changes.entries_after.empty()) return;
  } else {
    reply = [this, reply = std::move(reply), before = changes, to_peers] {
      for (fuse_ino_t nodeid : before.inodes) {
        fuse_lowlevel_notify_inval_inode(session_, nodeid, 0, 0);
      }
      send_entries(session_, before.entries);
      // The peers' kernels hold no lock for this request: all of it now.
      if (to_peers) {
        for (Filesystem* peer : peers_) peer->apply_peer_changes(before.peers);
      }
      reply();
    };
  }
  notifier_.submit([this, reply = std::move(reply), changes = std::move(changes)] {
    if (reply) reply();
    send_entries(session_, changes.entries_after);
  });
}

void Filesystem::apply_peer_changes(const PeerChanges& changes) {
  if (session_ == nullptr) return;
  // A moved set's directory nodes go first, so that the next lookup of its
  // name makes a new directory inode: the old one's cached names (and its
  // thumb/) are the images that moved away.
  for (const ImagePath& dir : changes.moved_dirs) {
    inodes_.detach_directory(dir);
    if (auto parent = inodes_.find_directory(parent_path(dir))) {
      std::string name = base_name(dir);
      fuse_lowlevel_notify_inval_entry(session_, *parent, name.c_str(), name.size());
    }
  }
  for (const auto& [dir, name] : changes.names) {
    if (auto parent = inodes_.find_directory(dir)) {
      fuse_lowlevel_notify_inval_entry(session_, *parent, name.c_str(), name.size());
    }
  }
  // Attributes only (offset -1): a version's bytes never change, its pages stay.
  for (const ImagePath& path : changes.attributes) {
    if (path.is_directory()) {  // its mtime (README "Backing up and restoring")
      if (auto dir = inodes_.find_directory(path)) {
        fuse_lowlevel_notify_inval_inode(session_, *dir, -1, 0);
      }
      continue;
    }
    for (fuse_ino_t nodeid : inodes_.find_files(path)) {
      fuse_lowlevel_notify_inval_inode(session_, nodeid, -1, 0);
    }
  }
}

void Filesystem::log_refusal(const std::string& op, const ImagePath& path, const Error& error) {
  log_warning(op + " " + path_string(path) + ": refused: " + error.message);
}

}  // namespace iafs
