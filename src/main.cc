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
#include "sync/bucket_mount.h"

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
  // A read-only mount on a bucket still applies the bucket's log.
  s.read_only = options.read_only && options.s3_options.empty();
  return s;
}

// A mount on a bucket: what the bucket said at mount, and its options.
struct OnBucket {
  s3::S3Options options;
  sync::BucketPlan plan;
};

// The -o s3... options; none names a secret (nor may any other option).
Result<std::optional<s3::S3Options>> bucket_options(const MountOptions& options) {
  s3::S3Options s3;
  for (const auto& [name, value] : options.s3_options) {
    auto taken = s3::apply_s3_option(name, value, s3);
    if (!taken) return taken.error();
    if (!*taken) return make_error(ErrorCode::kInvalid, "unknown option " + name);
  }
  for (const std::string& option : options.fuse_options) {
    s3::S3Options ignored;
    size_t equals = option.find('=');
    auto taken = s3::apply_s3_option(option.substr(0, equals), std::nullopt, ignored);
    if (!taken) return taken.error();
  }
  if (options.s3_options.empty()) return std::optional<s3::S3Options>();
  if (s3.spec.empty()) return make_error(ErrorCode::kInvalid, "s3 options without -o s3=BUCKET");
  return std::optional<s3::S3Options>(std::move(s3));
}

// Reads the bucket's fs.json and probes it (before the kernel mount): its
// schema is the mount's; a bucket that cannot be written safely is mounted
// read-only, with one line saying why.
Result<OnBucket> plan_on_bucket(MountOptions& options, s3::S3Options s3) {
  std::string schema_text(default_schema_text());
  if (!options.schema_path.empty()) {
    auto text = read_schema_text(options.schema_path);
    if (!text) return text.error();
    schema_text = std::move(text).value();
  }
  auto plan = sync::plan_bucket(s3, schema_text, !options.schema_path.empty());
  if (!plan) return plan.error();
  for (const std::string& line : plan->lines) {
    std::fprintf(stderr, "imageattachfs: %s\n", line.c_str());
  }
  if (!plan->writable && !options.read_only) {
    options.read_only = true;
    options.fuse_options.emplace_back("ro");
  }
  return OnBucket{std::move(s3), std::move(plan).value()};
}

