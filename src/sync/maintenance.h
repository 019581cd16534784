// A host's bucket chores beside its log thread (SCALEOUT.md §8): the
// heartbeat hosts/<uuid> of a read-write host, which holds back truncation
// below its cursor; and on maintenance hosts (-o s3_maintain) snapshots of
// the state, each followed by log truncation: log/<k> is deleted for every
// k below both the second-newest complete snapshot and the cursor of every
// host whose heartbeat is fresh (and this host's own), and snapshots older
// than the second-newest go; and garbage collection (collector.h).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "imageattachfs/result.h"
#include "s3/client.h"
#include "store/store.h"
#include "sync/collector.h"
#include "sync/log_thread.h"

namespace iafs::sync {

struct MaintenanceOptions {
  std::string host;        // this host's uuid
  bool heartbeats = true;  // a read-write host
  bool maintain = false;   // -o s3_maintain
  uint64_t snapshot_entries = 10000;
  int64_t snapshot_interval_ns = int64_t{3600} * 1'000'000'000;  // when there are new entries
  int64_t heartbeat_ns = 60'000'000'000;
  int64_t host_expiry_ns =
      int64_t{24} * 3600 * 1'000'000'000;  // older heartbeats hold nothing back
  size_t part_bytes = size_t{64} << 20;    // uncompressed
  CollectorOptions gc;                     // with `maintain`
};

// hosts/<uuid>'s bytes, and the cursor one holds (nullopt when malformed).
std::string encode_heartbeat(const std::string& host, uint64_t cursor, bool maintain,
                             int64_t time_ns);
std::optional<uint64_t> heartbeat_cursor(std::string_view bytes);
// Writes hosts/<host>: the heartbeat of `host` at `cursor`, now.
Status put_heartbeat(s3::Client& client, const std::string& host, uint64_t cursor, bool maintain,
                     s3::Deadline deadline);

// The log seq below which entries may be deleted: the second-newest of
// `snapshots` (ascending), bounded by every cursor in `cursors`; 0 (nothing
// to delete) with fewer than two snapshots.
uint64_t truncation_point(const std::vector<uint64_t>& snapshots,
                          const std::vector<uint64_t>& cursors);

class Maintenance {
 public:
  // The client, store and log thread outlive it.
  Maintenance(s3::Client& client, Store& store, LogThread& log, MaintenanceOptions options);
  ~Maintenance();
  Maintenance(const Maintenance&) = delete;
  Maintenance& operator=(const Maintenance&) = delete;

  void start();
  // Joins the thread, then deletes this host's heartbeat: a host that left
  // holds back no truncation (remounted behind a truncation, it rebuilds).
  void stop();

 private:
  void run();
  void beat();
  // A snapshot when due, then truncation.
  void snapshot();
  Status truncate();
  // Fresh heartbeats' cursors.
  Result<std::vector<uint64_t>> live_cursors();
  Status delete_entries_below(uint64_t seq, uint64_t& deleted);

  s3::Client& client_;
  Store& store_;
  LogThread& log_;
  const MaintenanceOptions options_;

  Collector collector_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;

  // The thread's own.
  bool beat_written_ = false;
  bool beat_failing_ = false;
  bool snapshots_known_ = false;
  uint64_t last_snapshot_seq_ = 0;
  int64_t last_snapshot_ns_ = 0;  // monotonic
  bool diverged_ = false;
};

}  // namespace iafs::sync
