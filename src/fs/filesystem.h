// The mounted filesystem: FUSE low-level operations translating kernel
// requests to ImageSets calls (DESIGN §5, §5b). One file per group of
// operations; errno values are born only in errno_of() (errors.cc).
#pragma once

#include <fuse_lowlevel.h>
#include <sys/stat.h>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "attach/image_sets.h"
#include "fs/inode_table.h"
#include "imageattachfs/result.h"

namespace iafs {

// An open file (fi->fh).
struct OpenFile {
  enum class Kind { kVersion, kUpload, kScratch };
  Kind kind = Kind::kVersion;
  ImagePath path;
  std::optional<FileVersion> version;  // kVersion: the pinned version
  UniqueFd fd;                         // kUpload: the staged bytes; kScratch: the file
  std::mutex mutex;                    // kUpload: one flush at a time
  std::atomic<int64_t> mtime_ns{0};    // kUpload: mtime set while open (futimens, utimensat)
  std::optional<Error> refusal;        // kUpload: why the last flush was refused
};

// A directory handle (fi->fh of opendir): the listing position (DESIGN §5a).
struct DirHandle {
  std::mutex mutex;
  off_t next_offset = 0;                 // the offset after the last entry returned
  std::optional<std::string> last_name;  // the last entry returned, to resume after
};

struct FsTimeouts {
  double entry = 86400.0;  // names are invalidated explicitly when they change
  double attr = 86400.0;
};

class Filesystem {
 public:
  // The filesystem of the store in `store_dir`; requests are served once
  // set_sets() has been called (after daemonizing: LMDB and libvips do not
  // survive fork()).
  Filesystem(std::string store_dir, uid_t uid, gid_t gid);

  // The operation table for fuse_session_new.
  static const fuse_lowlevel_ops& operations();

  void set_session(fuse_session* session) { session_ = session; }
  void set_sets(ImageSets* sets) { sets_ = sets; }

  ImageSets& sets() { return *sets_; }
  const std::string& store_dir() const { return store_dir_; }
  InodeTable& inodes() { return inodes_; }

  // The node of a request's nodeid; replies ENOENT and returns nullopt if unknown.
  std::optional<Node> node_or_reply(fuse_req_t req, fuse_ino_t nodeid);

  // The directory `parent` and the path of `name` in it. Replies with the
  // error and returns nullopt when either is unknown or outside the grammar.
  struct Child {
    Node dir;
    ImagePath path;
  };
  std::optional<Child> child_or_reply(fuse_req_t req, fuse_ino_t parent, const char* name);

  // Attributes of a node (a FileVersion, a directory, a scratch file, a
  // pending original). kNotFound when it is gone.
  Result<struct stat> attributes(const Node& node, const OpenFile* open = nullptr);

  // Fills an entry for a directory listing or lookup, taking one lookup ref.
  Result<fuse_entry_param> entry_for(const ImagePath& path, const std::optional<FileVersion>& v,
                                     const std::optional<ScratchFile>& scratch);

  // Tells the kernel that names or data changed. inval_* never block on a
  // lock held for the current request when called as documented in §5b.
  void invalidate_entry(const ImagePath& dir, const std::string& name);
  void invalidate_files(const ImagePath& path);
  void invalidate_thumbnails(const ImagePath& set_dir, const std::vector<ThumbnailSpec>& specs);
  // Invalidations sent after the reply (names in a directory locked by the request).
  void invalidate_entry_later(const ImagePath& dir, const std::string& name);
  void send_later();

  // Open uploads by the original's path text, so that a setattr without a
  // file handle (futimens reaches FUSE without one) finds them.
  void add_upload(OpenFile* file);
  void remove_upload(OpenFile* file);
  // Sets the mtime that the open uploads of `path` will commit; false if none.
  bool set_upload_mtime(const ImagePath& path, int64_t mtime_ns);

  // Logs a refusal: one line naming the path and the reason.
  void log_refusal(const std::string& op, const ImagePath& path, const Error& error);

  const FsTimeouts& timeouts() const { return timeouts_; }

 private:
  std::string store_dir_;
  ImageSets* sets_ = nullptr;
  InodeTable inodes_;
  fuse_session* session_ = nullptr;
  uid_t uid_;
  gid_t gid_;
  timespec mount_time_;
  FsTimeouts timeouts_;
  std::mutex later_mutex_;
  std::vector<std::pair<fuse_ino_t, std::string>> later_;
  std::mutex uploads_mutex_;
  std::multimap<std::string, OpenFile*> uploads_;
};

// The errno of an Error: the one place errno values are born.
int errno_of(const Error& error);
// Replies to `req` with the errno of `error`.
void reply_error(fuse_req_t req, const Error& error);
// An Error for a failed system call on the daemon's own files (staging):
// kNoSpace when the disk is full, else kIo; the message has strerror(errno).
Error error_from_errno(const std::string& what);

// The filesystem of a request.
inline Filesystem& fs_of(fuse_req_t req) {
  return *static_cast<Filesystem*>(fuse_req_userdata(req));
}

}  // namespace iafs
