// lookup and forget. A lookup of a thumbnail not stored yet hands the request
// to the resize pool, which replies when the thumbnail is stored.
#include "fs/operations.h"

namespace iafs {
namespace {

void reply_entry(fuse_req_t req, Result<fuse_entry_param> entry) {
  if (!entry) {
    reply_error(req, entry.error());
    return;
  }
  fuse_reply_entry(req, &*entry);
}

void lookup_thumbnail(fuse_req_t req, Filesystem& fs, const ImagePath& path) {
  // The serve mount takes no writes: a thread's own removal of a thumbnail
  // (through the main mount) hides it from that thread only there.
  pid_t looker = fs.serving() ? 0 : fuse_req_ctx(req)->pid;
  if (auto writer = fs.serving() ? std::nullopt : fs.writer_entry(looker, path)) {
    return (void)fuse_reply_entry(req, &*writer);  // a restore writing over it
  }
  auto found = fs.sets().find_thumbnail(path, looker);
  if (!found) return reply_error(req, found.error());
  if (found->stored) {
    auto entry = fs.entry_for(path, found->stored, std::nullopt);
    // Evicted (thumb_budget) between finding and pinning it: made again below.
    if (entry || entry.error().code != ErrorCode::kNotFound) {
      return reply_entry(req, std::move(entry));
    }
  }
  fs.sets().make_thumbnail(path, [req, &fs, path](const Result<FileVersion>& made) {
    if (!made) {
      fs.log_refusal("thumbnail", path, made.error());
      return reply_error(req, made.error());
    }
    reply_entry(req, fs.entry_for(path, *made, std::nullopt));
  });
}

}  // namespace

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Filesystem& fs = fs_of(req);
  auto child = fs.child_or_reply(req, parent, name);
  if (!child) return;
  const ImagePath& path = child->path;
  switch (path.kind) {
    case NodeKind::kOriginal: {
      if (auto writer = fs.serving() ? std::nullopt : fs.writer_entry(fuse_req_ctx(req)->pid, path)) {
        return (void)fuse_reply_entry(req, &*writer);
      }
      // A version replaced between finding and pinning it: find the new one.
      Result<fuse_entry_param> entry = make_error(ErrorCode::kNotFound, "no such original");
      for (int attempt = 0; attempt < 8; ++attempt) {
        auto version = fs.sets().find_original(path);
        if (!version) return reply_error(req, version.error());
        entry = fs.entry_for(path, *version, std::nullopt);
        if (entry || entry.error().code != ErrorCode::kNotFound) break;
      }
      return reply_entry(req, std::move(entry));
    }
    case NodeKind::kThumbnail:
      return lookup_thumbnail(req, fs, path);
    case NodeKind::kStaging: {
      // Uploads in progress are the writers' business, not the web's.
      if (fs.serving()) return reply_error(req, make_error(ErrorCode::kNotFound, "no such file"));
      auto scratch = fs.sets().find_scratch(path);
      if (!scratch) return reply_error(req, make_error(ErrorCode::kNotFound, "no such file"));
      return reply_entry(req, fs.entry_for(path, std::nullopt, scratch));
    }
    default:
      return reply_entry(req, fs.entry_for(path, std::nullopt, std::nullopt));
  }
}

void op_forget(fuse_req_t req, fuse_ino_t nodeid, uint64_t nlookup) {
  fs_of(req).forget(nodeid, nlookup);
  fuse_reply_none(req);
}

void op_forget_multi(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  for (size_t i = 0; i < count; ++i) fs_of(req).forget(forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}

}  // namespace iafs
