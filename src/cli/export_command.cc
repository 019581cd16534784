// imageattachfs export STORE DIR [--schema FILE]: a plain tree of the
// namespace's originals (DIR/TYPE/ID/ATT[/INDEX]/original.EXT, with their
// mtimes) and metadata files (index.json of each multiple attachment,
// meta.json of each single one), read from one LMDB read transaction
// (StoreSnapshot), beside a daemon serving the store. Resumable: a file that
// is there with the right size and mtime (metadata: the same bytes) is
// skipped; each file is written to a temporary name (.NAME.export-tmp) and
// renamed, so an interrupt leaves no partial file under a real name.
// Exit: 0 done, 1 an error (one line), 2 usage, 130 interrupted.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "attach/metadata.h"
#include "base/clock.h"
#include "cli/commands.h"
#include "config/schema_parser.h"
#include "path/path.h"
#include "store/store_snapshot.h"

namespace iafs {
namespace {

volatile std::sig_atomic_t interrupted = 0;

void on_interrupt(int) { interrupted = 1; }

struct ExportCounts {
  uint64_t sets = 0;           // originals walked
  uint64_t written = 0;        // originals written
  uint64_t present = 0;        // originals there already
  uint64_t metadata = 0;       // index.json and meta.json files written
  uint64_t metadata_same = 0;  // of them, there already with these bytes
  uint64_t bytes = 0;          // bytes written (originals)
  uint64_t unknown = 0;        // sets of a type or attachment not in the schema
};

// A bar on a terminal; otherwise a line each time the percentage moves.
class Progress {
 public:
  explicit Progress(uint64_t total) : total_(total), terminal_(isatty(STDOUT_FILENO) == 1) {}

  void update(const ExportCounts& c) {
    uint64_t done = c.sets;
    unsigned percent = total_ == 0 ? 100 : static_cast<unsigned>(done * 100 / total_);
    if (done != 0 && percent == last_percent_ && done != total_) return;
    last_percent_ = percent;
    if (terminal_) {
      constexpr unsigned kWidth = 30;
      unsigned filled = percent * kWidth / 100;
      std::printf("\r[%s%s] %3u%% %llu/%llu sets, %.1f MiB written",
                  std::string(filled, '#').c_str(), std::string(kWidth - filled, '-').c_str(),
                  percent, static_cast<unsigned long long>(done),
                  static_cast<unsigned long long>(total_),
                  static_cast<double>(c.bytes) / (1024.0 * 1024.0));
    } else {
      std::printf("export: %llu/%llu sets (%u%%): %llu written, %llu already there, %llu bytes\n",
                  static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_),
                  percent, static_cast<unsigned long long>(c.written),
                  static_cast<unsigned long long>(c.present),
                  static_cast<unsigned long long>(c.bytes));
    }
    std::fflush(stdout);
  }

  void finish() {
    if (terminal_) std::printf("\n");
  }

 private:
  uint64_t total_;
  bool terminal_;
  unsigned last_percent_ = 101;
};

Error system_error(const std::string& what) { return error_from_errno(what); }

// mkdir -p of `dir` (absolute or relative).
Status make_directories(const std::string& dir) {
  for (size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    std::string prefix = dir.substr(0, slash);
    if (!prefix.empty() && mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return system_error(prefix);
    }
    if (slash == std::string::npos) break;
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) return system_error(dir);
  if (!S_ISDIR(st.st_mode)) return make_error(ErrorCode::kInvalid, dir + ": not a directory");
  return Status::Ok();
}

std::string directory_of(const std::string& path) { return path.substr(0, path.rfind('/')); }

std::string temporary_name(const std::string& path) {
  size_t slash = path.rfind('/');
  return path.substr(0, slash + 1) + "." + path.substr(slash + 1) + ".export-tmp";
}

Status write_all(int fd, const uint8_t* data, size_t size, const std::string& what) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return system_error(what);
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Writes `path` by `fill` into its temporary name, sets the mtime (if
// given), syncs and renames it into place.
template <typename Fill>
Status write_atomically(const std::string& path, std::optional<int64_t> mtime_ns, Fill&& fill) {
  if (Status s = make_directories(directory_of(path)); !s) return s;
  std::string temp = temporary_name(path);
  UniqueFd fd(open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd) return system_error(temp);
  if (Status s = fill(fd.get(), temp); !s) return s;
  if (mtime_ns) {
    timespec times[2] = {to_timespec(*mtime_ns), to_timespec(*mtime_ns)};
    if (futimens(fd.get(), times) != 0) return system_error(temp);
  }
  if (fsync(fd.get()) != 0) return system_error(temp);
  if (close(fd.release()) != 0) return system_error(temp);
  if (rename(temp.c_str(), path.c_str()) != 0) return system_error(path);
  return Status::Ok();
}

bool has_size_and_mtime(const std::string& path, uint64_t size, int64_t mtime_ns) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  return static_cast<uint64_t>(st.st_size) == size && to_ns(st.st_mtim) == mtime_ns;
}

bool has_bytes(const std::string& path, const std::string& bytes) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  struct stat st;
  if (!fd || fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<uint64_t>(st.st_size) != bytes.size()) {
    return false;
  }
  std::string found(bytes.size(), '\0');
  return pread(fd.get(), found.data(), found.size(), 0) == static_cast<ssize_t>(found.size()) &&
         found == bytes;
}

