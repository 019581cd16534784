#include "s3/probe.h"

#include <cstdio>
#include <cstdlib>
#include <random>

#include "base/clock.h"

namespace iafs::s3 {

namespace {

constexpr int64_t kSkewWarningNs = kNanosPerSecond * 5 * 60;

std::string nonce() {
  std::random_device random;
  char text[17];
  std::snprintf(text, sizeof text, "%08x%08x", random(), random());
  return text;
}

}  // namespace

Result<ProbeReport> probe_bucket(Client& client, const std::string& host, Deadline deadline) {
  ProbeReport report;
  std::string key = "probe/" + host + "/" + nonce();
  std::string body = "imageattachfs probe\n";
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  PutOptions create;
  create.if_none_match = true;
  Result<PutResult> first = client.put(key, bytes, create, deadline);
  if (!first) return first.error();
  Result<PutResult> second = client.put(key, bytes, create, deadline);
  Status removed = client.remove(key, deadline);
  if (!second) return second.error();
  if (*first != PutResult::kCreated) {
    report.why = "If-None-Match:* not enforced (the first create of " + key +
                 " found it there)";
  } else if (*second != PutResult::kExists) {
    report.why = "If-None-Match:* not enforced (second create of " + key +
                 " got 200; versioned RGW 16.2 buckets do this)";
  } else {
    report.writable = true;
  }
  if (!removed) report.warnings.push_back("could not delete " + key + ": " + removed.error().message);
  Result<std::string> versioning = client.versioning(deadline);
  if (!versioning) return versioning.error();
  report.versioning = *versioning;
  if (!report.versioning.empty()) {
    report.warnings.push_back("bucket versioning is " + report.versioning +
                              ": deleted bytes are kept, and RGW 16.2 ignores If-None-Match:* "
                              "while it is Enabled");
  }
  report.clock_skew_ns = client.clock_skew_ns();
  if (std::llabs(report.clock_skew_ns) > kSkewWarningNs) {
    report.warnings.push_back("this host's clock is " +
                              std::to_string(std::llabs(report.clock_skew_ns) / kNanosPerSecond) +
                              " s off the server's (SigV4 refuses 15 min)");
  }
  return report;
}

}  // namespace iafs::s3
