// ImageSets: uploads of originals and scratch files (DESIGN §2, §5b).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "attach/image_sets.h"
#include "base/clock.h"
#include "base/heap.h"
#include "log/log.h"
#include "path/path.h"

namespace iafs {
namespace {

// Bytes from which a commit gives the freed memory back at once.
constexpr uint64_t kLargeOriginal = uint64_t{16} << 20;

// The staged bytes, read again from the file as the store stores them.
class StagedSource final : public BlobSource {
 public:
  StagedSource(int fd, uint64_t size) : fd_(fd), size_(size) {}
  uint64_t size() const override { return size_; }
  Status read(uint64_t offset, std::span<uint8_t> out) const override {
    for (size_t done = 0; done < out.size();) {
      ssize_t n = pread(fd_, out.data() + done, out.size() - done,
                        static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return error_from_errno("read of the staged bytes");
      if (n == 0) return make_error(ErrorCode::kIo, "the staged file shrank while it was stored");
      done += static_cast<size_t>(n);
    }
    return Status::Ok();
  }

 private:
  int fd_;
  uint64_t size_;
};

}  // namespace

Result<std::unique_ptr<StagedFile>> ImageSets::begin_upload(const ImagePath& path, bool truncate,
                                                            pid_t opener) {
  auto upload = open_upload(path, truncate, opener);
  if (!upload) count_refusal(upload.error());
  return upload;
}

Result<std::unique_ptr<StagedFile>> ImageSets::open_upload(const ImagePath& path, bool truncate,
                                                           pid_t opener) {
  if (Status s = writable("upload"); !s) return s.error();
  if (opener != 0) {
    std::lock_guard lock(uploads_mutex_);
    if (uploads_by_opener_[opener] >= kMaxUploadsPerOpener) {
      return make_error(ErrorCode::kTooMany, "process " + std::to_string(opener) + " holds " +
                                                 std::to_string(kMaxUploadsPerOpener) +
                                                 " uploads open already");
    }
  }
  auto fd = staging_.new_upload_file();
  if (!fd) return fd.error();
  auto upload = std::make_unique<StagedFile>(StagedFile::Kind::kUpload, path, std::move(fd).value(),
                                             max_bytes_of(path));
  upload->set_opener(opener);
  if (!truncate) {
    // Pinned while copied: a replacement racing this open frees nothing.
    auto current = pin_original(path);
    if (current) {
      Status copied = Status::Ok();
      Status read = this->read(*current, 0, current->size, [&](auto pieces) {
        off_t off = 0;
        for (auto piece : pieces) {
          if (copied) copied = upload->write(piece, off);
          off += static_cast<off_t>(piece.size());
        }
      });
      unpin(*current);
      if (!read) return read.error();
      if (!copied) return copied.error();
    } else if (current.error().code != ErrorCode::kNotFound) {
      return current.error();
    }
  }
  std::lock_guard lock(uploads_mutex_);
  uploads_.emplace(path.set, upload.get());
  if (opener != 0) ++uploads_by_opener_[opener];
  return upload;
}

Result<ApplyOutcome> ImageSets::commit_upload(StagedFile& upload) {
  if (Status s = writable("commit"); !s) return s.error();
  std::lock_guard lock(upload.mutex_);
  uint64_t size = 0;
  auto judged = [&]() -> Result<ApplyOutcome> {
    auto st = upload.stat();
    if (!st) return st.error();
    size = static_cast<uint64_t>(st->st_size);
    if (Status s = check_original_size(upload.path(), size); !s) return s.error();
    // Judged and hashed on one private snapshot, which is freed before the
    // bytes are stored: the store reads them again from the staged file
    // (which writes and truncations cannot change while we hold its lock),
    // and checks as it stores them that they hash to the judged id.
    // The permit covers the snapshot and the store's copy (DecodeGate), not
    // a wait for the bucket's log once the bytes are stored.
    DecodeGate::Permit permit(decodes_, size);
    Result<AttachOriginal> op = make_error(ErrorCode::kIo, "not judged");
    {
      auto bytes = read_whole(upload.fd(), size, "read of the staged bytes");
      if (!bytes) return bytes.error();
      op = judge(upload.path(), *bytes, upload.commit_mtime(), upload.commit_created());
    }
    if (!op) return op.error();
    op->focus = upload.commit_focus();
    return store_original(upload.path(), *op, StagedSource(upload.fd(), size),
                          [&permit] { permit.release(); });
  }();
  // A large original's snapshot and LMDB's dirty pages, freed, stay in the
  // allocator's arenas otherwise (the next resize would add to them).
  if (size >= kLargeOriginal) release_free_heap(/*even_if_recent=*/true);
  upload.refusal_.reset();
  if (!judged) upload.refusal_ = judged.error();
  if (judged && judged->changed) uploads_committed_.add();
  return judged;
}

void ImageSets::end_upload(StagedFile& upload) {
  {
    std::lock_guard lock(uploads_mutex_);
    auto [begin, end] = uploads_.equal_range(upload.path().set);
    for (auto it = begin; it != end; ++it) {
      if (it->second == &upload) {
        uploads_.erase(it);
        break;
      }
    }
    if (auto count = uploads_by_opener_.find(upload.opener()); count != uploads_by_opener_.end()) {
      if (--count->second == 0) uploads_by_opener_.erase(count);
    }
  }
  // One line per refused upload, and only if its last flush was refused.
  if (auto refusal = upload.refusal()) {
    log_warning("write " + path_string(upload.path()) + ": refused: " + refusal->message);
    count_refusal(*refusal);
  }
}

Status ImageSets::truncate_upload(const ImagePath& original, pid_t pid, off_t size) {
  if (Status s = writable("truncate"); !s) return s;
  StagedFile* newest = nullptr;
  {
    std::lock_guard lock(uploads_mutex_);
    auto [begin, end] = uploads_.equal_range(original.set);
    for (auto it = begin; it != end; ++it) {
      if (it->second->path() == original && it->second->opener() == pid) newest = it->second;
    }
    // Under the registry's lock: end_upload() cannot free it meanwhile.
    if (newest != nullptr) return newest->truncate(size);
  }
  return make_error(ErrorCode::kPermission, "only an open upload or scratch file can be resized");
}

bool ImageSets::set_upload_mtime(const ImagePath& original, int64_t mtime_ns) {
  bool any = for_each_upload_of(
      original, [&](StagedFile& upload) { upload.set_commit_mtime(mtime_ns); });
  if (any) {
    auto changed = set_mtime(original, mtime_ns);
    if (!changed && changed.error().code != ErrorCode::kNotFound) {
      log_warning("utimens " + path_string(original) + ": " + changed.error().message);
    }
  }
  return any;
}

std::optional<ScratchFile> ImageSets::find_scratch(const ImagePath& path) {
  return staging_.find_scratch(path.set, path.staging_name);
}

Result<std::pair<ScratchFile, std::unique_ptr<StagedFile>>> ImageSets::create_scratch(
    const ImagePath& path) {
  if (Status s = writable("create"); !s) return s.error();
  auto created = staging_.create_scratch(path.set, path.staging_name);
  if (!created) return created.error();
  auto file = open_scratch(path, created->id, O_RDWR | O_TRUNC);
  if (!file) return file.error();
  return std::make_pair(std::move(created).value(), std::move(file).value());
}

Result<std::unique_ptr<StagedFile>> ImageSets::open_scratch(const ImagePath& path,
                                                            uint64_t scratch_id, int flags) {
  if ((flags & (O_ACCMODE | O_TRUNC)) != O_RDONLY) {
    if (Status s = writable("open for writing"); !s) return s.error();
  }
  auto scratch = find_scratch(path);
  if (!scratch || scratch->id != scratch_id) {
    return make_error(ErrorCode::kNotFound, "the scratch file is gone");
  }
  UniqueFd fd(::open(scratch->file.c_str(), (flags & (O_ACCMODE | O_TRUNC)) | O_CLOEXEC));
  if (!fd) return error_from_errno("open " + scratch->file);
  return std::make_unique<StagedFile>(StagedFile::Kind::kScratch, path, std::move(fd),
                                      max_bytes_of(path));
}

Result<ScratchStat> ImageSets::stat_scratch(const ImagePath& path, uint64_t scratch_id) {
  auto scratch = find_scratch(path);
  struct stat st;
  if (!scratch || scratch->id != scratch_id || stat(scratch->file.c_str(), &st) != 0) {
    return make_error(ErrorCode::kNotFound, "scratch file gone");
  }
  return ScratchStat{static_cast<uint64_t>(st.st_size), to_ns(st.st_mtim)};
}

Status ImageSets::set_scratch_mtime(const ImagePath& path, int64_t mtime_ns) {
  if (Status s = writable("set the mtime"); !s) return s;
  auto scratch = find_scratch(path);
  if (!scratch) return make_error(ErrorCode::kNotFound, "no such file");
  timespec times[2] = {to_timespec(mtime_ns), to_timespec(mtime_ns)};
  if (utimensat(AT_FDCWD, scratch->file.c_str(), times, 0) != 0) {
    return error_from_errno("utimensat " + scratch->file);
  }
  return Status::Ok();
}

Status ImageSets::remove_scratch(const ImagePath& path) {
  if (Status s = writable("remove"); !s) return s;
  return staging_.remove_scratch(path.set, path.staging_name);
}

}  // namespace iafs
