#include "fs/inode_table.h"

#include "path/path.h"

namespace iafs {
namespace {

NodeKey directory_key(const ImagePath& path) { return NodeKey{path, NodeKey::Of::kDirectory, 0}; }

}  // namespace

InodeTable::InodeTable() {
  Node root;
  root.nodeid = FUSE_ROOT_ID;
  root.lookups = 1;  // the kernel never forgets the root
  nodes_[FUSE_ROOT_ID] = root;
  by_key_[directory_key(ImagePath())] = FUSE_ROOT_ID;
  keys_[FUSE_ROOT_ID] = directory_key(ImagePath());
}

std::optional<Node> InodeTable::get(fuse_ino_t nodeid) {
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(nodeid);
  if (it == nodes_.end()) return std::nullopt;
  return it->second;
}

Result<fuse_ino_t> InodeTable::add(Node node, const std::optional<NodeKey>& key,
                                   const std::function<Status()>& pin) {
  std::lock_guard lock(mutex_);
  if (key) {
    if (auto it = by_key_.find(*key); it != by_key_.end()) {
      ++nodes_[it->second].lookups;
      return it->second;
    }
  }
  if (pin) {
    if (Status pinned = pin(); !pinned) return pinned.error();
  }
  node.nodeid = next_++;
  node.lookups = 1;
  if (!node.path.is_directory()) files_.emplace(node.path, node.nodeid);
  if (key) {
    by_key_[*key] = node.nodeid;
    keys_[node.nodeid] = *key;
  }
  fuse_ino_t nodeid = node.nodeid;
  nodes_[nodeid] = std::move(node);
  return nodeid;
}

fuse_ino_t InodeTable::ref_directory(const ImagePath& path) {
  Node node;
  node.path = path;
  return *add(std::move(node), directory_key(path));
}

Result<fuse_ino_t> InodeTable::ref_version(const ImagePath& path, const FileVersion& version,
                                           const std::function<Status()>& pin) {
  Node node;
  node.path = path;
  node.version = version;
  return add(std::move(node), NodeKey{path, NodeKey::Of::kVersion, version.revision}, pin);
}

fuse_ino_t InodeTable::ref_scratch(const ImagePath& path, uint64_t scratch_id) {
  Node node;
  node.path = path;
  node.scratch_id = scratch_id;
  return *add(std::move(node), NodeKey{path, NodeKey::Of::kScratch, scratch_id});
}

fuse_ino_t InodeTable::ref_pending(const ImagePath& path) {
  Node node;
  node.path = path;
  return *add(std::move(node), std::nullopt);
}

fuse_ino_t InodeTable::ref_snapshot(const ImagePath& path,
                                    std::shared_ptr<const Snapshot> snapshot) {
  Node node;
  node.path = path;
  node.snapshot = std::move(snapshot);
  return *add(std::move(node), std::nullopt);
}

bool InodeTable::ref_existing(fuse_ino_t nodeid) {
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(nodeid);
  if (it == nodes_.end()) return false;
  ++it->second.lookups;
  return true;
}

std::optional<Node> InodeTable::forget(fuse_ino_t nodeid, uint64_t count) {
  if (nodeid == FUSE_ROOT_ID) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(nodeid);
  if (it == nodes_.end()) return std::nullopt;
  it->second.lookups = it->second.lookups > count ? it->second.lookups - count : 0;
  if (it->second.lookups > 0) return std::nullopt;
  Node gone = std::move(it->second);
  nodes_.erase(it);
  if (!gone.path.is_directory()) unindex_file(nodeid, gone.path);
  unkey(nodeid);
  return gone;
}

// Forgets which identity `nodeid` is the node of (if it still owns that key).
void InodeTable::unkey(fuse_ino_t nodeid) {
  auto key = keys_.find(nodeid);
  if (key == keys_.end()) return;
  if (auto owner = by_key_.find(key->second); owner != by_key_.end() && owner->second == nodeid) {
    by_key_.erase(owner);
  }
  keys_.erase(key);
}

void InodeTable::unindex_file(fuse_ino_t nodeid, const ImagePath& path) {
  auto [begin, end] = files_.equal_range(path);
  for (auto it = begin; it != end; ++it) {
    if (it->second == nodeid) {
      files_.erase(it);
      return;
    }
  }
}

std::optional<fuse_ino_t> InodeTable::find_directory(const ImagePath& path) {
  std::lock_guard lock(mutex_);
  auto it = by_key_.find(directory_key(path));
  if (it == by_key_.end()) return std::nullopt;
  return it->second;
}

std::vector<fuse_ino_t> InodeTable::find_files(const ImagePath& path) {
  std::lock_guard lock(mutex_);
  std::vector<fuse_ino_t> out;
  auto [begin, end] = files_.equal_range(path);
  for (auto it = begin; it != end; ++it) out.push_back(it->second);
  return out;
}

void InodeTable::detach_directory(const ImagePath& path) {
  std::lock_guard lock(mutex_);
  std::vector<ImagePath> dead = {path};
  if (path.kind == NodeKind::kImageSet) dead.push_back(thumb_dir_path(path.set, path.multiple));
  for (const ImagePath& dir : dead) {
    auto it = by_key_.find(directory_key(dir));
    if (it == by_key_.end()) continue;
    keys_.erase(it->second);
    by_key_.erase(it);
  }
}

std::optional<FileVersion> InodeTable::retarget_file(fuse_ino_t nodeid, const ImagePath& path,
                                                     const std::optional<FileVersion>& version) {
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(nodeid);
  if (it == nodes_.end()) return std::nullopt;
  unindex_file(nodeid, it->second.path);
  files_.emplace(path, nodeid);
  it->second.path = path;
  std::optional<FileVersion> before = it->second.version;
  it->second.version = version;
  unkey(nodeid);
  if (path.kind != NodeKind::kStaging) {
    it->second.scratch_id = 0;
    if (version) {
      // Later lookups of that version find this node (unless one has it).
      NodeKey key{path, NodeKey::Of::kVersion, version->revision};
      if (by_key_.emplace(key, nodeid).second) keys_[nodeid] = key;
    }
    return before;
  }
  // A scratch file renamed to another scratch name is the same file.
  NodeKey key{path, NodeKey::Of::kScratch, it->second.scratch_id};
  by_key_[key] = nodeid;
  keys_[nodeid] = key;
  return before;
}

void InodeTable::move_set_nodes(const ImageSetKey& from, const ImageSetKey& to) {
  std::lock_guard lock(mutex_);
  // The old target and everything in it is dead in the kernel.
  for (auto it = by_key_.begin(); it != by_key_.end();) {
    if (is_in_set(it->first.path, to)) {
      keys_.erase(it->second);
      it = by_key_.erase(it);
    } else {
      ++it;
    }
  }
  // Everything in the source now names the same place in the target.
  for (auto& [nodeid, node] : nodes_) {
    if (!is_in_set(node.path, from)) continue;
    ImagePath moved = moved_to_set(node.path, to);
    if (!node.path.is_directory()) {
      unindex_file(nodeid, node.path);
      files_.emplace(moved, nodeid);
    }
    node.path = moved;
    auto key = keys_.find(nodeid);
    if (key == keys_.end()) continue;
    if (auto owner = by_key_.find(key->second); owner != by_key_.end() && owner->second == nodeid) {
      by_key_.erase(owner);
    }
    key->second.path = moved;
    by_key_[key->second] = nodeid;
  }
}

}  // namespace iafs
