// create, write and flush of originals and scratch files.
#include "fs/operations.h"
#include "path/path.h"

namespace iafs {
namespace {

std::unique_ptr<OpenFile> staged_file(const ImagePath& path, std::unique_ptr<StagedFile> staged) {
  auto file = std::make_unique<OpenFile>();
  file->path = path;
  file->staged = std::move(staged);
  return file;
}

// A create of a thumbnail's name (a restore whose original is not there yet,
// or tar -x after its unlink): accepted, its bytes dropped.
std::unique_ptr<OpenFile> discarding_file(const ImagePath& path) {
  auto file = std::make_unique<OpenFile>();
  file->path = path;
  file->discard = true;
  return file;
}

}  // namespace

void op_create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t, fuse_file_info* fi) {
  Filesystem& fs = fs_of(req);
  auto dir = fs.node_or_reply(req, parent);
  if (!dir) return;
  auto path = child_path(dir->path, name, fs.sets().schema());
  Result<std::unique_ptr<OpenFile>> file = make_error(ErrorCode::kInvalid, "not a name to create");
  std::optional<ScratchFile> scratch;
  bool thumb_dir = dir->path.kind == NodeKind::kThumbDir;
  if (thumb_dir && path && path->kind == NodeKind::kThumbnail) {
    if (fs.sets().read_only()) {
      file = make_error(ErrorCode::kReadOnly, "the store is mounted read-only");
    } else {
      file = discarding_file(*path);
    }
  } else if (thumb_dir && (!path || path->kind != NodeKind::kStaging)) {
    file = make_error(ErrorCode::kPermission, "thumbnails are made, not written");
  } else if (dir->path.kind == NodeKind::kControlDir) {
    file = make_error(ErrorCode::kPermission, "the daemon's own directory is read-only");
  } else if (!path) {
    file = make_error(ErrorCode::kInvalid, path.error().message);
  } else if (is_metadata_file(*path)) {
    file = make_error(ErrorCode::kPermission, "metadata files are read-only");
  } else if (path->kind == NodeKind::kOriginal) {
    auto upload = fs.sets().begin_upload(*path, true, fuse_req_ctx(req)->pid);
    if (upload) {
      file = staged_file(*path, std::move(upload).value());
    } else {
      file = upload.error();
    }
  } else if (path->kind == NodeKind::kStaging) {
    auto created = fs.sets().create_scratch(*path);
    if (created) {
      scratch = created->first;
      file = staged_file(*path, std::move(created->second));
    } else {
      file = created.error();
    }
  }
  if (!file) {
    fs.log_refusal(std::string("create ") + name + " in", dir->path, file.error());
    return reply_error(req, file.error());
  }
  fuse_ino_t nodeid =
      scratch ? fs.inodes().ref_scratch(*path, scratch->id) : fs.inodes().ref_pending(*path);
  auto node = fs.inodes().get(nodeid);
  auto st = fs.stat_of(*node, file->get());
  if (!st) {
    fs.forget(nodeid, 1);
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
  if (fuse_reply_create(req, &e, fi) == -ENOENT) release_file(fs, &handle_of<OpenFile>(fi));
}

void op_write(fuse_req_t req, fuse_ino_t, const char* buf, size_t size, off_t off,
              fuse_file_info* fi) {
  if (fi->fh == 0) return reply_error(req, make_error(ErrorCode::kPermission, "read-only file"));
  OpenFile& file = handle_of<OpenFile>(fi);
  if (file.discard) {
    file.written = true;
    return (void)fuse_reply_write(req, size);
  }
  if (!file.staged) return reply_error(req, make_error(ErrorCode::kPermission, "read-only file"));
  Status written = file.staged->write({reinterpret_cast<const uint8_t*>(buf), size}, off);
  if (!written) return reply_error(req, written.error());
  fuse_reply_write(req, size);
}

// Every flush judges the bytes staged so far (a dup'ed descriptor flushes more
// than once); committing the same bytes again changes nothing.
void op_flush(fuse_req_t req, fuse_ino_t nodeid, fuse_file_info* fi) {
  Filesystem& fs = fs_of(req);
  if (fi->fh == 0) return (void)fuse_reply_err(req, 0);  // a snapshot's open (fs/snapshots.h)
  OpenFile& file = handle_of<OpenFile>(fi);
  if (file.discard && file.written) {
    // The kernel grew its size with the dropped writes: it asks again.
    Invalidations changes;
    changes.inodes.push_back(nodeid);
    return fs.reply_after(std::move(changes), [req] { fuse_reply_err(req, 0); });
  }
  if (!file.staged || file.staged->kind() != StagedFile::Kind::kUpload) {
    fuse_reply_err(req, 0);
    return;
  }
  auto committed = fs.sets().commit_upload(*file.staged);
  Invalidations changes;
  fs.add_commit(changes, file.path, committed, false);
  Status status = status_of(committed);
  fs.reply_after(std::move(changes), [req, status] { reply_status(req, status); });
}

}  // namespace iafs
