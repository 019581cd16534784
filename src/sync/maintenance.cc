#include "sync/maintenance.h"

#include <algorithm>
#include <chrono>

#include "base/clock.h"
#include "base/json.h"
#include "log/log.h"
#include "sync/log_bucket.h"
#include "sync/snapshots.h"

namespace iafs::sync {
namespace {

constexpr int64_t kCallsMs = 60000;           // each chore's bucket calls, retries included
constexpr int64_t kRetryNs = 60'000'000'000;  // after a failed snapshot
constexpr int64_t kTickNs = 1'000'000'000;    // how often a snapshot's due-ness is checked
constexpr int64_t kStopCallsMs = 5000;        // deleting the heartbeat at unmount

std::string heartbeat_key(const std::string& host) { return "hosts/" + host; }

std::span<const uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

}  // namespace

std::string encode_heartbeat(const std::string& host, uint64_t cursor, bool maintain,
                             int64_t time_ns) {
  std::string out = "{\"host\":";
  append_json_string(out, host);
  out += ",\"version\":\"" IAFS_VERSION "\",\"cursor\":" + std::to_string(cursor) + ",\"mode\":";
  append_json_string(out, maintain ? "maintain" : "rw");
  out += ",\"time_ns\":";
  append_json_string(out, std::to_string(time_ns));
  out += "}";
  return out;
}

Status put_heartbeat(s3::Client& client, const std::string& host, uint64_t cursor, bool maintain,
                     s3::Deadline deadline) {
  std::string bytes = encode_heartbeat(host, cursor, maintain, now_ns());
  s3::PutOptions options;
  options.content_type = "application/json";
  auto put = client.put(heartbeat_key(host), bytes_of(bytes), options, deadline);
  if (!put) return put.error();
  return Status::Ok();
}

std::optional<uint64_t> heartbeat_cursor(std::string_view bytes) {
  Result<Json> json = parse_json(bytes);
  const Json* cursor = json ? json->find("cursor") : nullptr;
  return cursor == nullptr ? std::nullopt : cursor->as_uint();
}

uint64_t truncation_point(const std::vector<uint64_t>& snapshots,
                          const std::vector<uint64_t>& cursors) {
  if (snapshots.size() < 2) return 0;
  uint64_t point = snapshots[snapshots.size() - 2];
  for (uint64_t cursor : cursors) point = std::min(point, cursor);
  return point;
}

Maintenance::Maintenance(s3::Client& client, Store& store, LogThread& log,
                         MaintenanceOptions options)
    : client_(client),
      store_(store),
      log_(log),
      options_(std::move(options)),
      collector_(client, store, log, options_.gc) {}

Maintenance::~Maintenance() { stop(); }

void Maintenance::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable() || stopping_) return;
  if (!options_.heartbeats && !options_.maintain) return;
  thread_ = std::thread(&Maintenance::run, this);
}

void Maintenance::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (!thread_.joinable()) return;
  thread_.join();
  if (beat_written_) {
    Status s = client_.remove(heartbeat_key(options_.host), s3::Deadline::after_ms(kStopCallsMs));
    if (!s)
      log_warning("s3: " + heartbeat_key(options_.host) + " not deleted: " + s.error().message);
    beat_written_ = false;
  }
}

void Maintenance::run() {
  last_snapshot_ns_ = monotonic_ns();
  int64_t next_beat = 0;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    if (options_.heartbeats && monotonic_ns() >= next_beat) {
      beat();
      next_beat = monotonic_ns() + options_.heartbeat_ns;
    }
    if (options_.maintain && !diverged_) {
      snapshot();
      collector_.run_once();
    }
    lock.lock();
    int64_t wait = options_.maintain ? kTickNs : std::max<int64_t>(next_beat - monotonic_ns(), 0);
    wake_.wait_for(lock, std::chrono::nanoseconds(wait), [&] { return stopping_; });
  }
}

void Maintenance::beat() {
  Status put = put_heartbeat(client_, options_.host, log_.position().seq, options_.maintain,
                             s3::Deadline::after_ms(kCallsMs));
  if (!put) {
    // Once per failing spell: a host without a fresh heartbeat may find its
    // log truncated past its cursor (and then halts until a remount).
    if (beat_failing_) {
      log_debug("s3: heartbeat: " + put.error().message);
    } else {
      log_warning("s3: " + heartbeat_key(options_.host) + " not written: " + put.error().message);
    }
    beat_failing_ = true;
    return;
  }
  if (beat_failing_) log_info("s3: the heartbeat is written again");
  beat_failing_ = false;
  beat_written_ = true;
}

