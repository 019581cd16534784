#include "config/mount_options.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

#include "base/numbers.h"

namespace iafs {
namespace {

constexpr uint64_t kMinMapSize = uint64_t{1000} * 1000;  // 1M

Error invalid(std::string message) { return make_error(ErrorCode::kInvalid, std::move(message)); }

Status parse_thread_count(std::string_view name, std::string_view value, unsigned max,
                          unsigned& out) {
  std::optional<uint64_t> count = parse_number(value, max, false);
  if (!count || *count < 1) {
    return invalid("bad " + std::string(name) + " '" + std::string(value) +
                   "': expected a number from 1 to " + std::to_string(max));
  }
  out = static_cast<unsigned>(*count);
  return Status::Ok();
}

// Applies one option of a -o list; options that are not ours go to libfuse.
Status apply_mount_option(std::string_view option, MountOptions& options) {
  size_t equals = option.find('=');
  std::string_view name = option.substr(0, equals);
  bool has_value = equals != std::string_view::npos;
  std::string_view value = has_value ? option.substr(equals + 1) : std::string_view();
  bool ours = name == "schema" || name == "mapsize" || name == "max_threads" ||
              name == "thumb_threads" || name == "uid" || name == "gid" || name == "umask" ||
              name == "serve" || name == "scratch_ttl" || name == "loglevel" ||
              name == "thumb_budget" || name == "cache_size";
  if (ours && (!has_value || value.empty())) {
    return invalid("option " + std::string(name) + " needs a value: " + std::string(name) + "=...");
  }
  if (name == "schema") {
    options.schema_path = std::string(value);
  } else if (name == "mapsize") {
    std::optional<uint64_t> size = parse_number(value, UINT64_MAX);
    if (!size) {
      return invalid("bad mapsize '" + std::string(value) + "': expected a size like 512G or 1Ti");
    }
    if (*size < kMinMapSize) {
      return invalid("bad mapsize '" + std::string(value) + "': must be at least 1M");
    }
    options.map_size = *size;
  } else if (name == "max_threads") {
    return parse_thread_count(name, value, 1024, options.max_threads);
  } else if (name == "thumb_threads") {
    return parse_thread_count(name, value, 256, options.thumb_threads);
  } else if (name == "uid" || name == "gid") {
    std::optional<uint64_t> id = parse_number(value, UINT32_MAX - 1, false);
    if (!id) return invalid("bad " + std::string(name) + " '" + std::string(value) + "'");
    (name == "uid" ? options.uid : options.gid) = static_cast<uint32_t>(*id);
  } else if (name == "umask") {
    unsigned mask = 0;
    bool octal = value.size() <= 4 && std::all_of(value.begin(), value.end(),
                                                  [](char c) { return c >= '0' && c <= '7'; });
    for (char c : value) mask = mask * 8 + static_cast<unsigned>(c - '0');
    if (!octal || mask > 0777) {
      return invalid("bad umask '" + std::string(value) + "': expected octal, like 022");
    }
    options.umask = mask;
  } else if (name == "scratch_ttl") {
    std::optional<uint64_t> seconds = parse_number(value, uint64_t{10} * 365 * 86400, false);
    if (!seconds) {
      return invalid("bad scratch_ttl '" + std::string(value) +
                     "': expected seconds, 0 to 315360000 (0: never)");
    }
    options.scratch_ttl_s = *seconds;
  } else if (name == "loglevel") {
    std::optional<LogLevel> level = parse_log_level(value);
    if (!level) {
      return invalid("bad loglevel '" + std::string(value) +
                     "': expected error, warning, info or debug");
    }
    options.log_level = *level;
  } else if (name == "thumb_budget") {
    std::optional<uint64_t> size = parse_number(value, UINT64_MAX);
    if (!size || *size == 0) {
      return invalid("bad thumb_budget '" + std::string(value) +
                     "': expected a size like 20G or 512Mi, at least 1");
    }
    options.thumb_budget = *size;
  } else if (name == "cache_size") {
    std::optional<uint64_t> size = parse_number(value, UINT64_MAX);
    if (!size || *size < 1000000) {
      return invalid("bad cache_size '" + std::string(value) +
                     "': expected a size like 10G or 512M, at least 1M");
    }
    options.cache_size = *size;
  } else if (name == "serve") {
    options.serve_point = std::string(value);
  } else if (name == "no_default_permissions") {
    if (has_value) return invalid("option no_default_permissions takes no value");
    options.no_default_permissions = true;
  } else if (name.starts_with("s3")) {
    options.s3_options.emplace_back(std::string(name), has_value ? std::optional<std::string>(
                                                                       std::string(value))
                                                                 : std::nullopt);
  } else if (name == "nometasync") {
    if (has_value) return invalid("option nometasync takes no value");
    options.nometasync = true;
  } else {
    // ro and rw are libfuse's too (the kernel's mount flag); the daemon
    // must know: a read-only mount changes nothing in the store.
    if (option == "ro" || option == "rw") options.read_only = option == "ro";
    options.fuse_options.emplace_back(option);
  }
  return Status::Ok();
}

// Applies a comma-separated -o list; empty items are skipped.
Status apply_mount_option_list(std::string_view list, MountOptions& options) {
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view option = list.substr(pos, comma - pos);
    if (!option.empty()) {
      Status status = apply_mount_option(option, options);
      if (!status) return status;
    }
    pos = comma + 1;
  }
  return Status::Ok();
}

// Applies a flag ("-f", "--help"); false when `arg` is not one.
bool apply_flag(std::string_view arg, MountOptions& options) {
  if (arg == "-f") {
    options.foreground = true;
  } else if (arg == "-d") {
    options.debug = true;
    options.foreground = true;
  } else if (arg == "-s") {
    options.single_thread = true;
  } else if (arg == "-h" || arg == "--help") {
    options.show_help = true;
  } else if (arg == "-V" || arg == "--version") {
    options.show_version = true;
  } else {
    return false;
  }
  return true;
}

// STORE_DIR made absolute against the working directory, without requiring it to exist.
Result<std::string> absolute_path(const std::string& what, const std::string& dir) {
  std::error_code error;
  std::filesystem::path path = std::filesystem::absolute(dir, error);
  if (error) return invalid("bad " + what + " '" + dir + "': " + error.message());
  std::string text = path.lexically_normal().string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  return text;
}

Status check_positionals(const std::vector<std::string>& positionals) {
  if (positionals.size() > 2) return invalid("too many arguments: '" + positionals[2] + "'");
  if (positionals.empty()) return invalid("missing STORE_DIR and MOUNTPOINT");
  if (positionals.size() < 2) return invalid("missing MOUNTPOINT");
  if (positionals[0].empty()) return invalid("empty STORE_DIR");
  if (positionals[1].empty()) return invalid("empty MOUNTPOINT");
  return Status::Ok();
}

}  // namespace