// Removes the originals under other extensions beside `kept` (an earlier
// export's, before the set's original was replaced by one of another
// format), so that the set directory holds one original, as in the store.
Status remove_other_originals(const std::string& kept) {
  std::string dir = directory_of(kept);
  std::string kept_name = kept.substr(dir.size() + 1);
  std::unique_ptr<DIR, int (*)(DIR*)> listing(opendir(dir.c_str()), closedir);
  if (!listing) return system_error(dir);
  std::vector<std::string> stale;
  while (dirent* entry = readdir(listing.get())) {
    std::string name = entry->d_name;
    if (name.starts_with("original.") && name != kept_name) stale.push_back(name);
  }
  for (const std::string& name : stale) {
    std::string path = join_path(dir, name);
    if (unlink(path.c_str()) != 0 && errno != ENOENT) return system_error(path);
  }
  return Status::Ok();
}

class Exporter {
 public:
  Exporter(StoreSnapshot& snapshot, const Schema& schema, std::string dir)
      : snapshot_(snapshot),
        schema_(schema),
        dir_(std::move(dir)),
        progress_(snapshot.set_count()) {}

  // Exports every set; the first error stops it.
  Status run() {
    Status walked = snapshot_.for_each_set([&](StoredSet&& set) {
      if (interrupted) {
        failure_ = make_error(ErrorCode::kIo, "interrupted; run it again to resume");
        return false;
      }
      failure_ = export_set(set);
      ++counts_.sets;
      progress_.update(counts_);
      return failure_.ok();
    });
    if (!walked) return walked;
    if (!failure_) return failure_;
    return flush_index();
  }

  const ExportCounts& counts() const { return counts_; }
  void finish() { progress_.finish(); }

 private:
  Status export_set(const StoredSet& set) {
    const AttachmentSchema* attachment = schema_.find_attachment(set.key.type, set.key.attachment);
    if (attachment == nullptr) {
      ++counts_.unknown;
      std::fprintf(stderr, "imageattachfs: export: skipped %s/%s/%s/%u: not in the schema\n",
                   set.key.type.c_str(), set.key.id.text.c_str(), set.key.attachment.c_str(),
                   set.key.index);
      return Status::Ok();
    }
    const SetRecord& record = set.record;
    std::string target =
        dir_ + path_string(original_path(set.key, attachment->multiple, record.ext));
    if (has_size_and_mtime(target, record.size, record.mtime_ns)) {
      ++counts_.present;
    } else {
      Status written =
          write_atomically(target, record.mtime_ns, [&](int fd, const std::string& temp) {
            Status copied = Status::Ok();
            Status read =
                snapshot_.read_blob(record.blob, record.size, 0, record.size, [&](auto pieces) {
                  for (auto piece : pieces) {
                    if (copied) copied = write_all(fd, piece.data(), piece.size(), temp);
                  }
                });
            return read ? copied : read;
          });
      if (!written) return written;
      ++counts_.written;
      counts_.bytes += record.size;
    }
    if (Status s = remove_other_originals(target); !s) return s;
    SetMetadata metadata = set_metadata(set, *attachment);
    if (!attachment->multiple) {
      return write_metadata(
          dir_ + path_string(image_set_path(set.key, false)) + "/" + kMetaFileName,
          meta_json(metadata));
    }
    ImagePath dir = attachment_path(set.key.type, set.key.id, set.key.attachment, true);
    if (!pending_.empty() && dir != pending_dir_) {
      if (Status s = flush_index(); !s) return s;
    }
    pending_dir_ = dir;
    pending_.push_back(std::move(metadata));
    return Status::Ok();
  }

