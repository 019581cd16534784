// open, read, release and fsync. Readers of an original or a thumbnail read
// one immutable version, pinned while open, straight from the store's map.
#include <fcntl.h>
#include <sys/uio.h>

#include <vector>

#include "fs/operations.h"
#include "fs/snapshots.h"

namespace iafs {
namespace {

bool wants_write(int flags) { return (flags & O_ACCMODE) != O_RDONLY; }

// Opens the version a node names, or for a node with no version (a created or
// renamed-onto original), the one stored at its path now.
Result<std::unique_ptr<OpenFile>> open_version(Filesystem& fs, const Node& node) {
  auto file = std::make_unique<OpenFile>();
  file->path = node.path;
  file->version = node.version;  // pinned by its node
  if (!file->version) {
    auto current = fs.sets().pin_original(node.path);
    if (!current) return current.error();
    file->version = *current;
    file->pinned = true;
  }
  return file;
}

Result<std::unique_ptr<OpenFile>> open_staged(const ImagePath& path,
                                              Result<std::unique_ptr<StagedFile>> staged) {
  if (!staged) return staged.error();
  auto file = std::make_unique<OpenFile>();
  file->path = path;
  file->staged = std::move(staged).value();
  return file;
}

}  // namespace

Result<std::unique_ptr<OpenFile>> open_node(Filesystem& fs, const Node& node, int flags,
                                            pid_t opener) {
  switch (node.path.kind) {
    case NodeKind::kStaging:
      return open_staged(node.path, fs.sets().open_scratch(node.path, node.scratch_id, flags));
    case NodeKind::kThumbnail: {
      if (!wants_write(flags)) {
        if (node.version) fs.sets().touch_thumbnail(node.path, *node.version);
        return open_version(fs, node);
      }
      // A restore writing over a thumbnail (cp -a, tar -x --overwrite): its
      // writes are dropped, the mount's thumbnail stays.
      if (fs.sets().read_only()) {
        return make_error(ErrorCode::kReadOnly, "the store is mounted read-only");
      }
      auto file = std::make_unique<OpenFile>();
      file->path = node.path;
      file->discard = true;
      file->version = node.version;  // pinned by its node
      if (!file->version) {
        // A writer node (fs/writer_nodes.h): reads give the stored thumbnail.
        auto found = fs.sets().find_thumbnail(node.path);
        if (found && found->stored && fs.sets().pin(*found->stored)) {
          file->version = found->stored;
          file->pinned = true;
        }
      }
      return file;
    }
    case NodeKind::kOriginal:
      if (wants_write(flags)) {
        return open_staged(node.path,
                           fs.sets().begin_upload(node.path, (flags & O_TRUNC) != 0, opener));
      }
      return open_version(fs, node);
    default:
      return make_error(ErrorCode::kIsDirectory, "a directory");
  }
}

void op_open(fuse_req_t req, fuse_ino_t nodeid, fuse_file_info* fi) {
  Filesystem& fs = fs_of(req);
  auto node = fs.node_or_reply(req, nodeid);
  if (!node) return;
  if (fs.serving()) {
    if (wants_write(fi->flags)) return reply_error(req, make_error(ErrorCode::kReadOnly, "serve"));
    // Its node pins the version it names until FORGET: the kernel may read
    // it without opening (ENOSYS: no OPEN, no RELEASE from now on, and the
    // pages of the immutable version kept).
    if (fs.no_open() && !node->path.is_directory()) {
      return reply_error(req, make_error(ErrorCode::kNotAsked, "no OPEN"));
    }
  }
  // A snapshot node is read by nodeid and gets no file handle (fs/snapshots.h).
  if (node->snapshot) return open_snapshot(req, *node, fi);
  pid_t pid = fuse_req_ctx(req)->pid;
  // A thumbnail written over by a restore too: its dropped writes would
  // grow the size that the readers' inode shows.
  bool writable_kind =
      node->path.kind == NodeKind::kOriginal || node->path.kind == NodeKind::kThumbnail;
  if (writable_kind && node->version && wants_write(fi->flags) &&
      fs.writers().send_back(pid, node->path)) {
    return reply_error(req, make_error(ErrorCode::kStale, "a writer gets a node of its own"));
  }
  auto file = open_node(fs, *node, fi->flags, pid);
  if (file && ((*file)->staged || (*file)->discard)) fs.writers().opened(pid, node->path);
  if (!file) {
    ErrorCode code = file.error().code;
    if (code == ErrorCode::kPermission) fs.log_refusal("open for writing", node->path, file.error());
    if (code == ErrorCode::kIo) fs.log_refusal("open", node->path, file.error());
    return reply_error(req, file.error());
  }
  fi->keep_cache = (*file)->version.has_value() && !(*file)->discard;  // immutable
  fi->noflush = !wants_write(fi->flags);
  // An upload's writes go straight to its staged bytes, never into the page
  // cache of the inode that readers of the committed version share.
  fi->direct_io =
      ((*file)->staged && (*file)->staged->kind() == StagedFile::Kind::kUpload) || (*file)->discard;
  fi->fh = reinterpret_cast<uint64_t>(file->release());
  if (fuse_reply_open(req, fi) == -ENOENT) {
    // The opener was interrupted: nothing will release this file.
    release_file(fs, &handle_of<OpenFile>(fi));
  }
}

namespace {

// A read with no file handle (a connection that opens without OPEN, or a
// snapshot's open): of the version the node names, pinned from its lookup to
// its FORGET, or of its snapshot.
void read_node(fuse_req_t req, Filesystem& fs, fuse_ino_t nodeid, size_t size, off_t off) {
  auto node = fs.node_or_reply(req, nodeid);
  if (!node) return;
  if (node->snapshot) return read_snapshot(req, *node, size, off);
  if (!node->version) {
    Error error = make_error(ErrorCode::kIo, "a read without an open file");
    fs.log_refusal("read", node->path, error);
    return reply_error(req, error);
  }
  read_version(req, fs, node->path, *node->version, size, off);
}

}  // namespace

void read_version(fuse_req_t req, Filesystem& fs, const ImagePath& path,
                  const FileVersion& version, size_t size, off_t off) {
  if (static_cast<uint64_t>(off) >= version.size) {
    fuse_reply_buf(req, nullptr, 0);
    return;
  }
  Status read = fs.sets().read(version, off, size, [req](auto pieces) {
    // Straight from the store's memory map to the kernel, no copy.
    std::vector<iovec> iov(pieces.size());
    for (size_t i = 0; i < pieces.size(); ++i) {
      iov[i].iov_base = const_cast<uint8_t*>(pieces[i].data());
      iov[i].iov_len = pieces[i].size();
    }
    fuse_reply_iov(req, iov.data(), static_cast<int>(iov.size()));
  });
  if (!read) {
    fs.log_refusal("read", path, read.error());
    reply_error(req, read.error());
  }
}

void op_read(fuse_req_t req, fuse_ino_t nodeid, size_t size, off_t off, fuse_file_info* fi) {
  Filesystem& fs = fs_of(req);
  if (fi == nullptr || fi->fh == 0) return read_node(req, fs, nodeid, size, off);
  OpenFile& file = handle_of<OpenFile>(fi);
  if (file.staged) {
    fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
    buf.buf[0].flags = static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
    buf.buf[0].fd = file.staged->fd();
    buf.buf[0].pos = off;
    fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
    return;
  }
  if (!file.version) return (void)fuse_reply_buf(req, nullptr, 0);  // a discarding create
  read_version(req, fs, file.path, *file.version, size, off);
}

void release_file(Filesystem& fs, OpenFile* released) {
  std::unique_ptr<OpenFile> file(released);
  if (file->pinned) fs.sets().unpin(*file->version);
  if (file->staged && file->staged->kind() == StagedFile::Kind::kUpload) {
    fs.sets().end_upload(*file->staged);
  }
}

void op_release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  if (fi->fh != 0) release_file(fs_of(req), &handle_of<OpenFile>(fi));  // 0: a snapshot's
  fuse_reply_err(req, 0);
}

void op_fsync(fuse_req_t req, fuse_ino_t, int, fuse_file_info*) {
  // Committed originals are durable when FLUSH returns (LMDB syncs its commit);
  // staged bytes become durable only by being committed.
  fuse_reply_err(req, 0);
}

}  // namespace iafs
