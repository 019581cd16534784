// open, read, release and fsync. Readers of an original or a thumbnail read
// one immutable version, pinned while open, straight from the store's map.
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "fs/operations.h"
#include "fs/uploads.h"
#include "path/path.h"

namespace iafs {
namespace {

bool wants_write(int flags) { return (flags & O_ACCMODE) != O_RDONLY; }

// Opens the version a node names, or for a node with no version (a created or
// renamed-onto original), the one stored at its path now.
Result<std::unique_ptr<OpenFile>> open_version(Filesystem& fs, const Node& node) {
  std::optional<FileVersion> version = node.version;
  if (!version) {
    auto current = fs.sets().find_original(node.path);
    if (!current) return current.error();
    version = *current;
  }
  if (Status s = fs.sets().store().pin(version->blob); !s) return s.error();
  auto file = std::make_unique<OpenFile>();
  file->kind = OpenFile::Kind::kVersion;
  file->path = node.path;
  file->version = version;
  return file;
}

Result<std::unique_ptr<OpenFile>> open_scratch(Filesystem& fs, const Node& node, int flags) {
  auto scratch =
      fs.sets().staging().find_scratch(path_string(parent_path(node.path)), node.path.staging_name);
  if (!scratch || scratch->id != node.scratch_id) {
    return make_error(ErrorCode::kNotFound, "the scratch file is gone");
  }
  return open_scratch_file(node.path, *scratch, flags);
}

}  // namespace

Result<std::unique_ptr<OpenFile>> open_scratch_file(const ImagePath& path,
                                                    const ScratchFile& scratch, int flags) {
  int fd = ::open(scratch.file.c_str(), (flags & (O_ACCMODE | O_TRUNC)) | O_CLOEXEC);
  if (fd < 0) return error_from_errno("open " + scratch.file);
  auto file = std::make_unique<OpenFile>();
  file->kind = OpenFile::Kind::kScratch;
  file->path = path;
  file->fd = UniqueFd(fd);
  return file;
}

void op_open(fuse_req_t req, fuse_ino_t nodeid, fuse_file_info* fi) {
  Filesystem& fs = fs_of(req);
  auto node = fs.node_or_reply(req, nodeid);
  if (!node) return;
  Result<std::unique_ptr<OpenFile>> file = make_error(ErrorCode::kIsDirectory, "a directory");
  if (node->path.kind == NodeKind::kStaging) {
    file = open_scratch(fs, *node, fi->flags);
  } else if (node->path.kind == NodeKind::kThumbnail && wants_write(fi->flags)) {
    file = make_error(ErrorCode::kPermission, "thumbnails are read-only");
  } else if (node->path.kind == NodeKind::kOriginal && wants_write(fi->flags)) {
    file = begin_upload(fs, node->path, (fi->flags & O_TRUNC) != 0);
  } else if (!node->path.is_directory()) {
    file = open_version(fs, *node);
  }
  if (!file) {
    if (file.error().code == ErrorCode::kPermission) {
      fs.log_refusal("open for writing", node->path, file.error());
    }
    return reply_error(req, file.error());
  }
  bool immutable = (*file)->kind == OpenFile::Kind::kVersion;
  fi->keep_cache = immutable;
  fi->noflush = !wants_write(fi->flags);
  fi->fh = reinterpret_cast<uint64_t>(file->release());
  if (fuse_reply_open(req, fi) == -ENOENT) {
    // The opener was interrupted: nothing will release this file.
    release_file(fs, reinterpret_cast<OpenFile*>(fi->fh));
  }
}

void op_read(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  Filesystem& fs = fs_of(req);
  auto* file = reinterpret_cast<OpenFile*>(fi->fh);
  if (file->kind != OpenFile::Kind::kVersion) {
    fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
    buf.buf[0].flags = static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
    buf.buf[0].fd = file->fd.get();
    buf.buf[0].pos = off;
    fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
    return;
  }
  const FileVersion& version = *file->version;
  if (static_cast<uint64_t>(off) >= version.size) {
    fuse_reply_buf(req, nullptr, 0);
    return;
  }
  Status read =
      fs.sets().store().read_blob(version.blob, version.size, off, size, [req](auto pieces) {
        // Straight from the store's memory map to the kernel, no copy.
        std::vector<iovec> iov(pieces.size());
        for (size_t i = 0; i < pieces.size(); ++i) {
          iov[i].iov_base = const_cast<uint8_t*>(pieces[i].data());
          iov[i].iov_len = pieces[i].size();
        }
        fuse_reply_iov(req, iov.data(), static_cast<int>(iov.size()));
      });
  if (!read) {
    fs.log_refusal("read", file->path, read.error());
    reply_error(req, read.error());
  }
}

void release_file(Filesystem& fs, OpenFile* released) {
  std::unique_ptr<OpenFile> file(released);
  if (file->kind == OpenFile::Kind::kVersion) fs.sets().store().unpin(file->version->blob);
  if (file->kind == OpenFile::Kind::kUpload) {
    fs.remove_upload(file.get());
    // One line per refused upload, and only if its last flush was refused.
    if (file->refusal) fs.log_refusal("write", file->path, *file->refusal);
  }
}

void op_release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  release_file(fs_of(req), reinterpret_cast<OpenFile*>(fi->fh));
  fuse_reply_err(req, 0);
}

void op_fsync(fuse_req_t req, fuse_ino_t, int, fuse_file_info*) {
  // Committed originals are durable when FLUSH returns (LMDB syncs its commit);
  // staged bytes become durable only by being committed.
  fuse_reply_err(req, 0);
}

}  // namespace iafs
