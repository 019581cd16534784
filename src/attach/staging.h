// Staging: uploads of originals (one temp file per open file) and scratch
// files (names starting with '.' or ending with '~' in a set directory, as
// rsync and editors make). All live under STORE/staging/, cleared at mount.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "imageattachfs/result.h"

namespace iafs {

// An owned file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// A read-only memory map of a whole file (empty for an empty file).
class MappedFile {
 public:
  static Result<MappedFile> map(int fd);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&&) = delete;
  const uint8_t* data() const { return static_cast<const uint8_t*>(addr_); }
  size_t size() const { return size_; }

 private:
  MappedFile(void* addr, size_t size) : addr_(addr), size_(size) {}
  void* addr_ = nullptr;
  size_t size_ = 0;
};

// A scratch file: its name lives in a set directory, its bytes in a file.
struct ScratchFile {
  uint64_t id = 0;  // unique while mounted
  std::string dir;  // the set directory's path text
  std::string name;
  std::string file;  // the backing file under STORE/staging
};

class StagingArea {
 public:
  // Empties (creating if absent) `dir`: nothing staged survives a mount.
  static Result<std::unique_ptr<StagingArea>> open(const std::string& dir);

  // A new anonymous file for an upload, unlinked: it vanishes when closed.
  Result<UniqueFd> new_upload_file();

  // Scratch files, by set directory path text and name.
  Result<ScratchFile> create_scratch(const std::string& dir, const std::string& name);
  std::optional<ScratchFile> find_scratch(const std::string& dir, const std::string& name);
  std::vector<ScratchFile> list_scratch(const std::string& dir);
  bool has_scratch(const std::string& dir);
  // Forgets the name and unlinks its file (open descriptors keep the bytes).
  Status remove_scratch(const std::string& dir, const std::string& name);
  // Renames a scratch file; replaces a scratch file at the target.
  Status rename_scratch(const std::string& dir, const std::string& name, const std::string& new_dir,
                        const std::string& new_name);
  // Moves every scratch file of one set directory to another (mv of a set).
  void move_directory(const std::string& dir, const std::string& new_dir);

 private:
  explicit StagingArea(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
  std::mutex mutex_;
  uint64_t next_id_ = 1;
  std::map<std::pair<std::string, std::string>, ScratchFile> scratch_;
};

}  // namespace iafs
