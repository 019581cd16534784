// imageattachfs: mounts an image-attachment store (DESIGN §5, start-up order).
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "attach/image_sets.h"
#include "attach/thumbnail_pool.h"
#include "cli/commands.h"
#include "config/mount_options.h"
#include "config/schema_parser.h"
#include "fs/filesystem.h"
#include "fs/sessions.h"
#include "image/image.h"
#include "log/log.h"
#include "service/mountpoints.h"
#include "service/notify.h"
#include "store/store.h"

namespace iafs {
namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "imageattachfs: %s\n", message.c_str());
  return 1;
}

// Every open upload and scratch file holds a descriptor: take all the
// descriptors the hard limit allows (per-client limits are attach's).
void raise_descriptor_limit() {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) log_warning("cannot raise the descriptor limit");
}

// `text` as one value of a libfuse -o list (commas and backslashes escaped).
std::string option_value(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == ',' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// The argv that libfuse parses: mount options and -d. The serve mount takes
// the same options, read-only.
std::vector<std::string> fuse_argv(const MountOptions& options, bool serve_mount) {
  std::string opts =
      "fsname=" + option_value(options.store_dir) + ",subtype=imageattachfs,max_read=1048576";
  for (const std::string& o : options.fuse_options) {
    if (!serve_mount || (o != "rw" && o != "ro")) opts += "," + o;
  }
  if (serve_mount) opts += ",ro";
  std::vector<std::string> argv = {"imageattachfs", "-o", opts};
  if (options.debug) argv.push_back("-d");
  return argv;
}

StoreOptions store_options(const MountOptions& options) {
  StoreOptions s;
  s.map_size = options.map_size;
  // Every FUSE worker, resize thread and notifier job may hold a read
  // transaction at once; slots to spare for the rest.
  unsigned threads =
      options.max_threads + (options.thumb_threads != 0 ? options.thumb_threads : 256);
  s.max_readers = std::max(1024u, 2 * threads + 64);
  s.nometasync = options.nometasync;
  s.read_only = options.read_only;
  return s;
}

// Readahead of the mounts: as large as a READ may be (max_read, max_write).
constexpr unsigned kReadaheadKib = 1024;

// Mounts a session of `fs` at `mountpoint` (the main mount, or with
// `serve_mount` the read-only serve mount).
struct Mounted {
  SessionPtr session;
  std::unique_ptr<MountedSession> mount;
};
Result<Mounted> mount_session(const MountOptions& options, Filesystem& fs,
                              const std::string& mountpoint, bool serve_mount) {
  std::vector<std::string> args = fuse_argv(options, serve_mount);
  std::vector<char*> raw;
  raw.reserve(args.size());
  for (std::string& a : args) raw.push_back(a.data());
  fuse_args fargs = FUSE_ARGS_INIT(static_cast<int>(raw.size()), raw.data());
  const fuse_lowlevel_ops& ops =
      serve_mount ? Filesystem::serve_operations() : Filesystem::operations();
  Mounted out;
  out.session.reset(fuse_session_new(&fargs, &ops, sizeof(fuse_lowlevel_ops), &fs));
  fuse_opt_free_args(&fargs);
  if (out.session == nullptr) return make_error(ErrorCode::kInvalid, "bad mount options");
  fs.set_session(out.session.get());
  out.mount = std::make_unique<MountedSession>(out.session.get(), mountpoint);
  if (!out.mount->ok()) return make_error(ErrorCode::kIo, mountpoint + ": cannot mount");
  fs.set_readahead(mountpoint, kReadaheadKib);
  return out;
}

// Serves the main mount until it ends, and the serve mount (if any) beside it.
int serve(fuse_session* session, const MountOptions& options, Filesystem& fs,
          Filesystem* serve_fs, fuse_session* serve_session, const Schema& schema) {
  auto store = Store::open(options.store_dir, store_options(options));
  if (!store) return fail(store.error().message), 1;
  auto staging = options.read_only
                     ? Result(StagingArea::open_read_only(options.store_dir + "/staging"))
                     : StagingArea::open(options.store_dir + "/staging");
  if (!staging) return fail(staging.error().message), 1;
  (*staging)->set_scratch_ttl(static_cast<int64_t>(options.scratch_ttl_s) * 1000000000);
  if (Status s = image_init("imageattachfs", ThumbnailPool::kResizeNice); !s) return fail(s.error().message), 1;
  unsigned threads = options.thumb_threads != 0 ? options.thumb_threads
                                                : std::max(1u, std::thread::hardware_concurrency());
  LoopSettings loop{options.single_thread, options.max_threads};
  int rc;
  {
    // Before the sets: the resize pool (stopped with them) tells it of thumbnails stored.
    std::unique_ptr<ThumbnailBudget> budget;
    if (options.thumb_budget != 0) {
      budget = std::make_unique<ThumbnailBudget>(
          **store, schema, options.thumb_budget,
          [&fs, serve_fs](const std::vector<EvictedThumbnail>& evicted) {
            fs.forget_evicted(evicted);
            if (serve_fs != nullptr) serve_fs->forget_evicted(evicted);
          });
    }
    ImageSets sets(**store, schema, **staging, threads);
    sets.set_thumbnail_budget(budget.get());
    sets.set_eager_thumbnails(!options.read_only);  // README "Made at upload"
    if (budget) budget->start();
    fs.set_sets(&sets);
    std::unique_ptr<BackgroundLoop> serve_loop;
    if (serve_fs != nullptr) {
      serve_fs->set_sets(&sets);
      serve_loop = std::make_unique<BackgroundLoop>(serve_session, options.serve_point, loop);
      serve_loop->start();
      log_info("serving " + options.store_dir + " read-only at " + options.serve_point);
    }
    log_info("serving " + options.store_dir + " at " + options.mountpoint +
             (options.read_only ? " (read-only)" : ""));
    notify_ready("serving " + options.store_dir + " at " + options.mountpoint);
    rc = run_loop(session, loop);
    if (budget) budget->stop();
    notify_stopping();
    if (rc == 0) {
      log_info(options.mountpoint + " was unmounted: stopping");
    } else {
      const char* name = rc > 0 && rc < NSIG ? sigabbrev_np(rc) : nullptr;
      log_info((name ? "SIG" + std::string(name) : "status " + std::to_string(rc)) +
               ": unmounting " + options.mountpoint);
    }
    // The main mount's last invalidations may reach the serve mount's kernel:
    // its loop answers until they are sent.
    fs.stop_notifier();
    if (serve_loop) serve_loop->stop();
    if (serve_fs != nullptr) serve_fs->stop_notifier();
  }
  image_shutdown();
  // libfuse's loop returns the signal that stopped it (SIGTERM from systemctl
  // stop, SIGINT, SIGHUP): a clean stop.
  bool stopped = rc == 0 || rc == SIGTERM || rc == SIGINT || rc == SIGHUP;
  return stopped ? 0 : 1;
}

// glibc gives each thread that allocates an arena of its own, up to 8 per
// core; the resize threads' large, short-lived buffers then leave every arena
// fragmented and the daemon's memory grows with the thumbnails it has made.
// Two arenas (unless MALLOC_ARENA_MAX says otherwise): 1,000 thumbnails of a
// 2,000 px photo left 20 MB of anonymous memory instead of 29 MB.
void tune_allocator() {
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
}

// Logs the daemon's exit once its mounts are unmounted (declared before
// them, so destroyed after them).
struct ExitLine {
  std::optional<int> status;
  ~ExitLine() {
    if (status) log_info("exiting with status " + std::to_string(*status));
  }
};

int run(int argc, char** argv) {
  tune_allocator();
  if (std::optional<int> status = run_command(argc, argv)) return *status;
  auto options = parse_mount_options(argc, argv);
  if (!options) return fail(options.error().message + " (see --help)");
  if (options->show_help) {
    std::fputs(usage_text("imageattachfs").c_str(), stdout);
    std::fputs(("\n" + commands_usage()).c_str(), stdout);
    return 0;
  }
  if (options->show_version) {
    std::printf("imageattachfs %s (libfuse %s)\n", IAFS_VERSION, fuse_pkgversion());
    return 0;
  }
  log_set_level(options->debug ? LogLevel::kDebug : options->log_level);
  raise_descriptor_limit();
  // Before the store is created or locked: a wrong MOUNTPOINT leaves nothing behind.
  if (Status s = check_mountpoint(options->mountpoint, options->mountpoint, options->store_dir);
      !s) {
    return fail(s.error().message);
  }
  if (!options->serve_point.empty()) {
    // Checked before the main mount exists too: a serve point reached
    // through it would wait for a loop that is not running yet.
    Status s = check_mountpoint("serve=" + options->serve_point, options->serve_point,
                                options->store_dir);
    if (!s) return fail(s.error().message);
  }
  Result<Schema> schema = options->schema_path.empty() ? Result<Schema>(default_schema())
                                                       : load_schema(options->schema_path);
  if (!schema) return fail(schema.error().message);
  if (options->thumb_budget != 0 && options->read_only) {
    return fail("thumb_budget: a read-only mount evicts nothing (drop ro or thumb_budget)");
  }
  auto lock = lock_store(options->store_dir, options->read_only);
  if (!lock) return fail(lock.error().message);
  {
    // Open and close once to check it; LMDB does not survive the fork below.
    auto check = Store::open(options->store_dir, store_options(*options));
    if (!check) return fail(check.error().message);
  }

  Filesystem fs(options->store_dir, options->uid.value_or(getuid()),
                options->gid.value_or(getgid()), options->umask);
  ExitLine exit_line;  // after the mounts are gone
  auto main_mount = mount_session(*options, fs, options->mountpoint, false);
  if (!main_mount) return fail(main_mount.error().message + " (see --help)");
  SignalHandlers signals(main_mount->session.get());
  if (!signals.ok()) return fail("cannot set signal handlers");
  std::optional<Filesystem> serve_fs;
  Result<Mounted> serve_mount = Mounted{};
  if (!options->serve_point.empty()) {
    serve_fs.emplace(options->store_dir, options->uid.value_or(getuid()),
                     options->gid.value_or(getgid()), options->umask);
    serve_fs->serve_read_only();
    serve_mount = mount_session(*options, *serve_fs, options->serve_point, true);
    if (!serve_mount) return fail("serve=" + serve_mount.error().message);
    fs.add_peer(&*serve_fs);
  }
  if (fuse_daemonize(options->foreground || options->debug) != 0) return fail("cannot daemonize");
  if (!options->foreground && !options->debug) log_use_syslog();
  exit_line.status = serve(main_mount->session.get(), *options, fs,
                           serve_fs ? &*serve_fs : nullptr, serve_mount->session.get(), *schema);
  return *exit_line.status;
}

}  // namespace
}  // namespace iafs

int main(int argc, char** argv) {
  try {
    return iafs::run(argc, argv);
  } catch (const std::exception& e) {  // out of memory at start-up, or a bug
    std::fprintf(stderr, "imageattachfs: %s\n", e.what());
    return 1;
  }
}