Result<MountOptions> parse_mount_options(int argc, const char* const* argv) {
  MountOptions options;
  std::vector<std::string> positionals;
  bool only_positionals = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    Status status;
    if (only_positionals || arg.empty() || arg[0] != '-' || arg == "-") {
      positionals.emplace_back(arg);
    } else if (arg == "--") {
      only_positionals = true;
    } else if (arg == "-o") {
      if (i + 1 >= argc) return invalid("missing argument to -o");
      status = apply_mount_option_list(argv[++i], options);
    } else if (arg.starts_with("-o")) {
      status = apply_mount_option_list(arg.substr(2), options);
    } else if (!apply_flag(arg, options)) {
      return invalid("unknown option " + std::string(arg));
    }
    if (!status) return status.error();
  }
  if (options.show_help || options.show_version) {
    if (positionals.size() > 2) return invalid("too many arguments: '" + positionals[2] + "'");
  } else if (Status status = check_positionals(positionals); !status) {
    return status.error();
  }
  if (!positionals.empty() && !positionals[0].empty()) {
    Result<std::string> store = absolute_path("STORE_DIR", positionals[0]);
    if (!store) return store.error();
    options.store_dir = std::move(store).value();
  }
  if (positionals.size() > 1) options.mountpoint = positionals[1];
  // Absolute, so that unmounting at exit does not resolve them again.
  for (auto [what, point] : {std::pair{"MOUNTPOINT", &options.mountpoint},
                             std::pair{"serve=", &options.serve_point}}) {
    if (point->empty()) continue;
    Result<std::string> absolute = absolute_path(what, *point);
    if (!absolute) return absolute.error();
    *point = std::move(absolute).value();
  }
  if (!options.serve_point.empty()) {
    // One inside the other: mounting the second would look a name up in the
    // first before anything serves it, and hang.
    auto within = [](const std::string& inner, const std::string& outer) {
      return inner == outer || outer == "/" || inner.starts_with(outer + "/");
    };
    if (options.serve_point == options.mountpoint) {
      return invalid("serve=" + options.serve_point + " is the MOUNTPOINT itself");
    }
    if (within(options.serve_point, options.mountpoint) ||
        within(options.mountpoint, options.serve_point)) {
      return invalid("serve=" + options.serve_point +
                     " and MOUNTPOINT must not lie one inside the other");
    }
  }
  // With allow_other every local user reaches the mount: the kernel checks
  // modes and owners (default_permissions) unless explicitly told not to.
  auto has = [&](std::string_view o) {
    return std::find(options.fuse_options.begin(), options.fuse_options.end(), o) !=
           options.fuse_options.end();
  };
  if (has("allow_other") && !has("default_permissions") && !options.no_default_permissions) {
    options.fuse_options.emplace_back("default_permissions");
  }
  return options;
}

