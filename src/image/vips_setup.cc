// Starting and stopping libvips.
#include <dirent.h>
#include <sys/resource.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>
#include <vips/vips8>

#include "image/image.h"
#include "image/loaders.h"
#include "image/vips_errors.h"
#include "log/log.h"

namespace iafs {
namespace {

std::mutex g_init_mutex;
bool g_started = false;
bool g_stopped = false;
std::atomic<bool> g_renice{false};
std::atomic<int> g_worker_nice{0};  // the nice libvips' workers are kept at

// The name this libvips gives its workers' threads.
constexpr std::string_view kWorkerName = "libvips worker";

std::string thread_name(const std::string& task_dir) {
  std::FILE* f = std::fopen((task_dir + "/comm").c_str(), "re");
  if (f == nullptr) return {};
  char name[32] = {};
  size_t n = std::fread(name, 1, sizeof name - 1, f);
  std::fclose(f);
  std::string out(name, n);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// libvips warns on every decode of some camera EXIF ("ignoring nclx profile",
// unknown tags): useful when debugging, noise otherwise. Criticals are bugs.
void route_vips_log(const gchar* domain, GLogLevelFlags level, const gchar* message,
                    gpointer /*unused*/) {
  std::string line =
      std::string(domain ? domain : "VIPS") + ": " + image_detail::one_line(message ? message : "");
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) {
    log_warning(line);
  } else {
    log_debug(line);
  }
}

}  // namespace

// Idempotent: a second call returns Ok without touching libvips. Concurrency
// is set to 1 for the whole process (vips_concurrency_set is process-wide
// anyway): parallelism comes from the resize pool, one image per thread.
Status image_init(const char* argv0, int worker_nice) {
  std::lock_guard lock(g_init_mutex);
  if (g_started) return Status::Ok();
  g_log_set_handler(
      "VIPS",
      static_cast<GLogLevelFlags>(G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION),
      route_vips_log, nullptr);
  if (VIPS_INIT(argv0 ? argv0 : "imageattachfs") != 0) {
    image_detail::discard_vips_errors();
    return make_error(ErrorCode::kIo, "cannot start libvips (vips_init failed)");
  }
  if (worker_nice != 0) {
    errno = 0;
    int own = getpriority(PRIO_PROCESS, 0);  // the calling thread's
    if (errno == 0) {
      g_worker_nice = own + worker_nice;
      g_renice = true;
    }
  }
  vips_cache_set_max(0);
  vips_concurrency_set(1);
  vips_block_untrusted_set(TRUE);
  vips_operation_block_set("VipsForeignLoad", TRUE);
  for (const auto& loader : image_detail::kAllowedLoaders) {
    vips_operation_block_set(loader.class_name, FALSE);
  }
  g_started = true;
  return Status::Ok();
}

void image_renice_workers() {
  if (!g_renice) return;
  int nice = g_worker_nice;
  DIR* tasks = opendir("/proc/self/task");
  if (tasks == nullptr) return;
  while (dirent* entry = readdir(tasks)) {
    char* end = nullptr;
    long tid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0') continue;  // . and ..
    if (thread_name(std::string("/proc/self/task/") + entry->d_name) != kWorkerName) continue;
    errno = 0;
    int current = getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
    if (errno == 0 && current < nice) (void)setpriority(PRIO_PROCESS, static_cast<id_t>(tid), nice);
  }
  closedir(tasks);
}

void image_shutdown() {
  std::lock_guard lock(g_init_mutex);
  if (!g_started || g_stopped) return;
  vips_shutdown();
  g_stopped = true;
}

}  // namespace iafs
