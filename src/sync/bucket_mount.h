// Mounting a store on a bucket (SCALEOUT.md §11, §12): before the kernel
// mount, in the process the user started (so that refusals reach the
// terminal), the bucket's fs.json is read or made and create-if-absent is
// probed; after daemonizing, the host's HTTP client, committer and log
// thread run until the mount ends.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "imageattachfs/result.h"
#include "s3/client.h"
#include "s3/credentials.h"
#include "s3/http.h"
#include "s3/options.h"
#include "store/store.h"
#include "sync/bucket_committer.h"
#include "sync/log_bucket.h"
#include "sync/log_thread.h"
#include "sync/maintenance.h"

namespace iafs::sync {

// What the bucket said at mount.
struct BucketPlan {
  s3::Location location;
  std::string host;                // this mount's uuid
  std::string origin;              // SHA-256 hex of fs.json's bytes: log/1's prev
  std::string schema_text;         // the bucket's schema (fs.json's), which the mount uses
  bool writable = true;            // false: mount read-only, for the reasons in `lines`
  std::vector<std::string> lines;  // one each: why read-only, warnings
};

// The HTTP transport, credentials and S3 client of one process (none
// survives fork()).
struct BucketClient {
  std::unique_ptr<s3::HttpTransport> http;
  std::unique_ptr<s3::CredentialProvider> credentials;
  std::unique_ptr<s3::Client> client;
  static BucketClient make(const s3::Location& location, const std::string& profile);
};

// Reads fs.json (made, create-if-absent, by the first mount, holding
// `schema_text`), then probes the bucket. A bucket whose schema differs from
// `schema_text` (when `schema_given`), or that does not enforce
// create-if-absent, is planned read-only. Errors, one line each: bad
// options, no credentials, the bucket unreachable or refusing us, a
// malformed fs.json.
Result<BucketPlan> plan_bucket(const s3::S3Options& options, const std::string& schema_text,
                               bool schema_given);

// The running side of a mount on a bucket. Start it after daemonizing (its
// HTTP client and thread do not survive fork()).
class BucketHost {
 public:
  // `store` (tied to the plan's bucket: Store::begin_log) outlives it.
  static Result<std::unique_ptr<BucketHost>> open(const BucketPlan& plan,
                                                  const s3::S3Options& options, Store& store,
                                                  bool read_only);
  ~BucketHost();

  Committer& committer() { return *committer_; }
  // The uuid its entries and heartbeat carry: the store's (Store::log_host).
  const std::string& host_id() const { return host_id_; }
  // Before start().
  void on_remote_change(RemoteChange fn) { committer_->on_remote_change(std::move(fn)); }
  void start() {
    log_->start();
    maintenance_->start();
  }
  // The maintenance first: it deletes the heartbeat, which reads the log's cursor.
  void stop() {
    maintenance_->stop();
    log_->stop();
  }

 private:
  BucketHost() = default;

  std::string host_id_;
  BucketClient bucket_client_;
  std::unique_ptr<LogBucket> bucket_;
  std::unique_ptr<BucketCommitter> committer_;
  std::unique_ptr<LogThread> log_;
  std::unique_ptr<Maintenance> maintenance_;
};

// Before serving (SCALEOUT.md §8): a store with nothing applied yet loads
// the newest snapshot, if any; a store whose entry at its cursor is not the
// bucket's (a restored bucket), or above whose cursor entries were deleted
// (a host away during a truncation), is rebuilt from the newest snapshot
// past its cursor, else replays the log from log/1. One log line says what
// was done and why. kInvalid when entries are missing and no snapshot
// covers them; kIo when the bucket fails. A read-write host writes its
// heartbeat at the snapshot's seq before reading it.
Status prepare_store(const BucketPlan& plan, const s3::S3Options& options, Store& store,
                     bool read_only);

}  // namespace iafs::sync
