// imageattachfs gc STORE --budget SIZE: thumb_budget's eviction on an
// unmounted store (it takes the store's exclusive lock): the least recently
// used thumbnails go until their bytes are at most SIZE; originals never.
// Exit 0 (having printed what it freed); 2 when mounted, not a store, or an error.
#include <sys/stat.h>

#include <cstdio>
#include <string>

#include "attach/thumbnail_budget.h"
#include "base/numbers.h"
#include "cli/commands.h"

namespace iafs {

int run_gc(int argc, char** argv) {
  const std::string usage = "gc: usage: imageattachfs gc STORE --budget SIZE";
  std::string store_dir;
  std::optional<uint64_t> budget;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--budget" || arg.starts_with("--budget=")) {
      std::string value = arg == "--budget" ? (i + 1 < argc ? argv[++i] : "") : arg.substr(9);
      budget = parse_number(value, UINT64_MAX);
      if (!budget) {
        return command_failed("gc: bad --budget '" + value + "': expected a size like 20G", 2);
      }
    } else if (store_dir.empty() && !arg.starts_with("-")) {
      store_dir = arg;
    } else {
      return command_failed("gc: unexpected '" + arg + "' (" + usage.substr(4) + ")", 2);
    }
  }
  if (store_dir.empty() || !budget) return command_failed(usage, 2);
  struct stat st;
  if (stat((store_dir + "/data.mdb").c_str(), &st) != 0) {
    return command_failed("gc: " + store_dir + ": not a store (no data.mdb)", 2);
  }
  auto lock = lock_store(store_dir);
  if (!lock && lock.error().code == ErrorCode::kBusy) {
    return command_failed("gc: " + store_dir + ": the store is mounted; gc needs it unmounted " +
                              "(a mount with -o thumb_budget= evicts by itself)",
                          2);
  }
  if (!lock) return command_failed("gc: " + lock.error().message, 2);
  auto store = Store::open(store_dir, StoreOptions{});
  if (!store) return command_failed("gc: " + store.error().message, 2);
  // Offline nothing has a kernel entry to invalidate: no schema, no listener.
  Schema none;
  auto freed = evict_thumbnails_to(**store, none, *budget, INT64_MAX, {}, {});
  if (!freed) return command_failed("gc: " + freed.error().message, 2);
  auto totals = (*store)->totals();
  if (!totals) return command_failed("gc: " + totals.error().message, 2);
  std::printf(
      "gc %s: evicted %llu thumbnails (%llu bytes); thumbnails now %llu (%llu bytes), "
      "budget %llu\n",
      store_dir.c_str(), static_cast<unsigned long long>(freed->thumbnails),
      static_cast<unsigned long long>(freed->bytes),
      static_cast<unsigned long long>(totals->thumbnails),
      static_cast<unsigned long long>(totals->thumbnail_bytes),
      static_cast<unsigned long long>(*budget));
  return 0;
}

}  // namespace iafs
