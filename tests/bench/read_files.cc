// Reads files the way a static file server does, so that the benchmark's
// ratios are the filesystem's and not an interpreter's:
//
//   bench_read read THREADS SECONDS FILE...
//     THREADS threads, each doing open + read-all + close over the files in
//     turn (each thread starting at its own offset) until SECONDS have passed;
//     prints "ops=N seconds=S ops_per_s=X bytes_per_s=Y".
//   bench_read herd THREADS FILE
//     THREADS threads wait at a barrier, then each reads FILE whole once;
//     prints "readers=N failed=F distinct=K size=S" (K: how many different
//     contents were read; 1 when every reader got the same bytes).
//
// Exit status 1 (and one line on stderr) when a file cannot be read.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <barrier>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kBufferSize = 1 << 20;  // the mount's max_read; cat uses 128 KiB

// open + read until EOF + close; the bytes read, or -1 (errno set).
long long read_whole(const char* path, std::vector<char>& buffer, std::string* into) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  long long total = 0;
  for (;;) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      ::close(fd);
      errno = saved;
      return -1;
    }
    if (n == 0) break;
    if (into != nullptr) into->append(buffer.data(), size_t(n));
    total += n;
  }
  if (::close(fd) != 0) return -1;
  return total;
}

int usage() {
  std::fprintf(stderr,
               "usage: bench_read read THREADS SECONDS FILE...\n"
               "       bench_read herd THREADS FILE\n");
  return 2;
}

int run_reads(int threads, double seconds, const std::vector<const char*>& files) {
  std::atomic<long long> ops{0}, bytes{0};
  std::atomic<bool> failed{false};
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(seconds));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::vector<char> buffer(kBufferSize);
      long long my_ops = 0, my_bytes = 0;
      size_t next = size_t(t) * files.size() / size_t(threads);
      while (Clock::now() < deadline && !failed.load(std::memory_order_relaxed)) {
        const char* path = files[next];
        next = (next + 1) % files.size();
        long long n = read_whole(path, buffer, nullptr);
        if (n < 0) {
          std::fprintf(stderr, "bench_read: %s: %s\n", path, std::strerror(errno));
          failed = true;
          break;
        }
        ++my_ops;
        my_bytes += n;
      }
      ops += my_ops;
      bytes += my_bytes;
    });
  }
  for (auto& worker : workers) worker.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (failed) return 1;
  std::printf("ops=%lld seconds=%.3f ops_per_s=%.1f bytes_per_s=%.0f\n", ops.load(), elapsed,
              double(ops.load()) / elapsed, double(bytes.load()) / elapsed);
  return 0;
}

int run_herd(int threads, const char* path) {
  std::barrier start(threads);
  std::vector<std::string> contents(static_cast<size_t>(threads));
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < threads; ++t) {
    readers.emplace_back([&, t] {
      std::vector<char> buffer(kBufferSize);
      start.arrive_and_wait();
      if (read_whole(path, buffer, &contents[size_t(t)]) < 0) {
        std::fprintf(stderr, "bench_read: %s: %s\n", path, std::strerror(errno));
        ++failures;
      }
    });
  }
  for (auto& reader : readers) reader.join();
  std::set<std::string> distinct;
  size_t size = 0;
  for (const auto& content : contents) {
    if (content.empty()) continue;
    distinct.insert(content);
    size = content.size();
  }
  std::printf("readers=%d failed=%d distinct=%zu size=%zu\n", threads, failures.load(),
              distinct.size(), size);
  return failures.load() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) return usage();
  std::string mode = argv[1];
  int threads = std::atoi(argv[2]);
  if (threads < 1 || threads > 4096) return usage();
  if (mode == "read" && argc >= 5) {
    double seconds = std::atof(argv[3]);
    if (seconds <= 0) return usage();
    std::vector<const char*> files(argv + 4, argv + argc);
    return run_reads(threads, seconds, files);
  }
  if (mode == "herd" && argc == 4) return run_herd(threads, argv[3]);
  return usage();
}