// -o cache_size's default (SCALEOUT.md §10).
constexpr uint64_t kDefaultCacheSize = 10ull << 30;

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
int serve(fuse_session* session, const MountOptions& options, Filesystem& fs, Filesystem* serve_fs,
          fuse_session* serve_session, const Schema& schema, const OnBucket* bucket) {
  auto store = Store::open(options.store_dir, store_options(options));
  if (!store) return fail(store.error().message), 1;
  std::unique_ptr<sync::BucketHost> host;
  if (bucket != nullptr) {
    auto opened = sync::BucketHost::open(bucket->plan, bucket->options, **store, options.read_only);
    if (!opened) return fail(opened.error().message), 1;
    host = std::move(opened).value();
  }
  auto staging = options.read_only
                     ? Result(StagingArea::open_read_only(options.store_dir + "/staging"))
                     : StagingArea::open(options.store_dir + "/staging");
  if (!staging) return fail(staging.error().message), 1;
  (*staging)->set_scratch_ttl(static_cast<int64_t>(options.scratch_ttl_s) * 1000000000);
  if (Status s = image_init("imageattachfs", ThumbnailPool::kResizeNice); !s)
    return fail(s.error().message), 1;
  unsigned threads = options.thumb_threads != 0 ? options.thumb_threads
                                                : std::max(1u, std::thread::hardware_concurrency());
  LoopSettings loop{options.single_thread, options.max_threads};
  int rc;
  {
    // Before the sets: the resize pool (stopped with them) tells it of thumbnails stored.
    EvictedFn forget_evicted = [&fs, serve_fs](const std::vector<EvictedThumbnail>& evicted) {
      fs.forget_evicted(evicted);
      if (serve_fs != nullptr) serve_fs->forget_evicted(evicted);
    };
    std::unique_ptr<ThumbnailBudget> budget;
    if (options.thumb_budget != 0) {
      budget =
          std::make_unique<ThumbnailBudget>(**store, schema, options.thumb_budget, forget_evicted);
    }
    std::unique_ptr<CacheBudget> cache;
    if (bucket != nullptr) {
      cache = std::make_unique<CacheBudget>(
          **store, schema, options.cache_size.value_or(kDefaultCacheSize), forget_evicted);
    }
    ImageSets sets(**store, schema, **staging, threads, host ? &host->committer() : nullptr);
    sets.set_thumbnail_budget(budget.get());
    sets.set_cache_budget(cache.get());
    if (host) {
      host->on_remote_change([&fs, serve_fs, &sets](const auto& changes) {
        fs.forget_remote(changes);
        if (serve_fs != nullptr) serve_fs->forget_remote(changes);
        for (const auto& [op, outcome] : changes) sets.another_host_changed(op, outcome);
      });
    }
    if (cache) cache->start();
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
    if (host) {
      host->start();
      log_info("on bucket " + bucket->options.spec + " as host " + host->host_id());
    }
    log_info("serving " + options.store_dir + " at " + options.mountpoint +
             (options.read_only ? " (read-only)" : ""));
    notify_ready("serving " + options.store_dir + " at " + options.mountpoint);
    rc = run_loop(session, loop);
    if (budget) budget->stop();
    if (cache) cache->stop();
    if (host) host->stop();
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

// Opens the store once to check it (and closes it: LMDB does not survive
// fork()). A bucket's store mounts only with -o s3=; a store holding sets of
// its own never does.
Status check_store(const MountOptions& options, bool on_bucket) {
  auto store = Store::open(options.store_dir, store_options(options));
  if (!store) return store.error();
  auto origin = (*store)->log_origin();
  if (!origin) return origin.error();
  if (!on_bucket && *origin) {
    return make_error(ErrorCode::kInvalid, "holds a bucket's store: mount it with its -o s3=");
  }
  if (on_bucket && !*origin) {
    auto totals = (*store)->totals();
    if (!totals) return totals.error();
    if (totals->originals > 0) {
      return make_error(ErrorCode::kInvalid,
                        "holds image sets of its own, not of the bucket's log: mount it without "
                        "-o s3=, or give the bucket an empty store directory");
    }
  }
  return Status::Ok();
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
    Status s =
        check_mountpoint("serve=" + options->serve_point, options->serve_point, options->store_dir);
    if (!s) return fail(s.error().message);
  }
  auto s3 = bucket_options(*options);
  if (!s3) return fail(s3.error().message);
  if (options->cache_size && !*s3) {
    return fail("cache_size: only a store on a bucket (-o s3=) caches: drop cache_size");
  }
  if (options->thumb_budget != 0 && options->read_only) {
    return fail("thumb_budget: a read-only mount evicts nothing (drop ro or thumb_budget)");
  }
  auto lock = lock_store(options->store_dir, options->read_only && !*s3);
  if (!lock) return fail(lock.error().message);
  // Before the bucket is touched: a mount refused here writes nothing there.
  if (Status s = check_store(*options, s3->has_value()); !s) {
    return fail(options->store_dir + ": " + s.error().message);
  }
  std::optional<OnBucket> bucket;
  if (*s3) {
    auto planned = plan_on_bucket(*options, std::move(**s3));
    if (!planned) return fail(planned.error().message);
    bucket = std::move(planned).value();
    // Open and close once; LMDB does not survive the fork below.
    auto store = Store::open(options->store_dir, store_options(*options));
    Status tied = store ? (*store)->begin_log(bucket->plan.origin) : Status(store.error());
    if (tied)
      tied = sync::prepare_store(bucket->plan, bucket->options, **store, options->read_only);
    if (!tied) return fail(options->store_dir + ": " + tied.error().message);
  }
  Result<Schema> schema = bucket ? parse_schema(bucket->plan.schema_text, "the bucket's fs.json")
                          : options->schema_path.empty() ? Result<Schema>(default_schema())
                                                         : load_schema(options->schema_path);
  if (!schema) return fail(schema.error().message);

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
  exit_line.status = serve(main_mount->session.get(), *options, fs, serve_fs ? &*serve_fs : nullptr,
                           serve_mount->session.get(), *schema, bucket ? &*bucket : nullptr);
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
