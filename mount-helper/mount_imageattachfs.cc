// mount.imageattachfs: the helper mount(8) runs for `mount -t imageattachfs`
// and for fstab lines of that type, as
//   mount.imageattachfs STORE_DIR MOUNTPOINT [-sfnv] [-N NS] [-o OPTIONS]
// It drops the options only mount(8), fstab and systemd read, and replaces
// itself with the daemon: `imageattachfs STORE_DIR MOUNTPOINT -o OPTIONS`.
// The daemon daemonizes once mounted, so mount(8) returns with the mount up,
// and its exit status is ours.

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr char kProgram[] = "mount.imageattachfs";
constexpr std::string_view kDaemon = "imageattachfs";
constexpr char kUsage[] = "usage: mount.imageattachfs STORE_DIR MOUNTPOINT [-sfnv] [-o OPTIONS]";
constexpr char kHelp[] =
    "\n"
    "The helper mount(8) runs for `mount -t imageattachfs STORE_DIR MOUNTPOINT`\n"
    "and for /etc/fstab lines of type imageattachfs. It drops the options only\n"
    "mount(8), fstab and systemd read (nofail, _netdev, noauto, auto, user, users,\n"
    "nouser, owner, group, defaults, comment=, x-*, helper=, uhelper=, user=) and\n"
    "runs `imageattachfs STORE_DIR MOUNTPOINT -o OPTIONS`, which returns once\n"
    "mounted. See imageattachfs --help for the options, mount.imageattachfs(8).\n"
    "\n"
    "  -o OPTIONS   comma-separated mount options, passed on to imageattachfs\n"
    "  -f           fake: print the imageattachfs command, run nothing\n"
    "  -v           print the command, then run it\n"
    "  -s, -n       accepted and ignored (mount(8) passes them)\n"
    "  -t TYPE, -N NAMESPACE\n"
    "               accepted and ignored\n"
    "  -h, --help   print this help and exit\n"
    "\n"
    "environment: IMAGEATTACHFS_BINARY overrides the daemon that is run.\n";
// mount(8)'s exit codes.
constexpr int kExitUsage = 1;
constexpr int kExitSystemError = 2;

// Options read by mount(8), fstab or systemd, never by the filesystem.
constexpr std::string_view kFstabOnlyOptions[] = {
    "nofail", "_netdev", "noauto", "auto", "user", "users", "nouser", "owner", "group", "defaults"};
constexpr std::string_view kFstabOnlyPrefixes[] = {"comment=", "x-",
                                                   "helper=", "uhelper=", "user="};

struct Invocation {
  std::vector<std::string> positional;  // STORE_DIR MOUNTPOINT
  std::vector<std::string> options;     // every -o list, split, in order
  bool fake = false;                    // -f: print the command, run nothing
  bool verbose = false;                 // -v: print the command, then run it
};

// Splits a mount option list at commas outside double quotes
// (libmount allows `opt="a,b"`); empty items are skipped.
void append_options(std::string_view list, std::vector<std::string>& out) {
  std::string item;
  bool quoted = false;
  for (char c : list) {
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) {
      if (!item.empty()) out.push_back(std::move(item));
      item.clear();
    } else {
      item += c;
    }
  }
  if (!item.empty()) out.push_back(std::move(item));
}

bool is_fstab_only(std::string_view option) {
  for (std::string_view name : kFstabOnlyOptions)
    if (option == name) return true;
  for (std::string_view prefix : kFstabOnlyPrefixes)
    if (option.starts_with(prefix)) return true;
  return false;
}

// Reads mount(8)'s arguments, flags and positionals in any order. -o, -t and
// -N take a value (attached or next); other letters are accepted and ignored.
// Returns nullopt on a usage error.
std::optional<Invocation> parse_arguments(int argc, char** argv) {
  Invocation call;
  bool flags_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (flags_done || arg.size() < 2 || arg[0] != '-') {
      call.positional.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    for (std::size_t j = 1; j < arg.size(); ++j) {
      char flag = arg[j];
      if (flag == 'o' || flag == 't' || flag == 'N') {
        std::string_view value = arg.substr(j + 1);
        if (value.empty()) {
          if (++i == argc) return std::nullopt;
          value = argv[i];
        }
        if (flag == 'o') append_options(value, call.options);
        break;
      }
      if (flag == 'f') call.fake = true;
      if (flag == 'v') call.verbose = true;
    }
  }
  if (call.positional.size() != 2) return std::nullopt;
  return call;
}

bool is_executable(const std::filesystem::path& path) { return access(path.c_str(), X_OK) == 0; }

// The daemon to run: $IMAGEATTACHFS_BINARY, else `imageattachfs` beside this
// executable, else in the install's bindir, else the bare name for execvp.
std::string find_daemon() {
  if (const char* env = std::getenv("IMAGEATTACHFS_BINARY"); env && *env) return env;
  std::error_code error;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error && is_executable(self.parent_path() / kDaemon)) return self.parent_path() / kDaemon;
#ifdef IAFS_INSTALL_BINDIR
  std::filesystem::path installed = std::filesystem::path(IAFS_INSTALL_BINDIR) / kDaemon;
  if (is_executable(installed)) return installed;
#endif
  return std::string(kDaemon);
}

std::vector<std::string> daemon_command(const Invocation& call) {
  std::vector<std::string> command = {find_daemon(), call.positional[0], call.positional[1]};
  std::string kept;
  for (const std::string& option : call.options) {
    if (is_fstab_only(option)) continue;
    if (!kept.empty()) kept += ',';
    kept += option;
  }
  if (!kept.empty()) {
    command.emplace_back("-o");
    command.push_back(std::move(kept));
  }
  return command;
}

// Quotes an argument for a POSIX shell, only when it needs it.
std::string shell_quoted(std::string_view arg) {
  constexpr std::string_view kSafe =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./"
      "-";
  if (!arg.empty() && arg.find_first_not_of(kSafe) == std::string_view::npos)
    return std::string(arg);
  std::string quoted = "'";
  for (char c : arg) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

void print_command(std::FILE* stream, const std::vector<std::string>& command) {
  std::string line;
  for (const std::string& arg : command) {
    if (!line.empty()) line += ' ';
    line += shell_quoted(arg);
  }
  std::fprintf(stream, "%s\n", line.c_str());
}

// Replaces this process with the command; returns only if exec failed.
int exec_command(const std::vector<std::string>& command) {
  std::vector<char*> argv;
  argv.reserve(command.size() + 1);
  for (const std::string& arg : command) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  if (command[0].find('/') != std::string::npos)
    execv(argv[0], argv.data());
  else
    execvp(argv[0], argv.data());
  std::fprintf(stderr, "%s: cannot run %s: %s\n", kProgram, argv[0], std::strerror(errno));
  return kExitSystemError;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == "-o" || arg == "-t" || arg == "-N") ++i;  // their values are not flags
    if (arg == "-h" || arg == "--help") {
      std::printf("%s\n%s", kUsage, kHelp);
      return 0;
    }
  }
  std::optional<Invocation> call = parse_arguments(argc, argv);
  if (!call) {
    std::fprintf(stderr, "%s\n", kUsage);
    return kExitUsage;
  }
  std::vector<std::string> command = daemon_command(*call);
  if (call->fake) {
    print_command(stdout, command);
    return 0;
  }
  if (call->verbose) print_command(stderr, command);
  std::fflush(nullptr);
  return exec_command(command);
}