  // index.json of the attachment whose sets were just walked.
  Status flush_index() {
    if (pending_.empty()) return Status::Ok();
    Status s = write_metadata(dir_ + path_string(pending_dir_) + "/" + kIndexFileName,
                              index_json(pending_));
    pending_.clear();
    return s;
  }

  Status write_metadata(const std::string& path, const std::string& bytes) {
    ++counts_.metadata;
    if (has_bytes(path, bytes)) {
      ++counts_.metadata_same;
      return Status::Ok();
    }
    return write_atomically(path, std::nullopt, [&](int fd, const std::string& temp) {
      return write_all(fd, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), temp);
    });
  }

  StoreSnapshot& snapshot_;
  const Schema& schema_;
  std::string dir_;
  Progress progress_;
  ExportCounts counts_;
  Status failure_ = Status::Ok();
  ImagePath pending_dir_;
  std::vector<SetMetadata> pending_;  // the sets of pending_dir_ so far
};

std::string summary_line(const std::string& store, const std::string& dir, const ExportCounts& c) {
  auto n = [](uint64_t v) { return std::to_string(v); };
  std::string line = "export " + store + " -> " + dir + ": " + n(c.sets) + " originals (" +
                     n(c.written) + " written, " + n(c.present) + " already there), " +
                     n(c.metadata) + " metadata files (" + n(c.metadata - c.metadata_same) +
                     " written), " + n(c.bytes) + " bytes written";
  if (c.unknown > 0) line += "; " + n(c.unknown) + " sets skipped (not in the schema)";
  return line;
}

}  // namespace

int run_export(int argc, char** argv) {
  const std::string usage = "usage: imageattachfs export STORE DIR [--schema FILE]";
  std::vector<std::string> positional;
  std::string schema_path;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--schema" && i + 1 < argc) {
      schema_path = argv[++i];
    } else if (arg.starts_with("--schema=")) {
      schema_path = arg.substr(9);
    } else if (!arg.starts_with("-") && positional.size() < 2) {
      positional.push_back(arg);
    } else {
      return command_failed("export: unexpected '" + arg + "' (" + std::string(usage) + ")", 2);
    }
  }
  if (positional.size() != 2) return command_failed("export: " + usage, 2);
  std::string store_dir = positional[0];
  std::string dir = positional[1];
  while (dir.size() > 1 && dir.ends_with('/')) dir.pop_back();
  struct stat st;
  if (stat((store_dir + "/data.mdb").c_str(), &st) != 0) {
    return command_failed("export: " + store_dir + ": not a store (no data.mdb)", 1);
  }
  Result<Schema> schema =
      schema_path.empty() ? Result<Schema>(default_schema()) : load_schema(schema_path);
  if (!schema) return command_failed("export: " + schema.error().message, 1);
  if (Status s = make_directories(dir); !s)
    return command_failed("export: " + s.error().message, 1);
  auto snapshot = StoreSnapshot::open(store_dir);
  if (!snapshot) return command_failed("export: " + store_dir + ": " + snapshot.error().message, 1);
  if (auto bucket = (*snapshot)->on_bucket(); !bucket || *bucket) {
    return command_failed("export: " + store_dir + ": " +
                              (bucket ? "holds a bucket's store, whose host has only the originals "
                                        "it read: copy them from a mount (cp -a) instead"
                                      : bucket.error().message),
                          1);
  }
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  Exporter exporter(**snapshot, *schema, dir);
  Status done = exporter.run();
  exporter.finish();
  std::printf("%s\n", summary_line(store_dir, dir, exporter.counts()).c_str());
  std::fflush(stdout);
  if (!done) {
    return command_failed("export: " + done.error().message, interrupted ? 130 : 1);
  }
  return 0;
}

}  // namespace iafs
