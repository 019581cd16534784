// imageattachfs stat STORE [--json]: sets, originals' and thumbnails' counts
// and bytes per type, a total, and the store file's size. Read-only: runs
// beside a daemon serving the store, and on an unmounted one. Exit 0; 2 for
// a directory that holds no store, or an error.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "store/store_stats.h"

namespace iafs {
namespace {

// A JSON string of a type name (types are schema names: [a-z0-9_-], but the
// store is read as it is).
std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string json_counts(const TypeStats& t) {
  return "{\"sets\": " + std::to_string(t.sets) +
         ", \"original_bytes\": " + std::to_string(t.original_bytes) +
         ", \"thumbnails\": " + std::to_string(t.thumbnails) +
         ", \"thumbnail_bytes\": " + std::to_string(t.thumbnail_bytes) + "}";
}

void print_json(const std::string& dir, const StoreStats& stats) {
  std::string out = "{\"store\": " + json_string(dir) +
                    ", \"file_bytes\": " + std::to_string(stats.file_bytes) + ", \"types\": {";
  bool first = true;
  for (const auto& [type, counts] : stats.types) {
    out += (first ? "" : ", ") + json_string(type) + ": " + json_counts(counts);
    first = false;
  }
  out += "}, \"total\": " + json_counts(stats.total);
  if (stats.log_seq) {
    out += ", \"bucket\": {\"log_seq\": " + std::to_string(*stats.log_seq) +
           ", \"cached_bytes\": " + std::to_string(stats.cached_bytes.value_or(0)) + "}";
  }
  out += "}\n";
  std::fputs(out.c_str(), stdout);
}

void print_row(const std::string& name, const TypeStats& t) {
  std::printf("%-16s %12llu %16llu %12llu %16llu\n", name.c_str(),
              static_cast<unsigned long long>(t.sets),
              static_cast<unsigned long long>(t.original_bytes),
              static_cast<unsigned long long>(t.thumbnails),
              static_cast<unsigned long long>(t.thumbnail_bytes));
}

void print_table(const std::string& dir, const StoreStats& stats) {
  std::printf("store %s: data.mdb %llu bytes\n", dir.c_str(),
              static_cast<unsigned long long>(stats.file_bytes));
  std::printf("%-16s %12s %16s %12s %16s\n", "type", "sets", "original_bytes", "thumbnails",
              "thumbnail_bytes");
  for (const auto& [type, counts] : stats.types) print_row(type, counts);
  print_row("total", stats.total);
  if (stats.log_seq) {
    std::printf("on a bucket: log applied to seq %llu, %llu bytes of blobs cached\n",
                static_cast<unsigned long long>(*stats.log_seq),
                static_cast<unsigned long long>(stats.cached_bytes.value_or(0)));
  }
}

}  // namespace

int run_stat(int argc, char** argv) {
  const std::string usage = "stat: usage: imageattachfs stat STORE [--json]";
  std::string store_dir;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--json") {
      json = true;
    } else if (store_dir.empty() && !arg.starts_with("-")) {
      store_dir = arg;
    } else {
      return command_failed("stat: unexpected '" + arg + "' (" + usage.substr(6) + ")", 2);
    }
  }
  if (store_dir.empty()) return command_failed(usage, 2);
  auto stats = read_store_stats(store_dir);
  if (!stats) return command_failed("stat: " + stats.error().message, 2);
  if (json) {
    print_json(store_dir, *stats);
  } else {
    print_table(store_dir, *stats);
  }
  return 0;
}

}  // namespace iafs
