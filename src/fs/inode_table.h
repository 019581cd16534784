// The table from nodeid to what it names (DESIGN §5b), counted by lookups and
// shrunk at FORGET. Nodeids come from a 64-bit counter, never reused while
// mounted. A directory's nodeid names a path; a file's nodeid names one
// immutable version (an original or thumbnail revision) or one scratch file.
#pragma once

#include <fuse_lowlevel.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "attach/file_version.h"
#include "imageattachfs/result.h"
#include "imageattachfs/image_path.h"

namespace iafs {

// The bytes of a file made once, at its lookup (/.imageattachfs/metrics):
// its node reads them until its FORGET (fs/snapshots.h).
struct Snapshot {
  std::string bytes;
  int64_t made_ns = 0;
};

struct Node {
  fuse_ino_t nodeid = 0;
  ImagePath path;
  std::optional<FileVersion> version;        // originals and thumbnails: this version
  uint64_t scratch_id = 0;                   // scratch files (kStaging)
  std::shared_ptr<const Snapshot> snapshot;  // snapshot files (kMetrics)
  uint64_t lookups = 0;
};

// What a node is the node of: a directory path, one version of a file, or
// one scratch file. Two lookups of the same identity share a nodeid.
struct NodeKey {
  enum class Of : uint8_t { kDirectory, kVersion, kScratch };
  ImagePath path;
  Of of = Of::kDirectory;
  uint64_t id = 0;  // kVersion: the revision; kScratch: the scratch file's id

  auto operator<=>(const NodeKey&) const = default;
};

class InodeTable {
 public:
  InodeTable();

  // A copy of the node, or nullopt for an unknown nodeid.
  std::optional<Node> get(fuse_ino_t nodeid);

  // The nodeid for a directory path / a file version / a scratch file / an
  // original being created (no version yet), adding one lookup.
  fuse_ino_t ref_directory(const ImagePath& path);
  // A new node first calls `pin` (if given) under the table's lock, so that
  // no other lookup finds it before it holds its pin; a failed pin adds no
  // node and is returned.
  Result<fuse_ino_t> ref_version(const ImagePath& path, const FileVersion& version,
                                 const std::function<Status()>& pin = {});
  fuse_ino_t ref_scratch(const ImagePath& path, uint64_t scratch_id);
  fuse_ino_t ref_pending(const ImagePath& path);
  // A new node (a fresh nodeid every time) holding `snapshot`.
  fuse_ino_t ref_snapshot(const ImagePath& path, std::shared_ptr<const Snapshot> snapshot);

  // Adds one lookup to a node the table holds; false if it is gone.
  bool ref_existing(fuse_ino_t nodeid);

  // Drops `count` lookups; the node goes at zero, and is returned then.
  std::optional<Node> forget(fuse_ino_t nodeid, uint64_t count);

  // The nodeid of a directory path, if the kernel knows it.
  std::optional<fuse_ino_t> find_directory(const ImagePath& path);
  // Nodeids of file nodes at `path` (every version and scratch file).
  std::vector<fuse_ino_t> find_files(const ImagePath& path);

  // After rmdir: the path (and a set's thumb/) gets a fresh nodeid at its
  // next lookup.
  void detach_directory(const ImagePath& path);
  // After a scratch file is renamed or committed: its node now names `path`:
  // the same scratch file under a new name, or (an original) whatever is
  // stored there now, or `version` when given (the version a scratch file's
  // bytes became). Returns the version the node named before, if any.
  std::optional<FileVersion> retarget_file(fuse_ino_t nodeid, const ImagePath& path,
                                           const std::optional<FileVersion>& version = {});
  // After mv -T of a set directory: the moved nodes (the set directory and
  // everything under it) now name the same places in `to`; the old target's
  // nodes are detached.
  void move_set_nodes(const ImageSetKey& from, const ImageSetKey& to);

 private:
  // The keyed node (one more lookup), or a new one: `pin` first, if given.
  Result<fuse_ino_t> add(Node node, const std::optional<NodeKey>& key,
                         const std::function<Status()>& pin = {});
  void unkey(fuse_ino_t nodeid);
  void unindex_file(fuse_ino_t nodeid, const ImagePath& path);

  std::mutex mutex_;
  fuse_ino_t next_ = FUSE_ROOT_ID + 1;
  std::unordered_map<fuse_ino_t, Node> nodes_;
  std::map<NodeKey, fuse_ino_t> by_key_;
  std::unordered_map<fuse_ino_t, NodeKey> keys_;
  std::multimap<ImagePath, fuse_ino_t> files_;  // file nodes by path
};

}  // namespace iafs
