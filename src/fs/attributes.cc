// setattr, the xattrs and statfs. Modes are fixed (chmod and chown succeed and
// change nothing, for cp -a, rsync -a and tar); utimens on an original sets
// its stored mtime.
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstring>

#include "attach/focus_text.h"
#include "base/clock.h"
#include "fs/operations.h"
#include "path/path.h"

namespace iafs {
namespace {

timespec mtime_to_set(const struct stat* attr, int to_set) {
  if (to_set & FUSE_SET_ATTR_MTIME_NOW) return to_timespec(now_ns());
  return attr->st_mtim;
}

Status set_size(Filesystem& fs, const Node& node, OpenFile* file, off_t size, pid_t pid) {
  // A restore truncating a thumbnail (open(O_TRUNC) by cp -a): nothing changes.
  if (node.path.kind == NodeKind::kThumbnail) return Status::Ok();
  if (file != nullptr && file->staged) return file->staged->truncate(size);
  // open(O_TRUNC) truncates without the file handle it just opened.
  if (file == nullptr && node.path.kind == NodeKind::kOriginal) {
    return fs.sets().truncate_upload(node.path, pid, size);
  }
  return make_error(ErrorCode::kPermission, "only an open upload or scratch file can be resized");
}

Status set_mtime(Filesystem& fs, const Node& node, OpenFile* file, int64_t mtime_ns) {
  if (file != nullptr && file->staged && file->staged->kind() == StagedFile::Kind::kUpload) {
    file->staged->set_commit_mtime(mtime_ns);  // applied at the commit
    return Status::Ok();
  }
  switch (node.path.kind) {
    case NodeKind::kIndexFile:
    case NodeKind::kMetaFile:
      return make_error(ErrorCode::kPermission, "metadata files are read-only");
    case NodeKind::kStaging:
      return fs.sets().set_scratch_mtime(node.path, mtime_ns);
    case NodeKind::kOriginal:
      // futimens() of an upload (cp -p) arrives without its file handle.
      if (fs.sets().set_upload_mtime(node.path, mtime_ns)) return Status::Ok();
      return status_of(fs.sets().set_mtime(node.path, mtime_ns));
    case NodeKind::kThumbnail:
      return Status::Ok();  // its original's mtime (README "Backing up")
    default:
      return fs.sets().set_directory_mtime(node.path, mtime_ns);
  }
}

// The image whose attributes a node shows: its version (as stored now: a
// restore may have set its created_at), or for a node with none (an original
// just created), the original stored at its path.
std::optional<FileVersion> image_of(Filesystem& fs, const Node& node) {
  if (node.path.kind == NodeKind::kThumbnail && node.version) {
    FileVersion shown = *node.version;
    fs.sets().refresh_thumbnail(node.path, shown);
    return shown;
  }
  if (node.path.kind != NodeKind::kOriginal) return node.version;
  auto current = fs.sets().find_original(node.path);
  if (current && (!node.version || current->blob == node.version->blob)) return *current;
  return node.version;
}

// After touch of an original: the kernel's attributes of its thumbnails (each
// shows the original's mtime) are asked again.
void add_thumbnail_attributes(Filesystem& fs, Invalidations& changes, const ImagePath& original) {
  ImagePath thumb_dir = thumb_dir_path(original.set, original.multiple);
  (void)fs.sets().list(thumb_dir, std::nullopt, [&](DirEntry&& entry) {
    if (entry.path.kind != NodeKind::kThumbnail) return true;
    fs.add_files(changes, entry.path);
    Filesystem::add_peer_attributes(changes, entry.path);
    return true;
  });
}

// setxattr (`value`) or removexattr (nullopt) of user.image.focus: the
// dropped -cover thumbnails' names are invalidated before the reply, so the
// next open after it makes the new crop.
void change_focus(fuse_req_t req, Filesystem& fs, const Node& node,
                  std::optional<std::string_view> value) {
  auto changed = fs.sets().set_focus(node.path, value);
  if (!changed) {
    if (changed.error().code != ErrorCode::kNotSupported &&
        changed.error().code != ErrorCode::kNoAttribute) {
      fs.log_refusal(value ? "setxattr user.image.focus of" : "removexattr user.image.focus of",
                     node.path, changed.error());
    }
    return reply_error(req, changed.error());
  }
  Invalidations changes;
  if (changed->changed) {
    fs.add_thumbnails(changes, parent_path(node.path), changed->dropped_thumbnails);
  }
  fs.reply_after(std::move(changes), [req] { fuse_reply_err(req, 0); });
}

}  // namespace

void op_getattr(fuse_req_t req, fuse_ino_t nodeid, fuse_file_info* fi) {
  Filesystem& fs = fs_of(req);
  auto node = fs.node_or_reply(req, nodeid);
  if (!node) return;
  const OpenFile* open = node->path.is_directory() ? nullptr : open_file_of(fi);
  auto st = fs.stat_of(*node, open);
  if (!st) return reply_error(req, st.error());
  fuse_reply_attr(req, &*st, fs.timeouts().attr);
}

void op_setattr(fuse_req_t req, fuse_ino_t nodeid, struct stat* attr, int to_set,
                fuse_file_info* fi) {
  Filesystem& fs = fs_of(req);
  auto node = fs.node_or_reply(req, nodeid);
  if (!node) return;
  OpenFile* file = node->path.is_directory() ? nullptr : open_file_of(fi);
  Status changed = Status::Ok();
  if (to_set & FUSE_SET_ATTR_SIZE) {
    changed = set_size(fs, *node, file, attr->st_size, fuse_req_ctx(req)->pid);
  }
  if (changed && (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW))) {
    changed = set_mtime(fs, *node, file, to_ns(mtime_to_set(attr, to_set)));
  }
  if (!changed) {
    fs.log_refusal("setattr", node->path, changed.error());
    return reply_error(req, changed.error());
  }
  auto st = fs.stat_of(*node, file);
  if (!st) return reply_error(req, st.error());
  Invalidations changes;
  if (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW)) {
    // A thumbnail shows its original's mtime whatever was set.
    if (node->path.kind != NodeKind::kThumbnail) st->st_mtim = mtime_to_set(attr, to_set);
    if (node->path.kind == NodeKind::kOriginal) {
      Filesystem::add_peer_attributes(changes, node->path);
      add_thumbnail_attributes(fs, changes, node->path);
    } else if (node->path.is_directory()) {
      Filesystem::add_peer_attributes(changes, node->path);
    }
  }
  double timeout = fs.timeouts().attr;
  fs.reply_after(std::move(changes),
                 [req, st = *st, timeout] { fuse_reply_attr(req, &st, timeout); });
}

