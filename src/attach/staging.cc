#include "attach/staging.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace iafs {
namespace {

Error io_error(const std::string& what) {
  ErrorCode code = (errno == ENOSPC || errno == EDQUOT) ? ErrorCode::kNoSpace : ErrorCode::kIo;
  return make_error(code, what + ": " + std::strerror(errno));
}

}  // namespace

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) close(fd_);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.release();
  }
  return *this;
}

Result<MappedFile> MappedFile::map(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return io_error("fstat of a staged file");
  if (st.st_size == 0) return MappedFile(nullptr, 0);
  void* addr = mmap(nullptr, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (addr == MAP_FAILED) return io_error("mmap of a staged file");
  return MappedFile(addr, st.st_size);
}

MappedFile::~MappedFile() {
  if (addr_ != nullptr) munmap(addr_, size_);
}

MappedFile::MappedFile(MappedFile&& other) noexcept : addr_(other.addr_), size_(other.size_) {
  other.addr_ = nullptr;
  other.size_ = 0;
}

Result<std::unique_ptr<StagingArea>> StagingArea::open(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return io_error(dir);
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return io_error(dir);
  while (dirent* entry = readdir(d)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    unlink((dir + "/" + name).c_str());
  }
  closedir(d);
  return std::unique_ptr<StagingArea>(new StagingArea(dir));
}

Result<UniqueFd> StagingArea::new_upload_file() {
  int fd = ::open(dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("new upload file in " + dir_);
  return UniqueFd(fd);
}

Result<ScratchFile> StagingArea::create_scratch(const std::string& dir, const std::string& name) {
  std::lock_guard lock(mutex_);
  auto key = std::make_pair(dir, name);
  if (auto it = scratch_.find(key); it != scratch_.end()) return it->second;
  ScratchFile file;
  file.id = next_id_++;
  file.dir = dir;
  file.name = name;
  file.file = dir_ + "/scratch-" + std::to_string(file.id);
  int fd = ::open(file.file.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("new scratch file " + file.file);
  close(fd);
  scratch_[key] = file;
  return file;
}

std::optional<ScratchFile> StagingArea::find_scratch(const std::string& dir,
                                                     const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = scratch_.find(std::make_pair(dir, name));
  if (it == scratch_.end()) return std::nullopt;
  return it->second;
}

std::vector<ScratchFile> StagingArea::list_scratch(const std::string& dir) {
  std::lock_guard lock(mutex_);
  std::vector<ScratchFile> out;
  for (auto it = scratch_.lower_bound(std::make_pair(dir, std::string()));
       it != scratch_.end() && it->first.first == dir; ++it) {
    out.push_back(it->second);
  }
  return out;
}

bool StagingArea::has_scratch(const std::string& dir) {
  std::lock_guard lock(mutex_);
  auto it = scratch_.lower_bound(std::make_pair(dir, std::string()));
  return it != scratch_.end() && it->first.first == dir;
}

Status StagingArea::remove_scratch(const std::string& dir, const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = scratch_.find(std::make_pair(dir, name));
  if (it == scratch_.end()) return make_error(ErrorCode::kNotFound, "no such scratch file");
  unlink(it->second.file.c_str());
  scratch_.erase(it);
  return Status::Ok();
}

Status StagingArea::rename_scratch(const std::string& dir, const std::string& name,
                                   const std::string& new_dir, const std::string& new_name) {
  std::lock_guard lock(mutex_);
  auto it = scratch_.find(std::make_pair(dir, name));
  if (it == scratch_.end()) return make_error(ErrorCode::kNotFound, "no such scratch file");
  ScratchFile file = it->second;
  scratch_.erase(it);
  auto target = std::make_pair(new_dir, new_name);
  if (auto old = scratch_.find(target); old != scratch_.end()) {
    unlink(old->second.file.c_str());
    scratch_.erase(old);
  }
  file.dir = new_dir;
  file.name = new_name;
  scratch_[target] = file;
  return Status::Ok();
}

void StagingArea::move_directory(const std::string& dir, const std::string& new_dir) {
  std::lock_guard lock(mutex_);
  std::vector<ScratchFile> moved;
  auto it = scratch_.lower_bound(std::make_pair(dir, std::string()));
  while (it != scratch_.end() && it->first.first == dir) {
    moved.push_back(it->second);
    it = scratch_.erase(it);
  }
  for (ScratchFile& file : moved) {
    file.dir = new_dir;
    scratch_[std::make_pair(new_dir, file.name)] = file;
  }
}

}  // namespace iafs
