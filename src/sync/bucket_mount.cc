#include "sync/bucket_mount.h"

#include <algorithm>
#include <cstdio>
#include <random>

#include "base/clock.h"
#include "base/json.h"
#include "log/log.h"
#include "s3/probe.h"
#include "s3/sigv4.h"

namespace iafs::sync {

namespace {

constexpr int64_t kMountCallsMs = 15000;  // each step of plan_bucket, retries included

std::string random_hex(size_t bytes) {
  std::random_device random;
  std::string out;
  while (out.size() < 2 * bytes) {
    char text[9];
    std::snprintf(text, sizeof text, "%08x", random());
    out += text;
  }
  out.resize(2 * bytes);
  return out;
}

std::string host_uuid() {
  std::string hex = random_hex(16);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

std::string fs_json_of(const std::string& schema_text) {
  std::string out = "{\"format\":1,\"fs_uuid\":";
  append_json_string(out, host_uuid());
  out += ",\"created_ns\":";
  append_json_string(out, std::to_string(now_ns()));
  out += ",\"schema\":";
  append_json_string(out, schema_text);
  out += "}";
  return out;
}

std::span<const uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// fs.json as the bucket holds it, made by this mount if absent.
Result<std::string> read_or_make_fs_json(s3::Client& client, const std::string& schema_text) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto got = client.get("fs.json", std::nullopt, s3::Deadline::after_ms(kMountCallsMs));
    if (!got) return got.error();
    if (*got) return (*got)->bytes;
    s3::PutOptions create;
    create.if_none_match = true;
    create.content_type = "application/json";
    std::string made = fs_json_of(schema_text);
    auto put = client.put("fs.json", bytes_of(made), create, s3::Deadline::after_ms(kMountCallsMs));
    if (!put) return put.error();
    if (*put == s3::PutResult::kCreated) {
      log_info("s3: made the bucket's fs.json: a new store");
      return made;
    }
    // Another host's first mount won: read its fs.json.
  }
  return make_error(ErrorCode::kIo, "s3: fs.json neither readable nor creatable");
}

}  // namespace

Result<BucketPlan> plan_bucket(const s3::S3Options& options, const std::string& schema_text,
                               bool schema_given) {
  s3::Environment env = s3::Environment::process();
  Result<s3::Location> location = s3::resolve_location(options, env);
  if (!location) return location.error();
  std::unique_ptr<s3::HttpTransport> http = s3::make_curl_transport();
  s3::CredentialProvider credentials(env, options.profile, s3::metadata_fetch(*http));
  if (Result<s3::Credentials> found = credentials.get(now_ns()); !found) {
    return make_error(found.error().code, "s3: " + found.error().message);
  }
  s3::Client client(*location, credentials, *http);
  BucketPlan plan;
  plan.location = *location;
  plan.host = host_uuid();
  Result<std::string> fs_json = read_or_make_fs_json(client, schema_text);
  if (!fs_json) return make_error(fs_json.error().code, "s3: fs.json: " + fs_json.error().message);
  Result<Json> parsed = parse_json(*fs_json);
  const Json* format = parsed ? parsed->find("format") : nullptr;
  const Json* schema = parsed ? parsed->find("schema") : nullptr;
  if (format == nullptr || format->as_uint() != 1u || schema == nullptr ||
      schema->kind != Json::Kind::kString) {
    return make_error(ErrorCode::kInvalid,
                      "s3: the bucket's fs.json is not of a store this version knows");
  }
  plan.origin = s3::sha256_hex(*fs_json);
  plan.schema_text = schema->text;
  if (schema_given && schema->text != schema_text) {
    plan.writable = false;
    plan.lines.push_back(
        "s3: -o schema= differs from the schema the bucket's store was made with: read-only "
        "(mount without -o schema= to use the bucket's)");
  }
  Result<s3::ProbeReport> probe =
      s3::probe_bucket(client, plan.host, s3::Deadline::after_ms(kMountCallsMs));
  if (!probe) return make_error(probe.error().code, "s3: " + probe.error().message);
  for (const std::string& warning : probe->warnings) plan.lines.push_back("s3: " + warning);
  if (!probe->writable) {
    plan.writable = false;
    plan.lines.push_back("s3: " + probe->why + ": read-only");
  }
  return plan;
}

Result<std::unique_ptr<BucketHost>> BucketHost::open(const BucketPlan& plan,
                                                     const s3::S3Options& options, Store& store,
                                                     bool read_only) {
  Result<LogCursor> cursor = store.log_cursor();
  if (!cursor) return cursor.error();
  // A remount writes as the same host: its entries, and those it left
  // unsettled before a crash, carry one uuid (SCALEOUT.md §3).
  Result<std::string> host_id = store.log_host(plan.host);
  if (!host_id) return host_id.error();
  std::unique_ptr<BucketHost> host(new BucketHost());
  host->host_id_ = *host_id;
  host->bucket_client_ = BucketClient::make(plan.location, options.profile);
  s3::Client& client = *host->bucket_client_.client;
  host->bucket_ = s3_log_bucket(client);
  host->committer_ = std::make_unique<BucketCommitter>(store, client, read_only);
  LogThreadOptions log_options;
  log_options.host = *host_id;
  log_options.poll_ns = options.poll_ns;
  log_options.commit_timeout_ns = options.commit_timeout_ns;
  // Well within the age a PUT needs, whatever the heartbeat.
  log_options.gap_check_ns = std::min(options.heartbeat_ns, log_options.gap_check_max_age_ns / 2);
  LogPosition start{cursor->seq, cursor->sha256_hex, cursor->time_ns};
  host->log_ = std::make_unique<LogThread>(*host->bucket_, *host->committer_, start, log_options);
  host->committer_->set_log(*host->log_);
  MaintenanceOptions chores;
  chores.host = *host_id;
  chores.heartbeats = !read_only && plan.writable;
  chores.maintain = options.maintain && !read_only && plan.writable;
  chores.snapshot_entries = options.snapshot_entries;
  chores.heartbeat_ns = options.heartbeat_ns;
  chores.gc.host = *host_id;
  chores.gc.grace_ns = options.gc_grace_ns;
  chores.gc.interval_ns = options.gc_interval_ns;
  host->maintenance_ = std::make_unique<Maintenance>(client, store, *host->log_, chores);
  return host;
}

BucketClient BucketClient::make(const s3::Location& location, const std::string& profile) {
  BucketClient out;
  out.http = s3::make_curl_transport();
  out.credentials = std::make_unique<s3::CredentialProvider>(s3::Environment::process(), profile,
                                                             s3::metadata_fetch(*out.http));
  out.client = std::make_unique<s3::Client>(location, *out.credentials, *out.http);
  return out;
}

BucketHost::~BucketHost() {
  if (maintenance_) maintenance_->stop();
  if (log_) log_->stop();
}

}  // namespace iafs::sync
