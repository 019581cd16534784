// opendir, readdir, readdirplus, releasedir, mkdir and rmdir. Listing streams:
// a type with millions of ids is walked by cursor, resuming after the last
// name returned (DESIGN §5a); readdir never makes thumbnails.
#include <memory>

#include "fs/operations.h"
#include "path/path.h"

namespace iafs {
namespace {

constexpr off_t kFirstEntryOffset = 2;     // "." is offset 0 -> 1, ".." 1 -> 2
constexpr ino_t kUnknownIno = 0xffffffff;  // d_ino of plain readdir entries (not a nodeid)

bool is_streaming(NodeKind kind) {
  return kind == NodeKind::kType || kind == NodeKind::kAttachment;
}

mode_t type_bits(const ImagePath& path) { return path.is_directory() ? S_IFDIR : S_IFREG; }

// Fills `buf` with the entries of one readdir(plus) reply of at most `size`
// bytes starting at `off`; returns the bytes used.
Result<size_t> fill_directory(Filesystem& fs, fuse_req_t req, const Node& node, DirHandle& handle,
                              char* buf, size_t size, off_t off, bool plus) {
  size_t used = 0;
  off_t pos = off;
  auto add = [&](const std::string& name, const fuse_entry_param& e) -> bool {
    size_t need = plus ? fuse_add_direntry_plus(req, nullptr, 0, name.c_str(), nullptr, 0)
                       : fuse_add_direntry(req, nullptr, 0, name.c_str(), nullptr, 0);
    if (used + need > size) return false;
    if (plus) {
      fuse_add_direntry_plus(req, buf + used, size - used, name.c_str(), &e, pos + 1);
    } else {
      fuse_add_direntry(req, buf + used, size - used, name.c_str(), &e.attr, pos + 1);
    }
    used += need;
    ++pos;
    return true;
  };
  // The dots: plain entries, no lookup counted.
  fuse_entry_param dot{};
  dot.attr.st_mode = S_IFDIR;
  dot.attr.st_ino = kUnknownIno;
  if (pos == 0) add(".", dot);
  if (pos == 1) add("..", dot);
  std::optional<ListCursor> after;
  off_t skip = 0;
  if (pos >= kFirstEntryOffset) {
    if (is_streaming(node.path.kind) && pos == handle.next_offset && handle.after) {
      after = handle.after;
    } else {
      skip = pos - kFirstEntryOffset;  // a seek elsewhere: walk again
    }
  }
  Status listed = fs.sets().list(node.path, after, [&](DirEntry&& entry) {
    if (fs.serving() && entry.path.kind == NodeKind::kStaging) return true;  // see op_lookup
    if (skip > 0) {
      --skip;
      return true;
    }
    fuse_entry_param e{};
    const std::string name = base_name(entry.path);
    size_t need = plus ? fuse_add_direntry_plus(req, nullptr, 0, name.c_str(), nullptr, 0)
                       : fuse_add_direntry(req, nullptr, 0, name.c_str(), nullptr, 0);
    if (used + need > size) return false;
    if (plus) {
      auto made = fs.entry_for(entry.path, entry.version, entry.scratch);
      if (!made) return true;  // gone since it was listed
      e = *made;
    } else {
      e.attr.st_mode = type_bits(entry.path);
      e.attr.st_ino = kUnknownIno;
    }
    add(name, e);
    handle.after = entry.cursor;
    return true;
  });
  if (!listed && used == 0) return listed.error();
  handle.next_offset = pos;
  return used;
}

void reply_directory(fuse_req_t req, fuse_ino_t nodeid, size_t size, off_t off, fuse_file_info* fi,
                     bool plus) {
  Filesystem& fs = fs_of(req);
  auto node = fs.node_or_reply(req, nodeid);
  if (!node) return;
  DirHandle& handle = handle_of<DirHandle>(fi);
  std::unique_ptr<char[]> buf(new char[size]);
  Result<size_t> used = size_t{0};
  {
    // Released before the reply: once readdir returns, RELEASEDIR may free the handle.
    std::lock_guard lock(handle.mutex);
    used = fill_directory(fs, req, *node, handle, buf.get(), size, off, plus);
  }
  if (!used) return reply_error(req, used.error());
  fuse_reply_buf(req, buf.get(), *used);
}

}  // namespace

void op_opendir(fuse_req_t req, fuse_ino_t nodeid, fuse_file_info* fi) {
  auto node = fs_of(req).node_or_reply(req, nodeid);
  if (!node) return;
  auto handle = std::make_unique<DirHandle>();
  fi->fh = reinterpret_cast<uint64_t>(handle.get());
  // Owned by the kernel's open directory from here to RELEASEDIR.
  if (fuse_reply_open(req, fi) != -ENOENT) (void)handle.release();
}

void op_readdir(fuse_req_t req, fuse_ino_t nodeid, size_t size, off_t off, fuse_file_info* fi) {
  reply_directory(req, nodeid, size, off, fi, false);
}

void op_readdirplus(fuse_req_t req, fuse_ino_t nodeid, size_t size, off_t off, fuse_file_info* fi) {
  reply_directory(req, nodeid, size, off, fi, true);
}

void op_releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  std::unique_ptr<DirHandle> handle(&handle_of<DirHandle>(fi));
  fuse_reply_err(req, 0);
}

void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t) {
  Filesystem& fs = fs_of(req);
  auto dir = fs.node_or_reply(req, parent);
  if (!dir) return;
  auto path = child_path(dir->path, name, fs.sets().schema());
  Error error = make_error(ErrorCode::kInvalid, "not a directory of the namespace");
  if (path && path->is_directory()) {
    // Every well-formed directory exists already (the lookup raced a rename).
    error = make_error(ErrorCode::kExists, "exists");
  } else if (dir->path.kind == NodeKind::kThumbDir) {
    error = make_error(ErrorCode::kPermission, "thumbnails are made, not written");
  } else if (dir->path.kind == NodeKind::kControlDir) {
    error = make_error(ErrorCode::kPermission, "the daemon's own directory is read-only");
  }
  if (error.code != ErrorCode::kExists) {
    fs.log_refusal(std::string("mkdir ") + name + " in", dir->path, error);
  }
  reply_error(req, error);
}

void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Filesystem& fs = fs_of(req);
  auto child = fs.child_or_reply(req, parent, name);
  if (!child) return;
  const ImagePath* path = &child->path;
  if (!path->is_directory()) return reply_error(req, make_error(ErrorCode::kNotDirectory, name));
  Status removed = fs.sets().remove_directory(*path);
  if (!removed) return reply_error(req, removed.error());
  fs.inodes().detach_directory(*path);
  fuse_reply_err(req, 0);
}

}  // namespace iafs
