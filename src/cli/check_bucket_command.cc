// imageattachfs check-bucket -o s3=BUCKET[/PREFIX][,s3_endpoint=URL][,s3_region=R]
//                            [,s3_path_style][,s3_profile=NAME]
// Before a first mount: finds the credentials, reaches the bucket, and runs
// the probe a mount runs (SCALEOUT.md §12), printing what it found. Exit 0
// when a host could mount the bucket read-write, 1 when it could only read or
// not at all (the line says why), 2 for bad arguments.
#include <cstdio>
#include <memory>
#include <random>
#include <string>

#include "base/clock.h"
#include "cli/commands.h"
#include "log/log.h"
#include "s3/client.h"
#include "s3/options.h"
#include "s3/probe.h"

namespace iafs {

namespace {

constexpr const char* kUsage =
    "usage: imageattachfs check-bucket -o s3=BUCKET[/PREFIX][,s3_endpoint=URL]"
    "[,s3_region=R][,s3_path_style][,s3_profile=NAME]";

std::string host_nonce() {
  std::random_device random;
  char text[32];
  std::snprintf(text, sizeof text, "check-%08x", random());
  return text;
}

}  // namespace

int run_check_bucket(int argc, char** argv) {
  log_set_level(LogLevel::kWarning);  // what it finds is printed below
  auto given = s3_options_of(argc, argv);
  if (!given) return command_failed(given.error().message, 2);
  if (!*given) return command_failed(std::string(kUsage), 2);
  const s3::S3Options& options = **given;
  s3::Environment env = s3::Environment::process();
  Result<s3::Location> location = s3::resolve_location(options, env);
  if (!location) return command_failed(location.error().message, 2);
  std::unique_ptr<s3::HttpTransport> http = s3::make_curl_transport();
  s3::CredentialProvider credentials(env, options.profile, s3::metadata_fetch(*http));
  Result<s3::Credentials> found = credentials.get(now_ns());
  if (!found) return command_failed(found.error().message, 1);
  std::printf("bucket: %s, prefix: %s\n", location->bucket.c_str(),
              location->prefix.empty() ? "(none)" : location->prefix.c_str());
  std::printf("endpoint: %s://%s%s (%s, region %s)\n", location->endpoint.scheme.c_str(),
              location->endpoint.authority.c_str(), location->endpoint.path.c_str(),
              location->path_style ? "path style" : "virtual-host style", location->region.c_str());
  std::printf("credentials: %s\n", found->source.c_str());
  s3::Client client(*location, credentials, *http);
  // Seconds, not the mount's patience: a person waits at the terminal.
  Result<s3::ProbeReport> report =
      s3::probe_bucket(client, host_nonce(), s3::Deadline::after_ms(10000));
  if (!report) return command_failed(report.error().message, 1);
  std::printf("create-if-absent: %s\n", report->writable ? "enforced" : "NOT enforced");
  std::printf("versioning: %s\n", report->versioning.empty() ? "off" : report->versioning.c_str());
  std::printf("clock: %lld s off the server's\n",
              static_cast<long long>(report->clock_skew_ns / 1000000000));
  for (const std::string& warning : report->warnings) {
    std::fprintf(stderr, "imageattachfs: warning: %s\n", warning.c_str());
  }
  if (!report->writable) {
    return command_failed("s3: " + report->why + ": a mount would be read-only", 1);
  }
  std::printf("read-write: yes\n");
  return 0;
}

}  // namespace iafs
