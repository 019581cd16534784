// imageattachfs fsck STORE [--repair]: exit 0 clean, 1 all repaired, 2 damage
// (fsck --remote: fsck_remote_command.cc)
// left or an error. Read-only beside a running daemon; --repair needs the
// store's lock (the store unmounted).
#include <sys/stat.h>

#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "store/fsck.h"
#include "store/store.h"

namespace iafs {

int run_fsck(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--remote") return run_fsck_remote(argc, argv);
  }
  const std::string usage = "fsck: usage: imageattachfs fsck STORE [--repair]";
  std::string store_dir;
  bool repair = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--repair") {
      repair = true;
    } else if (store_dir.empty() && !arg.starts_with("-")) {
      store_dir = arg;
    } else {
      return command_failed("fsck: unexpected '" + arg + "' (" + usage.substr(6) + ")", 2);
    }
  }
  if (store_dir.empty()) return command_failed(usage, 2);
  struct stat st;
  if (stat((store_dir + "/data.mdb").c_str(), &st) != 0) {
    return command_failed("fsck: " + store_dir + ": not a store (no data.mdb)", 2);
  }
  UniqueFd lock;
  if (repair) {
    auto locked = lock_store(store_dir);
    if (!locked && locked.error().code == ErrorCode::kBusy) {
      return command_failed(
          "fsck: " + store_dir + ": the store is mounted; --repair needs it unmounted", 2);
    }
    if (!locked) return command_failed("fsck: " + locked.error().message, 2);
    lock = std::move(*locked);
    // What a bucket's store holds is its log's: a repair here would differ from every host.
    StoreOptions read_only;
    read_only.read_only = true;
    auto store = Store::open(store_dir, read_only);
    auto origin =
        store ? (*store)->log_origin() : Result<std::optional<std::string>>(store.error());
    if (origin && *origin) {
      return command_failed("fsck: " + store_dir +
                                ": holds a bucket's store: --repair would make it differ from "
                                "the bucket's log (move it away and mount again to rebuild it)",
                            2);
    }
  }
  auto summary = fsck_store(store_dir, FsckOptions{repair},
                            [](const std::string& line) { std::printf("%s\n", line.c_str()); });
  std::fflush(stdout);
  if (!summary) return command_failed("fsck: " + summary.error().message, 2);
  std::printf("fsck %s: %s\n", store_dir.c_str(), fsck_summary_line(*summary).c_str());
  return fsck_exit_status(*summary);
}

}  // namespace iafs