std::string usage_text(const std::string& program) {
  return "usage: " + program +
         " [-o OPTIONS] STORE_DIR MOUNTPOINT\n"
         "\n"
         "Mounts the image-attachment store in STORE_DIR at MOUNTPOINT.\n"
         "\n"
         "options:\n"
         "  -o OPTIONS        comma-separated mount options (below); may be repeated\n"
         "  -f                stay in the foreground\n"
         "  -d                debug: log every request (implies -f)\n"
         "  -s                single-threaded FUSE loop\n"
         "  -h, --help        print this help and exit\n"
         "  -V, --version     print the version and exit\n"
         "\n"
         "mount options (-o):\n"
         "  schema=PATH       the schema file (default: the compiled-in default schema)\n"
         "  mapsize=SIZE      maximum store size, at least 1M (default 1Ti); K/M/G/T are\n"
         "                    powers of 1000, Ki/Mi/Gi/Ti powers of 1024\n"
         "  nometasync        faster commits; a power loss may lose the last ones\n"
         "  loglevel=LEVEL    error, warning, info (default) or debug: the least\n"
         "                    serious lines logged; info logs each thumbnail made and\n"
         "                    upload committed, debug each refused lookup (-d: debug)\n"
         "  max_threads=N     FUSE worker threads, 1-1024 (default 64)\n"
         "  thumb_threads=N   threads making thumbnails, 1-256 (default: one per core)\n"
         "  uid=N, gid=N      owner and group the mount shows (default: the daemon's)\n"
         "  umask=OOO         taken from the modes shown (dirs 0777, originals 0666,\n"
         "                    thumbnails 0444; default 022)\n"
         "  scratch_ttl=SECONDS\n"
         "                    scratch files unchanged this long are removed (default\n"
         "                    86400; 0: kept until unmount)\n"
         "  thumb_budget=SIZE thumbnails' bytes kept under SIZE (K/M/G/T as mapsize):\n"
         "                    the least recently used are evicted in the background\n"
         "                    and made again when read; originals never (default: none)\n"
         "  s3=BUCKET[/PREFIX] the store on an S3-compatible bucket, shared with other\n"
         "                    hosts; with s3_endpoint=URL, s3_region=R, s3_path_style,\n"
         "                    s3_profile=NAME, s3_poll=SECONDS, s3_commit_timeout=SECONDS,\n"
         "                    s3_heartbeat=SECONDS, s3_maintain (snapshots and log\n"
         "                    truncation, garbage collection), s3_snapshot_entries=N,\n"
         "                    s3_gc_interval=SECONDS, s3_gc_grace=SECONDS\n"
         "                    (README \"Several hosts on one bucket\")\n"
         "  cache_size=SIZE   with s3=: bytes of originals and thumbnails this host\n"
         "                    keeps (default 10G); the least recently read are\n"
         "                    dropped and fetched again when read\n"
         "  serve=PATH        also mount the store read-only at PATH for web servers:\n"
         "                    reads there cost no request once cached (no OPEN, no\n"
         "                    FLUSH); thumbnails are made on first lookup as here;\n"
         "                    takes this mount's allow_other, uid=, gid=, umask=\n"
         "  no_default_permissions\n"
         "                    with allow_other, do not have the kernel check modes\n"
         "                    (default_permissions is added otherwise): every local\n"
         "                    user may then change every image\n"
         "  ro                read-only: serves what the store holds and changes\n"
         "                    nothing (a thumbnail not stored is ENOENT); serves a\n"
         "                    store on a read-only filesystem\n"
         "  allow_other, default_permissions, fsname=NAME, ...\n"
         "                    any other option is passed on to libfuse (see mount.fuse3(8))\n";
}

}  // namespace iafs
