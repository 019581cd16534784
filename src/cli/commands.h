// The admin command line: `imageattachfs COMMAND ARGS...` (fsck, ...). Each
// command is a file of its own in this room, run with the store opened
// directly (no mount); the table in commands.cc names them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/unique_fd.h"
#include "imageattachfs/result.h"
#include "s3/options.h"

namespace iafs {

// Runs the command argv[1] names with argv[1..] and returns its exit status;
// nullopt when argv[1] names no command (the daemon's own arguments).
std::optional<int> run_command(int argc, char** argv);

// The usage lines of every command, for --help.
std::string commands_usage();

// Creates the store directory if absent, checks that it can be trusted and
// takes its lock: exclusive, or with `read_only` shared (the store must then
// exist). store/store_dir.h says what each refusal means.
Result<UniqueFd> lock_store(const std::string& dir, bool read_only = false);

// `dir`/`name` (`name` alone when `dir` is empty).
std::string join_path(std::string_view dir, std::string_view name);

// The S3 options of a command's arguments argv[1..]: each "-o LIST" or
// "-oLIST" (s3::apply_s3_option_list), `flag` (when given) skipped. kInvalid
// for a bad option; nullopt for any other argument or no s3= (the usage).
Result<std::optional<s3::S3Options>> s3_options_of(int argc, char** argv,
                                                   std::string_view flag = {});

// Prints "imageattachfs: MESSAGE" to stderr and returns `status`.
int command_failed(const std::string& message, int status);

// The admin commands (one file each).
int run_fsck(int argc, char** argv);
int run_fsck_remote(int argc, char** argv);
int run_stat(int argc, char** argv);
int run_gc(int argc, char** argv);
int run_import(int argc, char** argv);
int run_import_imageattach(int argc, char** argv);
int run_export(int argc, char** argv);
int run_check_bucket(int argc, char** argv);
int run_warm(int argc, char** argv);

}  // namespace iafs
