// imageattachfs: mounts an image-attachment store (DESIGN §5, start-up order).
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "attach/image_sets.h"
#include "config/mount_options.h"
#include "config/schema_parser.h"
#include "fs/filesystem.h"
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

// The argv that libfuse parses: mount options and -d.
std::vector<std::string> fuse_argv(const MountOptions& options) {
  std::string opts =
      "fsname=" + option_value(options.store_dir) + ",subtype=imageattachfs,max_read=1048576";
  for (const std::string& o : options.fuse_options) opts += "," + o;
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

// RAII for libfuse's C objects.
struct SessionDestroy {
  void operator()(fuse_session* session) const { fuse_session_destroy(session); }
};
using SessionPtr = std::unique_ptr<fuse_session, SessionDestroy>;
struct LoopConfigDestroy {
  void operator()(fuse_loop_config* config) const { fuse_loop_cfg_destroy(config); }
};
using LoopConfigPtr = std::unique_ptr<fuse_loop_config, LoopConfigDestroy>;

// Signal handlers installed on a session, removed when this goes out of scope.
class SignalHandlers {
 public:
  explicit SignalHandlers(fuse_session* session)
      : session_(session), ok_(fuse_set_signal_handlers(session) == 0) {}
  ~SignalHandlers() {
    if (ok_) fuse_remove_signal_handlers(session_);
  }
  SignalHandlers(const SignalHandlers&) = delete;
  SignalHandlers& operator=(const SignalHandlers&) = delete;
  bool ok() const { return ok_; }

 private:
  fuse_session* session_;
  bool ok_;
};

// The session mounted at a mountpoint, unmounted when this goes out of scope.
class MountedSession {
 public:
  MountedSession(fuse_session* session, const std::string& mountpoint)
      : session_(session), ok_(fuse_session_mount(session, mountpoint.c_str()) == 0) {}
  ~MountedSession() {
    if (ok_) fuse_session_unmount(session_);
  }
  MountedSession(const MountedSession&) = delete;
  MountedSession& operator=(const MountedSession&) = delete;
  bool ok() const { return ok_; }

 private:
  fuse_session* session_;
  bool ok_;
};

int serve(fuse_session* session, const MountOptions& options, Filesystem& fs,
          const Schema& schema) {
  auto store = Store::open(options.store_dir, store_options(options));
  if (!store) return fail(store.error().message), 1;
  auto staging = options.read_only
                     ? Result(StagingArea::open_read_only(options.store_dir + "/staging"))
                     : StagingArea::open(options.store_dir + "/staging");
  if (!staging) return fail(staging.error().message), 1;
  if (Status s = image_init("imageattachfs"); !s) return fail(s.error().message), 1;
  unsigned threads = options.thumb_threads != 0 ? options.thumb_threads
                                                : std::max(1u, std::thread::hardware_concurrency());
  int rc;
  {
    ImageSets sets(**store, schema, **staging, threads);
    fs.set_sets(&sets);
    log_info("serving " + options.store_dir + " at " + options.mountpoint +
             (options.read_only ? " (read-only)" : ""));
    if (options.single_thread) {
      rc = fuse_session_loop(session);
    } else {
      LoopConfigPtr config(fuse_loop_cfg_create());
      fuse_loop_cfg_set_max_threads(config.get(), options.max_threads);
      fuse_loop_cfg_set_idle_threads(config.get(), std::min(10u, options.max_threads));
      rc = fuse_session_loop_mt(session, config.get());
    }
    fs.stop_notifier();
  }
  image_shutdown();
  return rc == 0 ? 0 : 1;
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

int run(int argc, char** argv) {
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

  std::vector<std::string> args = fuse_argv(*options);
  std::vector<char*> raw;
  raw.reserve(args.size());
  for (std::string& a : args) raw.push_back(a.data());
  fuse_args fargs = FUSE_ARGS_INIT(static_cast<int>(raw.size()), raw.data());
  Filesystem fs(options->store_dir, options->uid.value_or(getuid()),
                options->gid.value_or(getgid()), options->umask);
  SessionPtr session(
      fuse_session_new(&fargs, &Filesystem::operations(), sizeof(fuse_lowlevel_ops), &fs));
  fuse_opt_free_args(&fargs);
  if (session == nullptr) return fail("bad mount options (see --help)");
  fs.set_session(session.get());
  SignalHandlers signals(session.get());
  if (!signals.ok()) return fail("cannot set signal handlers");
  MountedSession mounted(session.get(), options->mountpoint);
  if (!mounted.ok()) return fail(options->mountpoint + ": cannot mount");
  if (fuse_daemonize(options->foreground || options->debug) != 0) return fail("cannot daemonize");
  if (!options->foreground && !options->debug) log_use_syslog();
  return serve(session.get(), *options, fs, *schema);
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
