// imageattachfs fsck --remote -o s3=BUCKET[/PREFIX][,s3_endpoint=URL]...
// Checks a bucket's store without any host (sync/remote_check.h): prints
// one line per problem and a summary. Exit 0 clean, 2 problems found or an
// error (the bucket unreadable, bad arguments).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/clock.h"
#include "cli/commands.h"
#include "log/log.h"
#include "s3/options.h"
#include "sync/bucket_mount.h"
#include "sync/remote_check.h"

namespace iafs {

namespace {

constexpr const char* kUsage =
    "fsck: usage: imageattachfs fsck --remote -o s3=BUCKET[/PREFIX][,s3_endpoint=URL]"
    "[,s3_region=R][,s3_path_style][,s3_profile=NAME]";

// A scratch directory for the rebuilt state, removed when done.
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/imageattachfs-fsck-XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    if (path_.empty()) return;
    for (const char* name : {"/data.mdb", "/lock.mdb"}) std::remove((path_ + name).c_str());
    std::remove(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

int run_fsck_remote(int argc, char** argv) {
  log_set_level(LogLevel::kWarning);
  auto given = s3_options_of(argc, argv, "--remote");
  if (!given) return command_failed("fsck: " + given.error().message, 2);
  if (!*given) return command_failed(std::string(kUsage), 2);
  const s3::S3Options& options = **given;
  Result<s3::Location> location = s3::resolve_location(options, s3::Environment::process());
  if (!location) return command_failed("fsck: " + location.error().message, 2);
  sync::BucketClient bucket = sync::BucketClient::make(*location, options.profile);
  if (auto found = bucket.credentials->get(now_ns()); !found) {
    return command_failed("fsck: s3: " + found.error().message, 2);
  }
  ScratchDir scratch;
  if (scratch.path().empty()) return command_failed("fsck: no scratch directory", 2);
  Result<sync::RemoteReport> report = sync::check_remote(*bucket.client, scratch.path());
  if (!report) return command_failed("fsck: s3: " + report.error().message, 2);
  for (const std::string& problem : report->problems) std::printf("%s\n", problem.c_str());
  std::string from = report->snapshot_seq == 0
                         ? std::string("log/1")
                         : "snap/" + std::to_string(report->snapshot_seq) + " (" +
                               std::to_string(report->snapshot_records) + " records)";
  std::printf(
      "fsck --remote %s: %s; log %llu..%llu kept, %llu entries applied from %s; "
      "%llu originals named\n",
      options.spec.c_str(), report->problems.empty() ? "clean" : "PROBLEMS",
      static_cast<unsigned long long>(report->first_seq),
      static_cast<unsigned long long>(report->head_seq),
      static_cast<unsigned long long>(report->entries_applied), from.c_str(),
      static_cast<unsigned long long>(report->originals));
  return report->problems.empty() ? 0 : 2;
}

}  // namespace iafs
