// unlink, rename, link, symlink and mknod.
#include <fcntl.h>
#include <stdio.h>  // RENAME_NOREPLACE
#include <sys/stat.h>

#include "fs/operations.h"
#include "fs/uploads.h"
#include "log/log.h"
#include "path/path.h"

namespace iafs {
namespace {

// Renaming a scratch file onto original.<ext> commits it: the only replacement
// that is atomic for concurrent readers. Its mtime becomes the original's.
Status commit_scratch(Filesystem& fs, const ImagePath& from, const ImagePath& to) {
  auto scratch =
      fs.sets().staging().find_scratch(path_string(parent_path(from)), from.staging_name);
  if (!scratch) return make_error(ErrorCode::kNotFound, "no such file");
  UniqueFd fd(::open(scratch->file.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (!fd || fstat(fd.get(), &st) != 0)
    return make_error(ErrorCode::kIo, "cannot read " + scratch->file);
  int64_t mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  if (Status s = commit_staged(fs, to, fd.get(), mtime_ns, SetDirLock::kHeldByOp); !s) return s;
  // The kernel now shows the scratch file's inode under the original's name:
  // that node resolves to the committed original, and the name is looked up
  // again once the kernel lets go of the directory.
  for (fuse_ino_t nodeid : fs.inodes().find_files(path_string(from))) {
    fs.inodes().retarget_file(nodeid, to);
  }
  (void)fs.sets().staging().remove_scratch(path_string(parent_path(from)), from.staging_name);
  return Status::Ok();
}

Status rename_path(Filesystem& fs, const ImagePath& from, const ImagePath& to) {
  switch (from.kind) {
    case NodeKind::kImageSet: {
      if (to.kind != NodeKind::kImageSet) {
        return make_error(to.kind == NodeKind::kThumbDir || !to.is_directory()
                              ? ErrorCode::kInvalid
                              : ErrorCode::kCrossDevice,
                          "a set moves onto another set directory (use mv -T)");
      }
      auto moved = fs.sets().move_set(from, to);
      if (!moved) return moved.error();
      fs.inodes().move_directory(from, to);
      return Status::Ok();
    }
    case NodeKind::kStaging:
      if (to.kind == NodeKind::kOriginal) return commit_scratch(fs, from, to);
      if (to.kind == NodeKind::kStaging) {
        Status renamed =
            fs.sets().staging().rename_scratch(path_string(parent_path(from)), from.staging_name,
                                               path_string(parent_path(to)), to.staging_name);
        if (!renamed) return renamed;
        for (fuse_ino_t nodeid : fs.inodes().find_files(path_string(from))) {
          fs.inodes().retarget_file(nodeid, to);
        }
        return Status::Ok();
      }
      return make_error(ErrorCode::kInvalid,
                        "a scratch file renames to a scratch or original name");
    case NodeKind::kOriginal:
      return make_error(ErrorCode::kPermission, "a committed original cannot be renamed");
    case NodeKind::kThumbnail:
      return make_error(ErrorCode::kPermission, "thumbnails cannot be renamed");
    default:
      return make_error(ErrorCode::kCrossDevice, "only image sets move (use mv -T on a set)");
  }
}

// Whether a rename onto `to` would replace something (RENAME_NOREPLACE): an
// original, a scratch file, or a set directory holding an original.
bool target_exists(Filesystem& fs, const ImagePath& to) {
  switch (to.kind) {
    case NodeKind::kOriginal:
      return fs.sets().find_original(to).ok();
    case NodeKind::kStaging:
      return fs.sets()
          .staging()
          .find_scratch(path_string(parent_path(to)), to.staging_name)
          .has_value();
    case NodeKind::kImageSet: {
      auto held = fs.sets().store().get_set(to.set);
      return held.ok() && held->has_value();
    }
    default:
      return false;
  }
}

}  // namespace

void op_unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Filesystem& fs = fs_of(req);
  auto child = fs.child_or_reply(req, parent, name);
  if (!child) return;
  const Node* dir = &child->dir;
  const ImagePath* path = &child->path;
  Status removed = make_error(ErrorCode::kIsDirectory, "a directory");
  if (path->kind == NodeKind::kOriginal) {
    auto outcome = fs.sets().remove_original(*path);
    removed = outcome ? Status::Ok() : Status(outcome.error());
    if (outcome) fs.invalidate_thumbnails(dir->path, outcome->dropped_thumbnails);
  } else if (path->kind == NodeKind::kThumbnail) {
    removed = fs.sets().remove_thumbnail(*path);
  } else if (path->kind == NodeKind::kStaging) {
    removed = fs.sets().staging().remove_scratch(path_string(dir->path), name);
  }
  if (!removed) return reply_error(req, removed.error());
  fuse_reply_err(req, 0);
}

void op_rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
               const char* newname, unsigned int flags) {
  Filesystem& fs = fs_of(req);
  auto dir = fs.node_or_reply(req, parent);
  if (!dir) return;
  auto newdir = fs.node_or_reply(req, newparent);
  if (!newdir) return;
  const Schema& schema = fs.sets().schema();
  auto from = child_path(dir->path, name, schema);
  if (!from) return reply_error(req, from.error());
  auto to = child_path(newdir->path, newname, schema);
  Status renamed = Status::Ok();
  if ((flags & ~RENAME_NOREPLACE) != 0) {
    renamed = make_error(ErrorCode::kInvalid, "only RENAME_NOREPLACE is supported");
  } else if (to && (flags & RENAME_NOREPLACE) && target_exists(fs, *to)) {
    renamed = make_error(ErrorCode::kExists, "the target exists");
  } else if (!to) {
    renamed = make_error(
        newdir->path.kind == NodeKind::kThumbDir ? ErrorCode::kPermission : ErrorCode::kInvalid,
        to.error().message);
  } else {
    renamed = rename_path(fs, *from, *to);
  }
  if (!renamed) {
    if (renamed.error().code != ErrorCode::kNotFound &&
        renamed.error().code != ErrorCode::kExists) {
      fs.log_refusal(std::string("rename to ") + newname + " of", *from, renamed.error());
    }
    reply_error(req, renamed.error());
  } else {
    fuse_reply_err(req, 0);
  }
  fs.send_later();
}

void op_link(fuse_req_t req, fuse_ino_t, fuse_ino_t, const char*) {
  reply_error(req, make_error(ErrorCode::kPermission, "no hard links"));
}

void op_symlink(fuse_req_t req, const char*, fuse_ino_t, const char*) {
  reply_error(req, make_error(ErrorCode::kPermission, "no symbolic links"));
}

void op_mknod(fuse_req_t req, fuse_ino_t, const char*, mode_t, dev_t) {
  reply_error(req, make_error(ErrorCode::kPermission, "no device nodes"));
}

}  // namespace iafs
