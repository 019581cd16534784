// A store on a bucket (SCALEOUT.md §5, §7): attach's changes go to the
// bucket's log through the log thread, and every entry of the log, this
// host's and the others', is applied to the store here. Blobs go to
// b/<sha256> before the op that names them is sent; the bytes of blobs other
// hosts committed are fetched when first read.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "s3/client.h"
#include "store/committer.h"
#include "store/store.h"
#include "sync/blob_fetches.h"
#include "sync/log_thread.h"

namespace iafs::sync {

// Told, for each entry another host wrote, of its ops that changed this
// store (on the log thread: it must not wait for the kernel).
using RemoteChange = std::function<void(const std::vector<std::pair<Op, ApplyOutcome>>& changes)>;

class BucketCommitter final : public Committer, public LogApplier {
 public:
  // `read_only`: every commit is refused (kReadOnly); the log is still
  // applied. The store and the client outlive it.
  BucketCommitter(Store& store, s3::Client& client, bool read_only);

  // Before the log thread starts: the thread that sends and applies.
  void set_log(LogThread& log) { log_ = &log; }
  // Before the log thread starts.
  void on_remote_change(RemoteChange fn) { on_remote_change_ = std::move(fn); }

  // Committer.
  Result<ApplyOutcome> commit(const Op& op, const BlobSource& blob, const std::string& original_ext,
                              const std::function<void()>& bytes_stored) override;
  using Committer::commit;
  Status fetch(const BlobId& id, uint64_t size, uint64_t offset, uint64_t length) override;
  bool catch_up() override;
  // Thumbnails at t/<orig>/<recipe>/<name>, created if absent, with their
  // sha256, width, height and created time as object metadata (SCALEOUT §6).
  bool shares_thumbnails() const override { return true; }
  Result<std::optional<SharedThumbnail>> find_thumbnail(const std::string& key) override;
  Status delete_thumbnail(const std::string& key) override;
  Result<std::optional<SharedThumbnail>> share_thumbnail(const std::string& key,
                                                         const SharedThumbnail& mine) override;

  // LogApplier.
  Result<std::vector<OpResult>> apply(const Entry& entry, const std::string& sha256_hex,
                                      bool own) override;

 private:
  // Waits (until `deadline`, monotonic) while GC sweeps blob `id`.
  Status wait_for_sweep(const BlobId& id, int64_t deadline);

  Store& store_;
  s3::Client& client_;
  const bool read_only_;
  LogThread* log_ = nullptr;
  RemoteChange on_remote_change_;
  BlobFetches fetches_;
};

// The ops of `entry` as the store applies them; kNotSupported for an op this
// version does not apply (the host then halts at that entry).
Result<LoggedEntry> logged_entry(const Entry& entry, const std::string& sha256_hex);

}  // namespace iafs::sync
