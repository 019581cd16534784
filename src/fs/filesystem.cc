// Filesystem: attributes, entries and invalidation shared by the operations.
#include "fs/filesystem.h"

#include <sys/stat.h>
#include <time.h>

#include "log/log.h"
#include "path/path.h"

namespace iafs {
namespace {

timespec to_timespec(int64_t ns) {
  return timespec{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
}

}  // namespace

Filesystem::Filesystem(std::string store_dir, uid_t uid, gid_t gid)
    : store_dir_(std::move(store_dir)), uid_(uid), gid_(gid) {
  clock_gettime(CLOCK_REALTIME, &mount_time_);
}

std::optional<Node> Filesystem::node_or_reply(fuse_req_t req, fuse_ino_t nodeid) {
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

Result<struct stat> Filesystem::attributes(const Node& node, const OpenFile* open) {
  struct stat st {};
  st.st_ino = node.nodeid;
  st.st_uid = uid_;
  st.st_gid = gid_;
  st.st_blksize = 128 * 1024;
  if (node.path.is_directory()) {
    st.st_mode = S_IFDIR | 0755;
    st.st_nlink = 2;
    st.st_mtim = st.st_ctim = st.st_atim = mount_time_;
    return st;
  }
  st.st_nlink = 1;
  if (open != nullptr && open->fd && open->kind != OpenFile::Kind::kVersion) {
    struct stat staged;
    if (fstat(open->fd.get(), &staged) != 0) return make_error(ErrorCode::kIo, "fstat");
    st.st_mode = S_IFREG | 0644;
    st.st_size = staged.st_size;
    st.st_mtim = st.st_ctim = st.st_atim = staged.st_mtim;
    st.st_blocks = (st.st_size + 511) / 512;
    return st;
  }
  std::optional<FileVersion> version = node.version;
  if (node.path.kind == NodeKind::kStaging) {
    auto file =
        sets_->staging().find_scratch(path_string(parent_path(node.path)), node.path.staging_name);
    struct stat staged;
    if (!file || file->id != node.scratch_id || stat(file->file.c_str(), &staged) != 0) {
      return make_error(ErrorCode::kNotFound, "scratch file gone");
    }
    st.st_mode = S_IFREG | 0644;
    st.st_size = staged.st_size;
    st.st_mtim = st.st_ctim = st.st_atim = staged.st_mtim;
    st.st_blocks = (st.st_size + 511) / 512;
    return st;
  }
  if (node.path.kind == NodeKind::kOriginal) {
    // The mtime of an original can change under its version (touch).
    auto current = sets_->find_original(node.path);
    if (current && (!version || current->blob == version->blob)) {
      version = *current;
    } else if (!version) {
      // Being created: an empty file until its first commit.
      st.st_mode = S_IFREG | 0644;
      clock_gettime(CLOCK_REALTIME, &st.st_mtim);
      st.st_ctim = st.st_atim = st.st_mtim;
      return st;
    }
  }
  if (!version) return make_error(ErrorCode::kNotFound, "no such file");
  st.st_mode = S_IFREG | (version->is_thumbnail ? 0444 : 0644);
  st.st_size = static_cast<off_t>(version->size);
  st.st_blocks = (st.st_size + 511) / 512;
  st.st_mtim = to_timespec(version->mtime_ns);
  st.st_ctim = st.st_atim = st.st_mtim;
  return st;
}

Result<fuse_entry_param> Filesystem::entry_for(const ImagePath& path,
                                               const std::optional<FileVersion>& version,
                                               const std::optional<ScratchFile>& scratch) {
  fuse_ino_t nodeid;
  if (path.is_directory()) {
    nodeid = inodes_.ref_directory(path);
  } else if (scratch) {
    nodeid = inodes_.ref_scratch(path, scratch->id);
  } else if (version) {
    nodeid = inodes_.ref_version(path, *version);
  } else {
    return make_error(ErrorCode::kNotFound, "no such file");
  }
  std::optional<Node> node = inodes_.get(nodeid);
  auto st = node ? attributes(*node) : Result<struct stat>(make_error(ErrorCode::kNotFound, ""));
  if (!st) {
    inodes_.forget(nodeid, 1);
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

void Filesystem::invalidate_entry(const ImagePath& dir, const std::string& name) {
  if (session_ == nullptr) return;
  auto parent = inodes_.find_directory(path_string(dir));
  if (!parent) return;
  fuse_lowlevel_notify_inval_entry(session_, *parent, name.c_str(), name.size());
}

void Filesystem::invalidate_files(const ImagePath& path) {
  if (session_ == nullptr) return;
  for (fuse_ino_t nodeid : inodes_.find_files(path_string(path))) {
    fuse_lowlevel_notify_inval_inode(session_, nodeid, 0, 0);
  }
}

void Filesystem::invalidate_thumbnails(const ImagePath& set_dir,
                                       const std::vector<ThumbnailSpec>& specs) {
  ImagePath thumb_dir = thumb_dir_path(set_dir.set, set_dir.multiple);
  for (const ThumbnailSpec& spec : specs) invalidate_entry(thumb_dir, thumbnail_name(spec));
}

void Filesystem::invalidate_entry_later(const ImagePath& dir, const std::string& name) {
  auto parent = inodes_.find_directory(path_string(dir));
  if (!parent) return;
  std::lock_guard lock(later_mutex_);
  later_.emplace_back(*parent, name);
}

void Filesystem::send_later() {
  std::vector<std::pair<fuse_ino_t, std::string>> pending;
  {
    std::lock_guard lock(later_mutex_);
    pending.swap(later_);
  }
  if (session_ == nullptr) return;
  for (const auto& [parent, name] : pending) {
    fuse_lowlevel_notify_inval_entry(session_, parent, name.c_str(), name.size());
  }
}

void Filesystem::add_upload(OpenFile* file) {
  std::lock_guard lock(uploads_mutex_);
  uploads_.emplace(path_string(file->path), file);
}

void Filesystem::remove_upload(OpenFile* file) {
  std::lock_guard lock(uploads_mutex_);
  auto [begin, end] = uploads_.equal_range(path_string(file->path));
  for (auto it = begin; it != end; ++it) {
    if (it->second == file) {
      uploads_.erase(it);
      return;
    }
  }
}

bool Filesystem::set_upload_mtime(const ImagePath& path, int64_t mtime_ns) {
  std::lock_guard lock(uploads_mutex_);
  auto [begin, end] = uploads_.equal_range(path_string(path));
  for (auto it = begin; it != end; ++it) it->second->mtime_ns = mtime_ns;
  return begin != end;
}

void Filesystem::log_refusal(const std::string& op, const ImagePath& path, const Error& error) {
  log_warning(op + " " + path_string(path) + ": refused: " + error.message);
}

}  // namespace iafs
