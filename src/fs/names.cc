// unlink, rename, link, symlink and mknod.
#include <stdio.h>  // RENAME_NOREPLACE

#include "fs/operations.h"
#include "log/log.h"
#include "path/path.h"

namespace iafs {
namespace {

// The kernel's view after a rename that attach carried out: which nodes now
// name what, and which names to invalidate.
void renamed_nodes(Filesystem& fs, const ImagePath& from, const ImagePath& to,
                   const RenameOutcome& outcome, Invalidations& changes) {
  switch (outcome.kind) {
    case RenameOutcome::Kind::kCommitted:
      fs.add_commit(changes, to, outcome.applied, true);
      // The kernel now shows the scratch file's inode (its pages hold the
      // bytes just committed) under the original's name: that node is the
      // committed version's, and the name is looked up again once the
      // kernel lets go of the directory.
      fs.retarget(
          from, to,
          outcome.applied.after ? std::optional(version_of(*outcome.applied.after)) : std::nullopt);
      return;
    case RenameOutcome::Kind::kScratchRenamed:
      fs.retarget(from, to);
      return;
    case RenameOutcome::Kind::kThumbnailKept:
      // The kernel shows the scratch file's inode under the thumbnail's name
      // at once: that node is the mount's own thumbnail now, and the pages
      // and size the kernel keeps of the scratch bytes are dropped before the
      // reply. Its next lookup, once the kernel lets go of thumb/, finds the
      // thumbnail's own node.
      for (fuse_ino_t nodeid : fs.inodes().find_files(from)) changes.inodes.push_back(nodeid);
      fs.retarget(from, to, outcome.thumbnail);
      fs.add_entry(changes, parent_path(to), base_name(to), true);
      return;
    case RenameOutcome::Kind::kSetMoved:
      fs.inodes().move_set_nodes(from.set, to.set);
      Filesystem::add_peer_moved_dir(changes, from);
      Filesystem::add_peer_moved_dir(changes, to);
      return;
    case RenameOutcome::Kind::kNothing:
      return;
  }
}

}  // namespace

void op_unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Filesystem& fs = fs_of(req);
  auto child = fs.child_or_reply(req, parent, name);
  if (!child) return;
  const ImagePath& path = child->path;
  Status removed = make_error(ErrorCode::kIsDirectory, "a directory");
  Invalidations changes;
  if (path.kind == NodeKind::kOriginal) {
    auto outcome = fs.sets().remove_original(path);
    removed = status_of(outcome);
    if (outcome) fs.add_thumbnails(changes, child->dir.path, outcome->dropped_thumbnails);
  } else if (path.kind == NodeKind::kThumbnail) {
    removed = fs.sets().remove_thumbnail(path, fuse_req_ctx(req)->pid);
  } else if (path.kind == NodeKind::kStaging) {
    removed = fs.sets().remove_scratch(path);
  } else if (path.kind == NodeKind::kMetrics || is_metadata_file(path)) {
    removed = make_error(ErrorCode::kPermission, "a read-only file");
    fs.log_refusal("unlink", path, removed.error());
  }
  if (removed && path.kind != NodeKind::kStaging) {
    Filesystem::add_peer_name(changes, child->dir.path, name);
  }
  fs.reply_after(std::move(changes), [req, removed] { reply_status(req, removed); });
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
  Result<RenameOutcome> renamed = RenameOutcome{};
  if ((flags & ~RENAME_NOREPLACE) != 0) {
    renamed = make_error(ErrorCode::kInvalid, "only RENAME_NOREPLACE is supported");
  } else if (!to) {
    // No name can be made in thumb/ or the daemon's own directory, nor can
    // its files go anywhere.
    bool read_only = newdir->path.kind == NodeKind::kThumbDir ||
                     newdir->path.kind == NodeKind::kControlDir ||
                     from->kind == NodeKind::kMetrics || from->kind == NodeKind::kControlDir ||
                     is_metadata_file(*from);
    renamed =
        make_error(read_only ? ErrorCode::kPermission : ErrorCode::kInvalid, to.error().message);
  } else {
    renamed = fs.sets().rename(*from, *to, (flags & RENAME_NOREPLACE) != 0);
  }
  Invalidations changes;
  if (renamed) {
    renamed_nodes(fs, *from, *to, *renamed, changes);
  } else if (renamed.error().code != ErrorCode::kNotFound &&
             renamed.error().code != ErrorCode::kExists) {
    // Both names; a target that does not parse as the client wrote it.
    std::string target = to ? path_string(*to) : path_string(newdir->path);
    if (!to) target += (target.ends_with('/') ? "" : "/") + std::string(newname);
    log_warning("rename " + path_string(*from) + " to " + target +
                ": refused: " + renamed.error().message);
  }
  Status status = status_of(renamed);
  fs.reply_after(std::move(changes), [req, status] { reply_status(req, status); });
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
