#include "attach/staging.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/clock.h"
#include "log/log.h"

namespace iafs {
namespace {

constexpr int64_t kSweepIntervalNs = int64_t{60} * 1000000000;

std::string set_text(const ImageSetKey& set) {
  return set.type + "/" + set.id.text + "/" + set.attachment + "/" + std::to_string(set.index);
}

}  // namespace

void StagingArea::set_scratch_ttl(int64_t ttl_ns) {
  std::lock_guard lock(mutex_);
  ttl_ns_ = std::max<int64_t>(0, ttl_ns);
  next_sweep_ns_ = 0;
}

void StagingArea::expire_unchanged() {
  if (ttl_ns_ == 0 || read_only_) return;  // a read-only mount holds no scratch files
  int64_t now = now_ns();
  if (now < next_sweep_ns_) return;
  next_sweep_ns_ = now + std::min(kSweepIntervalNs, std::max<int64_t>(ttl_ns_ / 2, 1));
  for (auto it = scratch_.begin(); it != scratch_.end();) {
    struct stat st;
    if (stat(it->second.file.c_str(), &st) != 0 || now - to_ns(st.st_ctim) < ttl_ns_) {
      ++it;
      continue;
    }
    log_info("scratch file " + it->second.name + " in " + set_text(it->first.first) +
             " removed: unchanged for " + std::to_string((now - to_ns(st.st_ctim)) / 1000000000) +
             " s (" + std::to_string(st.st_size) + " bytes)");
    unlink(it->second.file.c_str());
    it = scratch_.erase(it);
  }
}

Result<std::unique_ptr<StagingArea>> StagingArea::open(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return error_from_errno(dir);
  // Never through a link: emptying it must not empty a directory elsewhere.
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return error_from_errno(dir + " (staging must be a directory, not a link)");
  std::unique_ptr<DIR, int (*)(DIR*)> d(fdopendir(fd), closedir);
  if (d == nullptr) {
    close(fd);
    return error_from_errno(dir);
  }
  while (dirent* entry = readdir(d.get())) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    unlinkat(dirfd(d.get()), name.c_str(), 0);
  }
  return std::unique_ptr<StagingArea>(new StagingArea(dir, false));
}

std::unique_ptr<StagingArea> StagingArea::open_read_only(const std::string& dir) {
  return std::unique_ptr<StagingArea>(new StagingArea(dir, true));
}

Result<UniqueFd> StagingArea::new_upload_file() {
  if (read_only_) return make_error(ErrorCode::kReadOnly, "a read-only mount stages nothing");
  int fd = ::open(dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return error_from_errno("new upload file in " + dir_);
  return UniqueFd(fd);
}

Result<ScratchFile> StagingArea::create_scratch(const ImageSetKey& set, const std::string& name) {
  if (read_only_) return make_error(ErrorCode::kReadOnly, "a read-only mount stages nothing");
  std::lock_guard lock(mutex_);
  expire_unchanged();
  Key key{set, name};
  if (auto it = scratch_.find(key); it != scratch_.end()) return it->second;
  if (scratch_.size() >= kMaxScratch) {
    return make_error(ErrorCode::kNoSpace, "too many scratch files in the store");
  }
  size_t in_set = 0;
  for (auto it = scratch_.lower_bound(Key{set, std::string()});
       it != scratch_.end() && it->first.first == set && in_set < kMaxScratchPerSet; ++it) {
    ++in_set;
  }
  if (in_set >= kMaxScratchPerSet) {
    return make_error(ErrorCode::kNoSpace, "too many scratch files in one set directory");
  }
  ScratchFile file;
  file.id = next_id_++;
  file.set = set;
  file.name = name;
  file.file = dir_ + "/scratch-" + std::to_string(file.id);
  UniqueFd fd(::open(file.file.c_str(), O_CREAT | O_EXCL | O_NOFOLLOW | O_RDWR | O_CLOEXEC, 0600));
  if (!fd) return error_from_errno("new scratch file " + file.file);
  scratch_[key] = file;
  return file;
}

std::optional<ScratchFile> StagingArea::find_scratch(const ImageSetKey& set,
                                                     const std::string& name) {
  std::lock_guard lock(mutex_);
  expire_unchanged();
  auto it = scratch_.find(Key{set, name});
  if (it == scratch_.end()) return std::nullopt;
  return it->second;
}

std::vector<ScratchFile> StagingArea::list_scratch(const ImageSetKey& set) {
  std::lock_guard lock(mutex_);
  expire_unchanged();
  std::vector<ScratchFile> out;
  for (auto it = scratch_.lower_bound(Key{set, std::string()});
       it != scratch_.end() && it->first.first == set; ++it) {
    out.push_back(it->second);
  }
  return out;
}

bool StagingArea::has_scratch(const ImageSetKey& set) {
  std::lock_guard lock(mutex_);
  auto it = scratch_.lower_bound(Key{set, std::string()});
  return it != scratch_.end() && it->first.first == set;
}

Status StagingArea::remove_scratch(const ImageSetKey& set, const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = scratch_.find(Key{set, name});
  if (it == scratch_.end()) return make_error(ErrorCode::kNotFound, "no such scratch file");
  unlink(it->second.file.c_str());
  scratch_.erase(it);
  return Status::Ok();
}

Status StagingArea::set_scratch_created(const ImageSetKey& set, const std::string& name,
                                        int64_t created_ns) {
  std::lock_guard lock(mutex_);
  auto it = scratch_.find(Key{set, name});
  if (it == scratch_.end()) return make_error(ErrorCode::kNotFound, "no such scratch file");
  it->second.created_ns = created_ns;
  return Status::Ok();
}

Status StagingArea::set_scratch_focus(const ImageSetKey& set, const std::string& name,
                                      const std::optional<FocalPoint>& focus) {
  std::lock_guard lock(mutex_);
  auto it = scratch_.find(Key{set, name});
  if (it == scratch_.end()) return make_error(ErrorCode::kNotFound, "no such scratch file");
  it->second.focus = focus;
  return Status::Ok();
}

Status StagingArea::rename_scratch(const ImageSetKey& set, const std::string& name,
                                   const ImageSetKey& new_set, const std::string& new_name) {
  std::lock_guard lock(mutex_);
  auto it = scratch_.find(Key{set, name});
  if (it == scratch_.end()) return make_error(ErrorCode::kNotFound, "no such scratch file");
  ScratchFile file = it->second;
  scratch_.erase(it);
  Key target{new_set, new_name};
  if (auto old = scratch_.find(target); old != scratch_.end()) {
    unlink(old->second.file.c_str());
    scratch_.erase(old);
  }
  file.set = new_set;
  file.name = new_name;
  scratch_[target] = file;
  return Status::Ok();
}

void StagingArea::move_set(const ImageSetKey& from, const ImageSetKey& to) {
  std::lock_guard lock(mutex_);
  std::vector<ScratchFile> moved;
  auto it = scratch_.lower_bound(Key{from, std::string()});
  while (it != scratch_.end() && it->first.first == from) {
    moved.push_back(it->second);
    it = scratch_.erase(it);
  }
  for (ScratchFile& file : moved) {
    file.set = to;
    Key key{to, file.name};
    if (auto old = scratch_.find(key); old != scratch_.end()) unlink(old->second.file.c_str());
    scratch_[key] = file;
  }
}

}  // namespace iafs
