// The admin commands' table and what they share.
#include "cli/commands.h"

#include <cstdio>
#include <cstring>
#include <string_view>

#include "store/store_dir.h"

namespace iafs {
namespace {

struct Command {
  std::string_view name;
  std::string_view usage;  // the arguments after the name
  int (*run)(int argc, char** argv);
};

// argv of a command starts at its own name.
constexpr Command kCommands[] = {
    {"fsck", "STORE [--repair] | --remote -o s3=BUCKET[/PREFIX],...", run_fsck},
    {"stat", "STORE [--json]", run_stat},
    {"gc", "STORE --budget SIZE", run_gc},
    {"import", "DIR STORE [--schema FILE] [--threads N]", run_import},
    {"import-imageattach", "--map MAP.csv SRC_DIR STORE [--schema FILE] [--threads N]",
     run_import_imageattach},
    {"export", "STORE DIR [--schema FILE]", run_export},
    {"check-bucket", "-o s3=BUCKET[/PREFIX][,s3_endpoint=URL][,s3_region=R][,s3_path_style]",
     run_check_bucket},
    {"warm", "MOUNTPOINT [--budget SIZE] [--jobs N]", run_warm},
};

}  // namespace

std::optional<int> run_command(int argc, char** argv) {
  if (argc < 2) return std::nullopt;
  for (const Command& c : kCommands) {
    if (c.name == argv[1]) return c.run(argc - 1, argv + 1);
  }
  return std::nullopt;
}

std::string commands_usage() {
  std::string out = "admin commands:\n";
  for (const Command& c : kCommands) {
    out += "    imageattachfs " + std::string(c.name) + " " + std::string(c.usage) + "\n";
  }
  return out;
}

Result<UniqueFd> lock_store(const std::string& dir, bool read_only) {
  auto opened = open_store_directory(dir, read_only);
  if (!opened) return opened.error();
  if (read_only) return lock_store_directory_shared(opened->get(), dir);
  return lock_store_directory(opened->get(), dir);
}

std::string join_path(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty()) out += '/';
  out += name;
  return out;
}

int command_failed(const std::string& message, int status) {
  std::fprintf(stderr, "imageattachfs: %s\n", message.c_str());
  return status;
}

Result<std::optional<s3::S3Options>> s3_options_of(int argc, char** argv, std::string_view flag) {
  s3::S3Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    Status status;
    if (!flag.empty() && arg == flag) continue;
    if (arg == "-o" && i + 1 < argc) {
      status = s3::apply_s3_option_list(argv[++i], options);
    } else if (arg.starts_with("-o") && arg.size() > 2) {
      status = s3::apply_s3_option_list(arg.substr(2), options);
    } else {
      return std::optional<s3::S3Options>();
    }
    if (!status) return status.error();
  }
  if (options.spec.empty()) return std::optional<s3::S3Options>();
  return std::optional<s3::S3Options>(std::move(options));
}

}  // namespace iafs
