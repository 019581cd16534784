// The daemon's system side: mountinfo parsing for the mountpoint checks
// (service/mountpoints.h) and the log levels of -o loglevel= (log/log.h,
// config/mount_options.h).
#include <criterion/criterion.h>

#include <string>
#include <vector>

#include "config/mount_options.h"
#include "log/log.h"
#include "service/mountpoints.h"

using namespace iafs;

namespace {

// One mountinfo line: optional fields (shared:N master:N) before the "-".
std::string line(const std::string& point, const std::string& type, const std::string& source,
                 const std::string& optional = "shared:1") {
  return "36 25 0:51 / " + point + " rw,nosuid,nodev,relatime " + optional + " - " + type + " " +
         source + " rw,user_id=0,group_id=0\n";
}

Result<MountOptions> parsed(std::vector<const char*> args) {
  args.insert(args.begin(), "imageattachfs");
  return parse_mount_options(static_cast<int>(args.size()), args.data());
}

}  // namespace

Test(mountinfo, finds_this_store_at_this_point_only) {
  std::string info = line("/", "ext4", "/dev/sda1") +
                     line("/srv/images", "fuse.imageattachfs", "/var/lib/store") +
                     line("/srv/www", "fuse.imageattachfs", "/var/lib/other", "") +
                     line("/srv/fuse", "fuse.sshfs", "/var/lib/store", "master:3 shared:4");
  cr_assert(store_mounted_at(info, "/srv/images", "/var/lib/store"));
  cr_assert_not(store_mounted_at(info, "/srv/images", "/var/lib/other"));
  cr_assert_not(store_mounted_at(info, "/srv/www", "/var/lib/store"));
  cr_assert(store_mounted_at(info, "/srv/www", "/var/lib/other"));  // no optional fields
  cr_assert_not(store_mounted_at(info, "/srv/fuse", "/var/lib/store"));  // another filesystem
  cr_assert_not(store_mounted_at(info, "/srv", "/var/lib/store"));
  cr_assert_not(store_mounted_at(info, "/srv/images/", "/var/lib/store"));
  cr_assert_not(store_mounted_at("", "/srv/images", "/var/lib/store"));
  cr_assert_not(store_mounted_at("garbage\n\n36 25\n", "/srv/images", "/var/lib/store"));
}

Test(mountinfo, compares_escaped_paths) {
  cr_assert_eq(mountinfo_escaped("/a b\t\\c\nd"), "/a\\040b\\011\\134c\\012d");
  std::string info = line("/srv/my\\040images", "fuse.imageattachfs", "/var/a\\134b");
  cr_assert(store_mounted_at(info, "/srv/my images", "/var/a\\b"));
  cr_assert_not(store_mounted_at(info, "/srv/my\\040images", "/var/a\\b"));
}

Test(log, levels_parse_by_name_only) {
  cr_assert(parse_log_level("error") == LogLevel::kError);
  cr_assert(parse_log_level("warning") == LogLevel::kWarning);
  cr_assert(parse_log_level("info") == LogLevel::kInfo);
  cr_assert(parse_log_level("debug") == LogLevel::kDebug);
  for (const char* bad : {"", "Info", "warn", "errors", "info ", "3"}) {
    cr_assert_not(parse_log_level(bad).has_value(), "%s", bad);
  }
}

Test(mount_options, loglevel_option) {
  auto options = parsed({"-o", "loglevel=warning", "s", "m"});
  cr_assert(options.ok());
  cr_assert(options->log_level == LogLevel::kWarning);
  cr_assert(parsed({"s", "m"})->log_level == LogLevel::kInfo);
  auto bad = parsed({"-o", "loglevel=loud", "s", "m"});
  cr_assert_not(bad.ok());
  cr_assert_str_eq(bad.error().message.c_str(),
                   "bad loglevel 'loud': expected error, warning, info or debug");
  cr_assert_not(parsed({"-o", "loglevel", "s", "m"}).ok());
  cr_assert_not(parsed({"-o", "loglevel=", "s", "m"}).ok());
  // The last one wins, as for every option.
  cr_assert(parsed({"-o", "loglevel=error,loglevel=debug", "s", "m"})->log_level ==
            LogLevel::kDebug);
}

Test(log, level_filters_lines) {
  log_set_level(LogLevel::kError);
  cr_assert(log_enabled(LogLevel::kError));
  cr_assert_not(log_enabled(LogLevel::kWarning));
  cr_assert_not(log_enabled(LogLevel::kInfo));
  log_set_level(LogLevel::kDebug);
  cr_assert(log_enabled(LogLevel::kDebug));
  log_set_level(LogLevel::kInfo);
}
