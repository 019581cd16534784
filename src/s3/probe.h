// The capability probe a host runs against its bucket before it mounts
// (SCALEOUT.md §12): the one conditional S3 feature the design needs,
// create-if-absent PUTs, must be enforced, or the host may only read.
#pragma once

#include <string>
#include <vector>

#include "imageattachfs/result.h"
#include "s3/client.h"

namespace iafs::s3 {

struct ProbeReport {
  // Whether `If-None-Match: *` is enforced: the first create of a fresh key
  // got 200 and the second 412 (or 409). Otherwise the host must mount
  // read-only, for the reason in `why`.
  bool writable = false;
  std::string why;                    // one line when not writable
  std::string versioning;             // "", "Enabled" or "Suspended"
  int64_t clock_skew_ns = 0;          // the server's clock minus ours
  std::vector<std::string> warnings;  // one line each: versioning, a clock over 5 min off
};

// Creates probe/<host>/<nonce> twice and deletes it, then reads the bucket's
// versioning. Errors: the bucket cannot be reached or refuses us (kIo,
// kPermission, kNotFound for a missing bucket), with S3's code.
// Each request retries until `deadline`.
Result<ProbeReport> probe_bucket(Client& client, const std::string& host, Deadline deadline);

}  // namespace iafs::s3
