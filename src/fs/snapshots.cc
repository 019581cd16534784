#include "fs/snapshots.h"

#include <fcntl.h>

#include <algorithm>
#include <memory>

#include "base/clock.h"
#include "log/log.h"
#include "path/path.h"

namespace iafs {

Result<fuse_entry_param> snapshot_entry(Filesystem& fs, const ImagePath& path) {
  Result<std::string> text = make_error(ErrorCode::kNotFound, "no such file");
  if (path.kind == NodeKind::kMetrics) {
    text = fs.sets().metrics_text();
  } else if (is_metadata_file(path)) {
    text = fs.sets().metadata_text(path);
  }
  if (!text) {
    // A metadata file of an attachment or set holding no original: ENOENT.
    if (text.error().code != ErrorCode::kNotFound) {
      log_error(path_string(path) + ": " + text.error().message);
    }
    return text.error();
  }
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->bytes = std::move(text).value();
  snapshot->made_ns = now_ns();
  fuse_ino_t nodeid = fs.inodes().ref_snapshot(path, std::move(snapshot));
  std::optional<Node> node = fs.inodes().get(nodeid);
  auto st = node ? fs.stat_of(*node) : Result<struct stat>(make_error(ErrorCode::kNotFound, ""));
  if (!st) {
    fs.forget(nodeid, 1);
    return st.error();
  }
  fuse_entry_param e{};
  e.ino = nodeid;
  e.generation = 1;
  e.attr = *st;
  // Every open looks the name up again, and gets a new snapshot.
  e.attr_timeout = 0;
  e.entry_timeout = 0;
  return e;
}

void open_snapshot(fuse_req_t req, const Node& node, fuse_file_info* fi) {
  if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC) != 0) {
    Error refused = make_error(ErrorCode::kPermission, "a read-only file");
    fs_of(req).log_refusal("open for writing", node.path, refused);
    return reply_error(req, refused);
  }
  fi->fh = 0;          // reads find the snapshot by nodeid
  fi->keep_cache = 1;  // a node's snapshot never changes
  fi->noflush = 1;
  fuse_reply_open(req, fi);
}

void read_snapshot(fuse_req_t req, const Node& node, size_t size, off_t off) {
  const std::string& bytes = node.snapshot->bytes;
  if (off < 0 || static_cast<size_t>(off) >= bytes.size()) {
    fuse_reply_buf(req, nullptr, 0);
    return;
  }
  size_t length = std::min(size, bytes.size() - static_cast<size_t>(off));
  fuse_reply_buf(req, bytes.data() + off, length);
}

}  // namespace iafs
