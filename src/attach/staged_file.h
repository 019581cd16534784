// A file written through the mount: an upload of an original (its bytes
// staged in an anonymous file, judged and committed at every flush) or a
// scratch file (a staging name in a set directory). Writes and truncations
// wait while a flush of the same file judges its bytes, so a flush commits
// exactly the bytes it judged.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>

#include "base/unique_fd.h"
#include "imageattachfs/image_path.h"
#include "imageattachfs/result.h"

namespace iafs {

class StagedFile {
 public:
  enum class Kind { kUpload, kScratch };

  // `max_bytes`: writes or truncations past it are refused (kTooBig).
  StagedFile(Kind kind, ImagePath path, UniqueFd fd, uint64_t max_bytes)
      : kind_(kind), path_(std::move(path)), fd_(std::move(fd)), max_bytes_(max_bytes) {}
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;

  Kind kind() const { return kind_; }
  const ImagePath& path() const { return path_; }
  // The staged bytes, for reads (REQUIRES: not written to by the caller).
  int fd() const { return fd_.get(); }

  Status write(std::span<const uint8_t> bytes, off_t offset);
  Status truncate(off_t size);
  // The staged size and mtime, as a stat of the staged file.
  Result<struct stat> stat() const;

  // The process that opened it (uploads), 0 if unknown.
  pid_t opener() const { return opener_; }
  void set_opener(pid_t pid) { opener_ = pid; }

  // Uploads: the mtime the next commit gives the original (0: the commit's time).
  void set_commit_mtime(int64_t ns) { commit_mtime_ns_ = ns; }
  int64_t commit_mtime() const { return commit_mtime_ns_; }
  // Uploads: the created_at the next commit gives the original (a restored
  // user.image.created_at; 0: the commit's time, or kept for the same bytes).
  void set_commit_created(int64_t ns) { commit_created_ns_ = ns; }
  int64_t commit_created() const { return commit_created_ns_; }
  // Uploads: the focus the next commit gives the set (a restored
  // user.image.focus; nullopt: none for new bytes, kept for the same bytes).
  void set_commit_focus(const std::optional<FocalPoint>& focus) {
    std::lock_guard lock(focus_mutex_);
    commit_focus_ = focus;
  }
  std::optional<FocalPoint> commit_focus() const {
    std::lock_guard lock(focus_mutex_);
    return commit_focus_;
  }

  // Why the last flush was refused, if it was.
  std::optional<Error> refusal() const;

 private:
  friend class ImageSets;  // judges and commits under mutex_

  const Kind kind_;
  const ImagePath path_;
  const UniqueFd fd_;
  const uint64_t max_bytes_;
  std::atomic<int64_t> commit_mtime_ns_{0};
  std::atomic<int64_t> commit_created_ns_{0};
  mutable std::mutex focus_mutex_;  // held for commit_focus_ only
  std::optional<FocalPoint> commit_focus_;
  pid_t opener_ = 0;
  mutable std::mutex mutex_;      // held by write, truncate and a flush's judging
  std::optional<Error> refusal_;  // mutex_
};

}  // namespace iafs
