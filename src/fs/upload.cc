// create, write and flush of originals and scratch files.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fs/operations.h"
#include "fs/uploads.h"
#include "path/path.h"

namespace iafs {
namespace {

Status write_all(int fd, const uint8_t* data, size_t size, off_t off) {
  while (size > 0) {
    ssize_t n = pwrite(fd, data, size, off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return error_from_errno("write to the staging file");
    data += n;
    size -= static_cast<size_t>(n);
    off += n;
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<OpenFile>> begin_upload(Filesystem& fs, const ImagePath& path,
                                               bool truncate) {
  auto fd = fs.sets().staging().new_upload_file();
  if (!fd) return fd.error();
  if (!truncate) {
    auto current = fs.sets().find_original(path);
    if (current) {
      Status copied = Status::Ok();
      Status read = fs.sets().store().read_blob(
          current->blob, current->size, 0, current->size, [&](auto pieces) {
            off_t off = 0;
            for (auto piece : pieces) {
              if (copied) copied = write_all(fd->get(), piece.data(), piece.size(), off);
              off += static_cast<off_t>(piece.size());
            }
          });
      if (!read) return read.error();
      if (!copied) return copied.error();
    }
  }
  auto file = std::make_unique<OpenFile>();
  file->kind = OpenFile::Kind::kUpload;
  file->path = path;
  file->fd = std::move(fd).value();
  fs.add_upload(file.get());  // removed by release_file()
  return file;
}

Status commit_staged(Filesystem& fs, const ImagePath& path, int fd, int64_t mtime_ns,
                     SetDirLock lock) {
  auto mapped = MappedFile::map(fd);
  if (!mapped) return mapped.error();
  auto outcome = fs.sets().commit_original(path, {mapped->data(), mapped->size()}, mtime_ns);
  if (!outcome) {
    fs.invalidate_files(path);
    return outcome.error();
  }
  if (!outcome->changed) return Status::Ok();
  // The original's name (and a replaced one under another extension) now
  // names a new version; its old inode's data may have been emptied by O_TRUNC.
  ImagePath set_dir = parent_path(path);
  fs.invalidate_files(path);
  std::vector<std::string> names = {base_name(path)};
  if (outcome->before && outcome->before->ext != path.original_ext) {
    names.push_back("original." + outcome->before->ext);
  }
  for (const std::string& name : names) {
    if (lock == SetDirLock::kFree) {
      fs.invalidate_entry(set_dir, name);
    } else {
      fs.invalidate_entry_later(set_dir, name);
    }
  }
  fs.invalidate_thumbnails(set_dir, outcome->dropped_thumbnails);
  return Status::Ok();
}

void op_create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t, fuse_file_info* fi) {
  Filesystem& fs = fs_of(req);
  auto dir = fs.node_or_reply(req, parent);
  if (!dir) return;
  auto path = child_path(dir->path, name, fs.sets().schema());
  Result<std::unique_ptr<OpenFile>> file = make_error(ErrorCode::kInvalid, "not a name to create");
  std::optional<ScratchFile> scratch;
  if (dir->path.kind == NodeKind::kThumbDir) {
    file = make_error(ErrorCode::kPermission, "thumbnails are made, not written");
  } else if (!path) {
    file = make_error(ErrorCode::kInvalid, path.error().message);
  } else if (path->kind == NodeKind::kOriginal) {
    file = begin_upload(fs, *path, true);
  } else if (path->kind == NodeKind::kStaging) {
    auto created = fs.sets().staging().create_scratch(path_string(dir->path), name);
    file = created ? open_scratch_file(*path, *created, O_RDWR | O_TRUNC)
                   : Result<std::unique_ptr<OpenFile>>(created.error());
    if (created) scratch = *created;
  }
  if (!file) {
    fs.log_refusal(std::string("create ") + name + " in", dir->path, file.error());
    return reply_error(req, file.error());
  }
  fuse_ino_t nodeid =
      scratch ? fs.inodes().ref_scratch(*path, scratch->id) : fs.inodes().ref_pending(*path);
  auto node = fs.inodes().get(nodeid);
  auto st = fs.attributes(*node, file->get());
  if (!st) {
    fs.inodes().forget(nodeid, 1);
    return reply_error(req, st.error());
  }
  fuse_entry_param e{};
  e.ino = nodeid;
  e.generation = 1;
  e.attr = *st;
  e.attr_timeout = 0;  // the size changes with every write until the commit
  e.entry_timeout = 0;
  fi->fh = reinterpret_cast<uint64_t>(file->release());
  fi->keep_cache = 0;
  if (fuse_reply_create(req, &e, fi) == -ENOENT) {
    release_file(fs, reinterpret_cast<OpenFile*>(fi->fh));
  }
}

void op_write(fuse_req_t req, fuse_ino_t, const char* buf, size_t size, off_t off,
              fuse_file_info* fi) {
  auto* file = reinterpret_cast<OpenFile*>(fi->fh);
  if (!file->fd) return reply_error(req, make_error(ErrorCode::kPermission, "read-only file"));
  Status written = write_all(file->fd.get(), reinterpret_cast<const uint8_t*>(buf), size, off);
  if (!written) return reply_error(req, written.error());
  fuse_reply_write(req, size);
}

// Every flush judges the bytes staged so far (a dup'ed descriptor flushes more
// than once); committing the same bytes again changes nothing.
void op_flush(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  Filesystem& fs = fs_of(req);
  auto* file = reinterpret_cast<OpenFile*>(fi->fh);
  if (file->kind != OpenFile::Kind::kUpload) {
    fuse_reply_err(req, 0);
    return;
  }
  Status committed = Status::Ok();
  {
    // Released before the reply: once close() returns, RELEASE may free the file.
    std::lock_guard lock(file->mutex);
    committed = commit_staged(fs, file->path, file->fd.get(), file->mtime_ns, SetDirLock::kFree);
    file->refusal.reset();
    if (!committed) file->refusal = committed.error();
  }
  if (!committed) return reply_error(req, committed.error());
  fuse_reply_err(req, 0);
}

}  // namespace iafs
