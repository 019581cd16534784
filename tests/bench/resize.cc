// The reference of the cold-throughput figure: the daemon's own resize
// (iafs::make_thumbnail, the same libvips calls) run in-process, with the
// originals already in memory, so what the mount adds around it (FUSE, the
// store, nginx) is what the ratio measures.
//
//   bench_resize THREADS FIRST_WIDTH COUNT QUALITY FILE...
//     COUNT JPEG thumbnails: job j resizes FILE[j % n] to width
//     FIRST_WIDTH + j / n (the same (original, width) pairs the nginx run
//     requests), THREADS at a time; prints
//     "thumbnails=N seconds=S per_s=X p50_ms=A p95_ms=B".
//
// Exit status 1 (and one line on stderr) when a resize fails.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <vips/vips8>

#include "image/image.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Original {
  std::vector<uint8_t> bytes;
  uint32_t width = 0;
  uint32_t height = 0;  // as displayed (EXIF orientation applied)
};

bool load(const char* path, Original& original) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  original.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  vips::VImage header =
      vips::VImage::new_from_buffer(original.bytes.data(), original.bytes.size(), "");
  original.width = uint32_t(header.width());
  original.height = uint32_t(header.height());
  if (vips_image_get_orientation_swap(header.get_image())) {
    std::swap(original.width, original.height);
  }
  return true;
}

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  size_t index = std::min(values.size() - 1, size_t(p * double(values.size() - 1) + 0.5));
  return values[index];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: bench_resize THREADS FIRST_WIDTH COUNT QUALITY FILE...\n");
    return 2;
  }
  int threads = std::atoi(argv[1]);
  uint32_t first_width = uint32_t(std::atoi(argv[2]));
  int count = std::atoi(argv[3]);
  int quality = std::atoi(argv[4]);
  if (threads < 1 || first_width < 1 || count < 1) return 2;
  if (!iafs::image_init(argv[0])) {
    std::fprintf(stderr, "bench_resize: cannot start libvips\n");
    return 1;
  }
  std::vector<Original> originals(size_t(argc - 5));
  for (size_t i = 0; i < originals.size(); ++i) {
    if (!load(argv[5 + i], originals[i])) {
      std::fprintf(stderr, "bench_resize: cannot read %s\n", argv[5 + i]);
      return 1;
    }
  }
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  std::mutex latencies_mutex;
  std::vector<double> latencies;
  auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (int job = next++; job < count && !failed; job = next++) {
        const Original& original = originals[size_t(job) % originals.size()];
        uint32_t width = first_width + uint32_t(size_t(job) / originals.size());
        auto size = iafs::plan_thumbnail(
            original.width, original.height,
            iafs::ThumbnailSpec{iafs::ThumbFit::kWidth, width, 0, iafs::ImageFormat::kJpeg},
            iafs::Enlarge::kNo, std::nullopt);
        auto began = Clock::now();
        auto made = size ? iafs::make_thumbnail(original.bytes, *size, iafs::ImageFormat::kJpeg,
                                                quality)
                         : iafs::Result<iafs::EncodedImage>(
                               iafs::make_error(iafs::ErrorCode::kInvalid, "wider than original"));
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - began).count();
        if (!made) {
          std::fprintf(stderr, "bench_resize: job %d: %s\n", job, made.error().message.c_str());
          failed = true;
          return;
        }
        std::lock_guard lock(latencies_mutex);
        latencies.push_back(ms);
      }
    });
  }
  for (auto& worker : workers) worker.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (failed) return 1;
  std::printf("thumbnails=%zu seconds=%.3f per_s=%.2f p50_ms=%.1f p95_ms=%.1f\n",
              latencies.size(), elapsed, double(latencies.size()) / elapsed,
              percentile(latencies, 0.5), percentile(latencies, 0.95));
  iafs::image_shutdown();
  return 0;
}