void Maintenance::snapshot() {
  if (log_.halted()) return;
  Snapshots snapshots(client_);
  if (!snapshots_known_) {
    auto seqs = snapshots.complete(s3::Deadline::after_ms(kCallsMs));
    if (!seqs) {
      log_debug("s3: snapshots not listed: " + seqs.error().message);
      return;
    }
    last_snapshot_seq_ = seqs->empty() ? 0 : seqs->back();
    snapshots_known_ = true;
  }
  uint64_t seq = log_.position().seq;
  int64_t started = monotonic_ns();
  if (seq <= last_snapshot_seq_ || (seq - last_snapshot_seq_ < options_.snapshot_entries &&
                                    started - last_snapshot_ns_ < options_.snapshot_interval_ns)) {
    return;
  }
  Result<DerivedDump> dump = store_.dump_derived(options_.part_bytes);
  if (!dump || dump->at.seq <= last_snapshot_seq_) {
    if (!dump) log_error("s3: no snapshot: the store: " + dump.error().message);
    last_snapshot_ns_ = started - options_.snapshot_interval_ns + kRetryNs;
    return;
  }
  uint64_t bytes = 0;
  for (const std::string& part : dump->parts) bytes += part.size();
  auto written = snapshots.put(*dump, options_.host, s3::Deadline::after_ms(kCallsMs));
  std::string name = snapshot_prefix(dump->at.seq);
  if (!written) {
    log_warning("s3: " + name + " not written: " + written.error().message);
    last_snapshot_ns_ = started - options_.snapshot_interval_ns + kRetryNs;
    return;
  }
  if (!written->diverged.empty()) {
    diverged_ = true;
    log_.halt("snapshot " + name + ": " + written->diverged);
    return;
  }
  last_snapshot_seq_ = dump->at.seq;
  last_snapshot_ns_ = started;
  if (written->created) {
    log_info("s3: wrote " + name + ": " + std::to_string(dump->records) + " records, " +
             std::to_string(bytes) + " bytes in " + std::to_string(dump->parts.size()) +
             " parts, in " + std::to_string((monotonic_ns() - started) / 1'000'000) + " ms");
  }
  if (Status s = truncate(); !s) log_warning("s3: log truncation: " + s.error().message);
}

Result<std::vector<uint64_t>> Maintenance::live_cursors() {
  std::vector<uint64_t> cursors;
  int64_t server_now = now_ns() + client_.clock_skew_ns();
  s3::ListQuery query;
  query.prefix = "hosts/";
  for (;;) {
    auto page = client_.list(query, s3::Deadline::after_ms(kCallsMs));
    if (!page) return page.error();
    for (const s3::ListedObject& object : page->objects) {
      if (server_now - object.last_modified_ns > options_.host_expiry_ns) continue;
      auto got = client_.get(object.key, std::nullopt, s3::Deadline::after_ms(kCallsMs));
      if (!got) return got.error();
      if (!*got) continue;  // that host left meanwhile
      std::optional<uint64_t> cursor = heartbeat_cursor((*got)->bytes);
      if (!cursor) log_warning("s3: " + object.key + " is malformed: it holds back truncation");
      cursors.push_back(cursor.value_or(0));
    }
    if (page->next_token.empty()) return cursors;
    query.continuation_token = page->next_token;
  }
}

Status Maintenance::delete_entries_below(uint64_t seq, uint64_t& deleted) {
  s3::ListQuery query;
  query.prefix = "log/";
  for (;;) {
    auto page = client_.list(query, s3::Deadline::after_ms(kCallsMs));
    if (!page) return page.error();
    for (const s3::ListedObject& object : page->objects) {
      std::optional<uint64_t> at = seq_of_log_key(object.key);
      if (!at) continue;
      if (*at >= seq) return Status::Ok();
      if (Status s = client_.remove(object.key, s3::Deadline::after_ms(kCallsMs)); !s) return s;
      ++deleted;
    }
    if (page->next_token.empty()) return Status::Ok();
    query.continuation_token = page->next_token;
  }
}

Status Maintenance::truncate() {
  Snapshots snapshots(client_);
  auto all = snapshots.list(s3::Deadline::after_ms(kCallsMs));
  if (!all) return all.error();
  std::vector<uint64_t> seqs;
  for (const auto& [seq, complete] : *all) {
    if (complete) seqs.push_back(seq);
  }
  auto cursors = live_cursors();
  if (!cursors) return cursors.error();
  cursors->push_back(log_.position().seq);
  uint64_t point = truncation_point(seqs, *cursors);
  if (point <= 1) return Status::Ok();
  uint64_t deleted = 0;
  Status s = delete_entries_below(point, deleted);
  // Older snapshots go, complete ones and parts a crashed or losing writer left.
  unsigned dropped = 0;
  for (const auto& [seq, complete] : *all) {
    if (!s || seq >= seqs[seqs.size() - 2]) break;
    s = snapshots.remove(seq, s3::Deadline::after_ms(kCallsMs));
    if (s && complete) ++dropped;
  }
  if (deleted != 0 || dropped != 0) {
    log_info("s3: truncated the log below " + log_key(point) + ": " + std::to_string(deleted) +
             " entries and " + std::to_string(dropped) + " older snapshots deleted");
  }
  return s;
}

}  // namespace iafs::sync
