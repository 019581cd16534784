// imageattachfs import DIR STORE [--schema FILE] [--threads N]: loads a plain
// tree laid out as the namespace (TYPE/ID/ATT/original.EXT for a single
// attachment, TYPE/ID/ATT/INDEX/original.EXT for a multiple one: what
// `export`, `cp -a` or `rsync -a` of a mount make) into an unmounted store.
// Each original is validated as an upload is and committed with its file's
// mtime; index.json, meta.json, thumbnails and scratch names are passed over.
// Rerunning skips what the store holds already (same bytes, same name) and
// replaces what differs: the tree is the truth. Exit 0, 1 (some refused), 2.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/import_run.h"
#include "path/path.h"

namespace iafs {
namespace {

// Deeper than any path of the namespace, with room to name what is wrong.
constexpr int kMaxDepth = 16;

struct DirCloser {
  void operator()(DIR* d) const { closedir(d); }
};

// One directory of the source tree: the names of what it holds that are not
// directories, once its subdirectories have been walked.
using DirectoryFiles = std::function<void(const std::string& dir, std::vector<std::string>& files)>;
// A directory that cannot be walked, and why.
using WalkProblem = std::function<void(const std::string& dir, const std::string& why)>;

// Walks the directory open at `fd` (owned), named `rel` under the root,
// depth-first; symbolic links are not followed into directories.
void walk_directory(int fd, const std::string& rel, int depth, const DirectoryFiles& on_files,
                    const WalkProblem& on_problem) {
  std::unique_ptr<DIR, DirCloser> dir(fdopendir(fd));
  if (!dir) {
    close(fd);
    return on_problem(rel, std::strerror(errno));
  }
  std::vector<std::string> files;
  errno = 0;
  while (dirent* entry = readdir(dir.get())) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    bool is_dir = entry->d_type == DT_DIR;
    if (entry->d_type == DT_UNKNOWN) {
      struct stat st;
      is_dir = fstatat(dirfd(dir.get()), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
               S_ISDIR(st.st_mode);
    }
    std::string child = join_path(rel, name);
    if (!is_dir) {
      files.push_back(std::move(name));
    } else if (depth >= kMaxDepth) {
      on_problem(child, "deeper than any path of the namespace");
    } else {
      int child_fd =
          openat(dirfd(dir.get()), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child_fd < 0) {
        on_problem(child, std::strerror(errno));
      } else {
        walk_directory(child_fd, child, depth + 1, on_files, on_problem);
      }
    }
    errno = 0;
  }
  if (errno != 0) on_problem(rel, std::strerror(errno));
  on_files(rel, files);
}

void walk_tree(const std::string& root, const DirectoryFiles& on_files,
               const WalkProblem& on_problem) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return on_problem("", std::strerror(errno));
  walk_directory(fd, "", 0, on_files, on_problem);
}

bool is_metadata_file(const std::string& name) {
  return name == "index.json" || name == "meta.json";
}

// Queues the files of one directory of the tree at `root`: originals go to
// the run, what is not an original is ignored or refused.
void feed_directory(ImportRun& run, const Schema& schema, const std::string& root,
                    const std::string& dir, const std::vector<std::string>& files) {
  std::vector<ImportSource> originals;
  for (const std::string& name : files) {
    std::string rel = join_path(dir, name);
    if (is_metadata_file(name)) {
      run.ignore();
      continue;
    }
    auto path = parse_path("/" + rel, schema);
    if (path && (path->kind == NodeKind::kThumbnail || path->kind == NodeKind::kStaging)) {
      run.ignore();  // thumbnails are made again; scratch files are nobody's original
    } else if (path && path->kind == NodeKind::kOriginal) {
      originals.push_back(ImportSource{join_path(root, rel), rel, std::move(path).value()});
    } else {
      run.refuse(rel, "not_in_schema", "not the path of an original in the schema");
    }
  }
  if (originals.size() > 1) {
    // A set has one original: which would win is no choice to make quietly.
    for (const ImportSource& o : originals) {
      run.refuse(o.name, "two_originals",
                 "its set directory holds " + std::to_string(originals.size()) + " originals");
    }
    return;
  }
  for (ImportSource& o : originals) {
    if (!run.add(std::move(o))) return;
  }
}

// The real path of `path`, or `path` itself if it has none (yet).
std::string real_path(const std::string& path) {
  char buffer[PATH_MAX];
  return realpath(path.c_str(), buffer) != nullptr ? std::string(buffer) : path;
}

}  // namespace

int run_import(int argc, char** argv) {
  const std::string usage = "usage: imageattachfs import DIR STORE [--schema FILE] [--threads N]";
  auto args = parse_import_args(argc, argv, false);
  if (!args) return command_failed("import: " + args.error().message + " (" + usage + ")", 2);
  if (args->positional.size() != 2) return command_failed("import: " + usage, 2);
  const std::string root = args->positional[0];
  const std::string store_dir = args->positional[1];
  struct stat st;
  if (stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return command_failed("import: " + root + ": not a directory", 2);
  }
  std::string real_root = real_path(root) + "/";
  if ((real_path(store_dir) + "/").starts_with(real_root)) {
    return command_failed("import: the store " + store_dir + " is inside " + root, 2);
  }
  auto count = [&](const Schema&) {
    uint64_t files = 0;
    walk_tree(
        root, [&](const std::string&, std::vector<std::string>& names) { files += names.size(); },
        [](const std::string&, const std::string&) {});
    return files;
  };
  auto feed = [&](ImportRun& run, const Schema& schema) {
    walk_tree(
        root,
        [&](const std::string& dir, std::vector<std::string>& names) {
          feed_directory(run, schema, root, dir, names);
        },
        [&](const std::string& dir, const std::string& why) {
          run.refuse(dir.empty() ? root : dir + "/", "unreadable", why);
        });
  };
  return run_bulk_import("import", *args, store_dir, count, feed);
}

}  // namespace iafs
