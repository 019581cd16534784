// Command line and -o mount options of the imageattachfs daemon.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "imageattachfs/result.h"
#include "log/log.h"

namespace iafs {

struct MountOptions {
  std::string store_dir;                // STORE_DIR (absolute after parsing)
  std::string mountpoint;               // MOUNTPOINT (absolute after parsing)
  std::string serve_point;              // -o serve=PATH: the read-only serve mount, or empty
  std::string schema_path;              // -o schema=PATH; empty: the compiled-in default
  uint64_t map_size = 1ull << 40;       // -o mapsize=SIZE (base/numbers.h), default 1 TiB
  bool nometasync = false;              // -o nometasync: LMDB MDB_NOMETASYNC
  LogLevel log_level = LogLevel::kInfo;  // -o loglevel=error|warning|info|debug (-d: debug)
  unsigned max_threads = 64;            // -o max_threads=N: FUSE worker threads
  unsigned thumb_threads = 0;           // -o thumb_threads=N: resize pool; 0 = one per core
  uint64_t thumb_budget = 0;            // -o thumb_budget=SIZE: thumbnails' bytes kept under it; 0 = none
  std::optional<uint64_t> cache_size;  // -o cache_size=SIZE (with s3=): cached bytes kept under it
  uint64_t scratch_ttl_s = 86400;       // -o scratch_ttl=SECONDS: unchanged scratch files go; 0 = never
  std::optional<uint32_t> uid;          // -o uid=N: the owner the mount shows
  std::optional<uint32_t> gid;          // -o gid=N
  unsigned umask = 022;                 // -o umask=OOO: taken from the modes shown
  bool no_default_permissions = false;  // -o no_default_permissions (with allow_other)
  bool read_only = false;               // -o ro (the last of ro/rw wins; both go to libfuse too)
  bool foreground = false;              // -f
  bool debug = false;                   // -d (implies -f)
  bool single_thread = false;           // -s
  bool show_help = false;               // -h, --help
  bool show_version = false;            // -V, --version
  // -o s3...[=VALUE], as given: s3/options.h judges them.
  std::vector<std::pair<std::string, std::optional<std::string>>> s3_options;
  // Options passed on to libfuse (allow_other, default_permissions, ro, fsname=...).
  std::vector<std::string> fuse_options;
};

// Parses argv. Unknown -o options are kept in fuse_options for libfuse to judge.
// Errors (kInvalid) carry one line for the terminal, e.g.
// "missing MOUNTPOINT" or "bad mapsize 'x': expected a size like 512G".
Result<MountOptions> parse_mount_options(int argc, const char* const* argv);

// The --help text.
std::string usage_text(const std::string& program);

}  // namespace iafs
