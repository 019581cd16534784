// imageattachfs warm MOUNTPOINT [--budget SIZE] [--jobs N]: fills a bucket
// host's cache before it serves (SCALEOUT.md §10 step 4). It reads, through
// the mount, the newest originals (by mtime) that fit together in the budget:
// SIZE, or 9/10 of the mount's -o cache_size (the mark its eviction frees
// down to), or all of them when the mount has no cache_size. The chosen ones
// are read oldest first, so that the newest are the last ones used and the
// last ones evicted. Each is read past the kernel's page cache, so that the
// daemon fetches what it lacks from the bucket.
// Exit 0 when every chosen original was read; 1 when some could not be (one
// line each); 2 for a bad argument or a directory that is not a mount.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/numbers.h"
#include "cli/commands.h"

namespace iafs {
namespace {

struct Original {
  std::string path;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
};

// The names in directory `dir` that are not dot names (nullopt: unreadable).
std::optional<std::vector<std::string>> names_in(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return std::nullopt;
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') names.emplace_back(e->d_name);
  }
  closedir(d);
  return names;
}

// Every original under `root`: TYPE/ENTITY/ATTACHMENT/INDEX/original.EXT.
// Directories that cannot be read are counted in `unreadable`.
std::vector<Original> originals_under(const std::string& root, int& unreadable) {
  std::vector<Original> found;
  std::vector<std::string> level = {root};
  for (int depth = 0; depth < 4; ++depth) {
    std::vector<std::string> next;
    for (const std::string& dir : level) {
      auto names = names_in(dir);
      if (!names) {
        ++unreadable;
        std::fprintf(stderr, "imageattachfs: warm: %s: cannot list it\n", dir.c_str());
        continue;
      }
      for (const std::string& name : *names) next.push_back(join_path(dir, name));
    }
    level = std::move(next);
  }
  for (const std::string& set : level) {
    auto names = names_in(set);
    if (!names) continue;  // not a set (a file at that depth), or gone meanwhile
    for (const std::string& name : *names) {
      if (!name.starts_with("original.")) continue;
      std::string path = join_path(set, name);
      struct stat st;
      if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      found.push_back(Original{path, static_cast<uint64_t>(st.st_size),
                               int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec});
    }
  }
  return found;
}

// The value of gauge `name` in the mount's metrics file, if it has one.
std::optional<uint64_t> gauge_of(const std::string& metrics, const std::string& name) {
  std::ifstream in(metrics);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(name + " "))
      return parse_canonical_decimal(line.substr(name.size() + 1), UINT64_MAX);
  }
  return std::nullopt;
}

// Reads `path` whole past the page cache; false (with errno) on an error.
bool read_through(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  std::vector<char> buffer(1 << 20);
  ssize_t n = 0;
  while ((n = read(fd, buffer.data(), buffer.size())) > 0) {
  }
  int saved = errno;
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);  // the daemon's cache is what was asked for
  close(fd);
  errno = saved;
  return n == 0;
}

}  // namespace

int run_warm(int argc, char** argv) {
  const std::string usage = "warm: usage: imageattachfs warm MOUNTPOINT [--budget SIZE] [--jobs N]";
  std::string mountpoint;
  std::optional<uint64_t> budget;
  uint64_t jobs = 4;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--budget" || arg == "--jobs") {
      std::string value = i + 1 < argc ? argv[++i] : "";
      auto number =
          arg == "--budget" ? parse_number(value, UINT64_MAX) : parse_canonical_decimal(value, 64);
      if (!number || (arg == "--jobs" && *number == 0)) {
        std::string message = "warm: bad ";
        message += arg;
        message += " '" + value + "'";
        return command_failed(message, 2);
      }
      if (arg == "--budget") {
        budget = *number;
      } else {
        jobs = *number;
      }
    } else if (mountpoint.empty() && !arg.starts_with("-")) {
      mountpoint = arg;
    } else {
      return command_failed("warm: unexpected '" + arg + "' (" + usage.substr(6) + ")", 2);
    }
  }
  if (mountpoint.empty()) return command_failed(usage, 2);
  std::string metrics = join_path(mountpoint, ".imageattachfs/metrics");
  if (access(metrics.c_str(), R_OK) != 0) {
    return command_failed("warm: " + mountpoint + ": not an ImageAttachFS mount", 2);
  }
  if (!budget) {
    auto cache_size = gauge_of(metrics, "imageattachfs_cache_budget_bytes");
    budget = cache_size ? *cache_size - *cache_size / 10 : UINT64_MAX;
  }
  int unreadable = 0;
  std::vector<Original> all = originals_under(mountpoint, unreadable);
  std::sort(all.begin(), all.end(),
            [](const Original& a, const Original& b) { return a.mtime_ns > b.mtime_ns; });
  std::vector<const Original*> chosen;
  uint64_t chosen_bytes = 0;
  uint64_t all_bytes = 0;
  for (const Original& o : all) {
    all_bytes += o.size;
    if (o.size <= *budget - chosen_bytes) {
      chosen.push_back(&o);
      chosen_bytes += o.size;
    }
  }
  std::reverse(chosen.begin(), chosen.end());  // oldest first: the newest used last
  std::atomic<size_t> next{0};
  std::atomic<int> failed{0};
  std::atomic<uint64_t> read_bytes{0};
  std::mutex print;
  std::vector<std::thread> workers;
  workers.reserve(jobs);
  for (uint64_t j = 0; j < std::min<uint64_t>(jobs, chosen.size()); ++j) {
    workers.emplace_back([&] {
      for (size_t i; (i = next++) < chosen.size();) {
        if (read_through(chosen[i]->path)) {
          read_bytes += chosen[i]->size;
          continue;
        }
        int error = errno;
        ++failed;
        std::lock_guard lock(print);
        std::fprintf(stderr, "imageattachfs: warm: %s: %s\n", chosen[i]->path.c_str(),
                     std::strerror(error));
      }
    });
  }
  for (auto& w : workers) w.join();
  std::printf("warm %s: read %zu of %zu originals (%llu of %llu bytes), budget %s%s\n",
              mountpoint.c_str(), chosen.size() - static_cast<size_t>(failed.load()), all.size(),
              static_cast<unsigned long long>(read_bytes.load()),
              static_cast<unsigned long long>(all_bytes),
              *budget == UINT64_MAX ? "none" : std::to_string(*budget).c_str(),
              failed > 0 ? (", " + std::to_string(failed.load()) + " failed").c_str() : "");
  return failed > 0 || unreadable > 0 ? 1 : 0;
}

}  // namespace iafs
