#include "fs/inode_table.h"

#include "path/path.h"

namespace iafs {
namespace {

std::string dir_key(const std::string& path_text) { return "d:" + path_text; }

bool is_under(const std::string& path_text, const std::string& dir_text) {
  return path_text == dir_text || (path_text.size() > dir_text.size() &&
                                   path_text.compare(0, dir_text.size(), dir_text) == 0 &&
                                   path_text[dir_text.size()] == '/');
}

}  // namespace

InodeTable::InodeTable() {
  Node root;
  root.nodeid = FUSE_ROOT_ID;
  root.lookups = 1;  // the kernel never forgets the root
  nodes_[FUSE_ROOT_ID] = root;
  by_key_[dir_key("/")] = FUSE_ROOT_ID;
  keys_[FUSE_ROOT_ID] = dir_key("/");
}

std::string InodeTable::file_key(const std::string& path_text, const std::string& what) {
  return "f:" + path_text + "#" + what;
}

std::optional<Node> InodeTable::get(fuse_ino_t nodeid) {
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(nodeid);
  if (it == nodes_.end()) return std::nullopt;
  return it->second;
}

fuse_ino_t InodeTable::add(Node node, const std::string& key) {
  std::lock_guard lock(mutex_);
  if (!key.empty()) {
    if (auto it = by_key_.find(key); it != by_key_.end()) {
      ++nodes_[it->second].lookups;
      return it->second;
    }
  }
  node.nodeid = next_++;
  node.lookups = 1;
  if (!node.path.is_directory()) index_file(node.nodeid, path_string(node.path));
  nodes_[node.nodeid] = node;
  if (!key.empty()) {
    by_key_[key] = node.nodeid;
    keys_[node.nodeid] = key;
  }
  return node.nodeid;
}

fuse_ino_t InodeTable::ref_directory(const ImagePath& path) {
  Node node;
  node.path = path;
  return add(node, dir_key(path_string(path)));
}

fuse_ino_t InodeTable::ref_version(const ImagePath& path, const FileVersion& version) {
  Node node;
  node.path = path;
  node.version = version;
  return add(node, file_key(path_string(path), std::to_string(version.revision)));
}

fuse_ino_t InodeTable::ref_scratch(const ImagePath& path, uint64_t scratch_id) {
  Node node;
  node.path = path;
  node.scratch_id = scratch_id;
  return add(node, file_key(path_string(path), "s" + std::to_string(scratch_id)));
}

fuse_ino_t InodeTable::ref_pending(const ImagePath& path) {
  Node node;
  node.path = path;
  return add(node, std::string());
}

void InodeTable::forget(fuse_ino_t nodeid, uint64_t count) {
  if (nodeid == FUSE_ROOT_ID) return;
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(nodeid);
  if (it == nodes_.end()) return;
  it->second.lookups = it->second.lookups > count ? it->second.lookups - count : 0;
  if (it->second.lookups > 0) return;
  if (!it->second.path.is_directory()) unindex_file(nodeid, path_string(it->second.path));
  nodes_.erase(it);
  if (auto key = keys_.find(nodeid); key != keys_.end()) {
    if (auto owner = by_key_.find(key->second); owner != by_key_.end() && owner->second == nodeid) {
      by_key_.erase(owner);
    }
    keys_.erase(key);
  }
}

std::optional<fuse_ino_t> InodeTable::find_directory(const std::string& path_text) {
  std::lock_guard lock(mutex_);
  auto it = by_key_.find(dir_key(path_text));
  if (it == by_key_.end()) return std::nullopt;
  return it->second;
}

std::vector<fuse_ino_t> InodeTable::find_files(const std::string& path_text) {
  std::lock_guard lock(mutex_);
  std::vector<fuse_ino_t> out;
  auto [begin, end] = files_.equal_range(path_text);
  for (auto it = begin; it != end; ++it) out.push_back(it->second);
  return out;
}

void InodeTable::index_file(fuse_ino_t nodeid, const std::string& path_text) {
  files_.emplace(path_text, nodeid);
}

void InodeTable::unindex_file(fuse_ino_t nodeid, const std::string& path_text) {
  auto [begin, end] = files_.equal_range(path_text);
  for (auto it = begin; it != end; ++it) {
    if (it->second == nodeid) {
      files_.erase(it);
      return;
    }
  }
}

void InodeTable::detach_directory(const std::string& path_text) {
  std::lock_guard lock(mutex_);
  for (const std::string& text : {path_text, path_text + "/thumb"}) {
    auto it = by_key_.find(dir_key(text));
    if (it == by_key_.end()) continue;
    keys_.erase(it->second);
    by_key_.erase(it);
  }
}

void InodeTable::retarget_file(fuse_ino_t nodeid, const ImagePath& path) {
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(nodeid);
  if (it == nodes_.end()) return;
  unindex_file(nodeid, path_string(it->second.path));
  index_file(nodeid, path_string(path));
  it->second.path = path;
  it->second.version.reset();
  if (auto key = keys_.find(nodeid); key != keys_.end()) {
    by_key_.erase(key->second);
    keys_.erase(key);
  }
  if (path.kind != NodeKind::kStaging) {
    it->second.scratch_id = 0;
    return;
  }
  // A scratch file renamed to another scratch name is the same file.
  std::string key = file_key(path_string(path), "s" + std::to_string(it->second.scratch_id));
  by_key_[key] = nodeid;
  keys_[nodeid] = key;
}

void InodeTable::move_directory(const ImagePath& from, const ImagePath& to) {
  std::lock_guard lock(mutex_);
  const std::string from_text = path_string(from);
  const std::string to_text = path_string(to);
  // The old target path and everything under it is dead in the kernel.
  for (auto it = by_key_.begin(); it != by_key_.end();) {
    const std::string& key = it->first;
    std::string text =
        key.substr(2, key.find('#') == std::string::npos ? std::string::npos : key.find('#') - 2);
    if (is_under(text, to_text)) {
      keys_.erase(it->second);
      it = by_key_.erase(it);
    } else {
      ++it;
    }
  }
  // Everything under the source now names the same place under the target.
  std::vector<std::pair<std::string, fuse_ino_t>> rekeyed;
  for (auto& [nodeid, node] : nodes_) {
    const std::string old_text = path_string(node.path);
    if (!is_under(old_text, from_text)) continue;
    node.path.set.id = to.set.id;
    node.path.set.index = to.set.index;
    if (!node.path.is_directory()) {
      unindex_file(nodeid, old_text);
      index_file(nodeid, path_string(node.path));
    }
    auto key = keys_.find(nodeid);
    if (key == keys_.end()) continue;
    by_key_.erase(key->second);
    std::string suffix = key->second.substr(2 + from_text.size());
    key->second = key->second.substr(0, 2) + to_text + suffix;
    rekeyed.emplace_back(key->second, nodeid);
  }
  for (auto& [key, nodeid] : rekeyed) by_key_[key] = nodeid;
}

}  // namespace iafs
