// The -o options that put a store on a bucket (SCALEOUT.md §11): s3=,
// s3_endpoint=, s3_region=, s3_path_style, s3_profile=, and its timing and
// maintenance (s3_poll=, s3_commit_timeout=, s3_heartbeat=, s3_maintain,
// s3_snapshot_entries=, s3_gc_interval=, s3_gc_grace=). No option takes a
// secret: argv is visible to every user (ps) and fstab is world-readable, so
// an option named like a key, a secret or a token is refused.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "imageattachfs/result.h"
#include "s3/client.h"
#include "s3/credentials.h"

namespace iafs::s3 {

struct S3Options {
  std::string spec;      // s3=BUCKET[/PREFIX]; empty: no bucket
  std::string endpoint;  // s3_endpoint=URL; empty: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, AWS's
  std::string
      region;  // s3_region=R; empty: AWS_REGION, AWS_DEFAULT_REGION, the profile's, us-east-1
  std::string profile;  // s3_profile=NAME; empty: AWS_PROFILE, then default
  bool path_style = false;
  // s3_poll=SECONDS (0.1–10): how often the log is tailed when idle.
  int64_t poll_ns = 1'000'000'000;
  // s3_commit_timeout=SECONDS (1–600): how long a change waits for its log
  // entry before it fails with EIO.
  int64_t commit_timeout_ns = 30'000'000'000;
  // s3_heartbeat=SECONDS (1–3600): how often a read-write host writes
  // hosts/<uuid> and every host runs the gap check (SCALEOUT.md §8).
  int64_t heartbeat_ns = 60'000'000'000;
  // s3_maintain: this host writes snapshots, every s3_snapshot_entries=N
  // entries (default 10000) or hourly when there are new ones, and truncates
  // the log after each.
  bool maintain = false;
  uint64_t snapshot_entries = 10000;
  // With s3_maintain, garbage collection: s3_gc_interval=SECONDS (default a
  // day) between listings of b/ and t/; s3_gc_grace=SECONDS (default a day)
  // from an object's upload to its condemn, and from a condemn to its sweep.
  int64_t gc_interval_ns = int64_t{86400} * 1'000'000'000;
  int64_t gc_grace_ns = int64_t{86400} * 1'000'000'000;
};

// Applies -o `name`[=`value`] when it is one of these: true when taken,
// false when it is not an S3 option. kInvalid with one line for a bad value,
// and for any option whose name says key, secret, token or password.
Result<bool> apply_s3_option(std::string_view name, std::optional<std::string_view> value,
                             S3Options& options);

// Applies a comma-separated list of such options ("s3=b,s3_path_style"):
// kInvalid for a bad one or one that is not an S3 option (a command's -o).
Status apply_s3_option_list(std::string_view list, S3Options& options);

// Whether `name` is one of the options above (s3...).
inline bool is_s3_option(std::string_view name) { return name.starts_with("s3"); }

// The Location the options name, defaults taken from `env` and the profile.
Result<Location> resolve_location(const S3Options& options, const Environment& env);

}  // namespace iafs::s3