void op_getxattr(fuse_req_t req, fuse_ino_t nodeid, const char* name, size_t size) {
  Filesystem& fs = fs_of(req);
  auto node = fs.node_or_reply(req, nodeid);
  if (!node) return;
  // Names outside user.* (SELinux labels, ACLs): ENOTSUP, so that ls -l asks once.
  if (std::strncmp(name, "user.", 5) != 0) {
    return reply_error(req, make_error(ErrorCode::kNotSupported, "only user.image.*"));
  }
  if (std::optional<FileVersion> version = image_of(fs, *node)) {
    for (const auto& [key, value] : fs.sets().attributes_of(node->path, *version)) {
      if (key != name) continue;
      if (size == 0) return (void)fuse_reply_xattr(req, value.size());
      if (size < value.size()) return reply_error(req, make_error(ErrorCode::kRange, "small"));
      return (void)fuse_reply_buf(req, value.data(), value.size());
    }
  }
  reply_error(req, make_error(ErrorCode::kNoAttribute, "no such attribute"));
}

void op_listxattr(fuse_req_t req, fuse_ino_t nodeid, size_t size) {
  Filesystem& fs = fs_of(req);
  auto node = fs.node_or_reply(req, nodeid);
  if (!node) return;
  std::string names;
  if (std::optional<FileVersion> version = image_of(fs, *node)) {
    for (const auto& [key, value] : fs.sets().attributes_of(node->path, *version)) {
      names.append(key);
      names.push_back('\0');
    }
  }
  if (size == 0) return (void)fuse_reply_xattr(req, names.size());
  if (size < names.size()) return reply_error(req, make_error(ErrorCode::kRange, "small"));
  fuse_reply_buf(req, names.data(), names.size());
}

// A restore's setxattr (rsync -X, cp -a): see ImageSets::set_xattr.
void op_setxattr(fuse_req_t req, fuse_ino_t nodeid, const char* name, const char* value,
                 size_t size, int) {
  Filesystem& fs = fs_of(req);
  auto node = fs.node_or_reply(req, nodeid);
  if (!node) return;
  if (is_metadata_file(node->path)) {
    return reply_error(req, make_error(ErrorCode::kPermission, "metadata files are read-only"));
  }
  if (name == kFocusAttribute) return change_focus(req, fs, *node, std::string_view(value, size));
  Status set =
      fs.sets().set_xattr(node->path, image_of(fs, *node), name, std::string_view(value, size));
  if (!set && set.error().code != ErrorCode::kNotSupported) {
    fs.log_refusal(std::string("setxattr ") + name + " of", node->path, set.error());
  }
  reply_status(req, set);
}

// Only user.image.focus can be removed.
void op_removexattr(fuse_req_t req, fuse_ino_t nodeid, const char* name) {
  if (name != kFocusAttribute) {
    return reply_error(req, make_error(ErrorCode::kNotSupported, "attributes are read-only"));
  }
  Filesystem& fs = fs_of(req);
  auto node = fs.node_or_reply(req, nodeid);
  if (!node) return;
  change_focus(req, fs, *node, std::nullopt);
}

void op_statfs(fuse_req_t req, fuse_ino_t) {
  Filesystem& fs = fs_of(req);
  struct statvfs st {};
  if (statvfs(fs.store_dir().c_str(), &st) != 0) {
    return reply_error(req, make_error(ErrorCode::kIo, "statvfs"));
  }
  st.f_namemax = 255;
  fuse_reply_statfs(req, &st);
}

}  // namespace iafs
