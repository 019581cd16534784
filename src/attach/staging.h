// Staging: uploads of originals (one anonymous file per open file) and
// scratch files (names starting with '.' or ending with '~' in a set
// directory, as rsync and editors make). All live under STORE/staging/,
// cleared at mount. Internal to attach: fs reaches it through ImageSets.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/unique_fd.h"
#include "imageattachfs/image_path.h"
#include "imageattachfs/result.h"

namespace iafs {

// A scratch file: its name lives in a set directory, its bytes in a file.
struct ScratchFile {
  uint64_t id = 0;  // unique while mounted
  ImageSetKey set;  // the set directory it is listed in
  std::string name;
  std::string file;  // the backing file under STORE/staging
  // A user.image.created_at set on it (rsync -X sets a restored file's
  // attributes before its rename); given to the original it commits. 0: none.
  int64_t created_ns = 0;
  // A user.image.focus set on it (the same way): the committed set's focus.
  std::optional<FocalPoint> focus;
};

class StagingArea {
 public:
  // Scratch files one set directory may hold, and all sets together: a
  // client cannot fill the disk or the daemon's memory with names.
  static constexpr size_t kMaxScratchPerSet = 64;
  static constexpr size_t kMaxScratch = 16384;
  // A scratch file nobody has changed for this long (a client died in the
  // middle of a transfer) is removed: its name and its bytes.
  static constexpr int64_t kDefaultScratchTtlNs = int64_t{24} * 3600 * 1000000000;

  // Empties (creating if absent) `dir`: nothing staged survives a mount.
  static Result<std::unique_ptr<StagingArea>> open(const std::string& dir);
  // The staging area of a read-only mount: `dir` is neither created nor
  // emptied, and new files are refused with kReadOnly.
  static std::unique_ptr<StagingArea> open_read_only(const std::string& dir);

  // A new anonymous file for an upload, unlinked: it vanishes when closed.
  Result<UniqueFd> new_upload_file();

  // Scratch files, by set and name. create_scratch returns the existing one
  // if the name is taken; past the limits above it is kNoSpace.
  Result<ScratchFile> create_scratch(const ImageSetKey& set, const std::string& name);
  std::optional<ScratchFile> find_scratch(const ImageSetKey& set, const std::string& name);
  std::vector<ScratchFile> list_scratch(const ImageSetKey& set);
  bool has_scratch(const ImageSetKey& set);
  // Forgets the name and unlinks its file (open descriptors keep the bytes).
  Status remove_scratch(const ImageSetKey& set, const std::string& name);
  // Remembers a created_at for the scratch file (see ScratchFile).
  Status set_scratch_created(const ImageSetKey& set, const std::string& name, int64_t created_ns);
  // Remembers a focus (nullopt: none) for the scratch file (see ScratchFile).
  Status set_scratch_focus(const ImageSetKey& set, const std::string& name,
                           const std::optional<FocalPoint>& focus);
  // Renames a scratch file; replaces a scratch file at the target.
  Status rename_scratch(const ImageSetKey& set, const std::string& name, const ImageSetKey& new_set,
                        const std::string& new_name);
  // Moves every scratch file of one set to another (mv -T of a set); one
  // moved onto a name the target holds replaces it.
  void move_set(const ImageSetKey& from, const ImageSetKey& to);

  // How long an unchanged scratch file is kept (0: until unmount). "Changed"
  // is its inode's change time: every write, truncation and mtime setting
  // (rsync sets an old mtime before its rename) renews it. Expired files are
  // removed, one log line each, when scratch files are created, looked up or
  // listed, at most once per sweep interval (a minute, or half the ttl).
  void set_scratch_ttl(int64_t ttl_ns);

 private:
  using Key = std::pair<ImageSetKey, std::string>;
  StagingArea(std::string dir, bool read_only) : dir_(std::move(dir)), read_only_(read_only) {}
  // REQUIRES mutex_ held.
  void expire_unchanged();

  std::string dir_;
  const bool read_only_;
  std::mutex mutex_;
  uint64_t next_id_ = 1;
  std::map<Key, ScratchFile> scratch_;
  int64_t ttl_ns_ = kDefaultScratchTtlNs;
  int64_t next_sweep_ns_ = 0;
};

}  // namespace iafs
