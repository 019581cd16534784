// imageattachfs: mounts an image-attachment store (DESIGN §5, start-up order).
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <malloc.h>
#include <sys/file.h>
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
#include "config/mount_options.h"
#include "config/schema_parser.h"
#include "fs/filesystem.h"
#include "fs/sessions.h"
#include "image/image.h"
#include "log/log.h"
#include "store/fsck.h"
#include "store/store.h"
#include "store/store_dir.h"

namespace iafs {
namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "imageattachfs: %s\n", message.c_str());
  return 1;
}

// Creates the store directory if absent, checks that it can be trusted and
// takes its exclusive lock. Read-only: the store must exist; its lock is
// held shared (store/store_dir.h).
Result<UniqueFd> lock_store(const std::string& dir, bool read_only = false) {
  auto opened = open_store_directory(dir, read_only);
  if (!opened) return opened.error();
  if (read_only) return lock_store_directory_shared(opened->get(), dir);
  return lock_store_directory(opened->get(), dir);
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
  if (Status s = image_init("imageattachfs"); !s) return fail(s.error().message), 1;
  unsigned threads = options.thumb_threads != 0 ? options.thumb_threads
                                                : std::max(1u, std::thread::hardware_concurrency());
  LoopSettings loop{options.single_thread, options.max_threads};
  int rc;
  {
    ImageSets sets(**store, schema, **staging, threads);
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
    rc = run_loop(session, loop);
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

// imageattachfs fsck STORE [--repair]: exit 0 clean, 1 all repaired, 2 damage
// left or an error. Read-only beside a running daemon; --repair needs the
// store's lock (the store unmounted).
int run_fsck(int argc, char** argv) {
  std::string store_dir;
  bool repair = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--repair") {
      repair = true;
    } else if (store_dir.empty() && !arg.starts_with("-")) {
      store_dir = arg;
    } else {
      return fail("fsck: unexpected '" + arg + "' (usage: imageattachfs fsck STORE [--repair])"), 2;
    }
  }
  if (store_dir.empty()) return fail("fsck: usage: imageattachfs fsck STORE [--repair]"), 2;
  struct stat st;
  if (stat((store_dir + "/data.mdb").c_str(), &st) != 0) {
    return fail("fsck: " + store_dir + ": not a store (no data.mdb)"), 2;
  }
  UniqueFd lock;
  if (repair) {
    auto locked = lock_store(store_dir);
    if (!locked && locked.error().code == ErrorCode::kBusy) {
      return fail("fsck: " + store_dir + ": the store is mounted; --repair needs it unmounted"), 2;
    }
    if (!locked) return fail("fsck: " + locked.error().message), 2;
    lock = std::move(*locked);
  }
  auto summary = fsck_store(store_dir, FsckOptions{repair},
                            [](const std::string& line) { std::printf("%s\n", line.c_str()); });
  std::fflush(stdout);
  if (!summary) return fail("fsck: " + summary.error().message), 2;
  std::printf("fsck %s: %s\n", store_dir.c_str(), fsck_summary_line(*summary).c_str());
  return fsck_exit_status(*summary);
}

// glibc gives each thread that allocates an arena of its own, up to 8 per
// core; the resize threads' large, short-lived buffers then leave every arena
// fragmented and the daemon's memory grows with the thumbnails it has made.
// Two arenas (unless MALLOC_ARENA_MAX says otherwise): 1,000 thumbnails of a
// 2,000 px photo left 20 MB of anonymous memory instead of 29 MB.
void tune_allocator() {
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
}

int run(int argc, char** argv) {
  tune_allocator();
  if (argc >= 2 && std::strcmp(argv[1], "fsck") == 0) return run_fsck(argc - 1, argv + 1);
  auto options = parse_mount_options(argc, argv);
  if (!options) return fail(options.error().message + " (see --help)");
  if (options->show_help) {
    std::fputs(usage_text("imageattachfs").c_str(), stdout);
    return 0;
  }
  if (options->show_version) {
    std::printf("imageattachfs %s (libfuse %s)\n", IAFS_VERSION, fuse_pkgversion());
    return 0;
  }
  if (options->debug) log_set_level(LogLevel::kDebug);
  raise_descriptor_limit();
  Result<Schema> schema = options->schema_path.empty() ? Result<Schema>(default_schema())
                                                       : load_schema(options->schema_path);
  if (!schema) return fail(schema.error().message);
  auto lock = lock_store(options->store_dir, options->read_only);
  if (!lock) return fail(lock.error().message);
  {
    // Open and close once to check it; LMDB does not survive the fork below.
    auto check = Store::open(options->store_dir, store_options(*options));
    if (!check) return fail(check.error().message);
  }

  Filesystem fs(options->store_dir, options->uid.value_or(getuid()),
                options->gid.value_or(getgid()), options->umask);
  if (!options->serve_point.empty()) {
    // Checked before the main mount exists: a serve point reached through it
    // would wait for a loop that is not running yet.
    struct stat point;
    if (stat(options->serve_point.c_str(), &point) != 0 || !S_ISDIR(point.st_mode)) {
      return fail("serve=" + options->serve_point + ": not a directory");
    }
  }
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
  return serve(main_mount->session.get(), *options, fs, serve_fs ? &*serve_fs : nullptr,
               serve_mount->session.get(), *schema);
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
