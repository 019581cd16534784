// The -o options that put a store on a bucket (SCALEOUT.md §11): s3=,
// s3_endpoint=, s3_region=, s3_path_style, s3_profile=. No option takes a
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
  std::string region;    // s3_region=R; empty: AWS_REGION, AWS_DEFAULT_REGION, the profile's, us-east-1
  std::string profile;   // s3_profile=NAME; empty: AWS_PROFILE, then default
  bool path_style = false;
};

// Applies -o `name`[=`value`] when it is one of these: true when taken,
// false when it is not an S3 option. kInvalid with one line for a bad value,
// and for any option whose name says key, secret, token or password.
Result<bool> apply_s3_option(std::string_view name, std::optional<std::string_view> value,
                             S3Options& options);

// The Location the options name, defaults taken from `env` and the profile.
Result<Location> resolve_location(const S3Options& options, const Environment& env);

}  // namespace iafs::s3
