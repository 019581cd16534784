// Where the namespace's changes become durable (SCALEOUT.md §4, §5): a store
// of its own applies each op at once; a store on a bucket sends it to the
// bucket's log and applies it when the entry holding it lands. attach
// changes the namespace only through this.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "imageattachfs/blob_store.h"
#include "imageattachfs/result.h"
#include "store/ops.h"
#include "store/store.h"

namespace iafs {

// A thumbnail as every host of a bucket serves it: the first host's bytes,
// size and time (SCALEOUT.md §6).
struct SharedThumbnail {
  std::vector<uint8_t> bytes;
  uint32_t width = 0;
  uint32_t height = 0;
  int64_t created_ns = 0;
  std::string key;  // its object's key (empty on a store of its own)
};

class Committer {
 public:
  virtual ~Committer() = default;

  // Makes `op` durable and applied: what it changed, or why it was refused.
  // An AttachOriginal carries its blob's bytes in `blob` (Store::apply).
  // `original_ext` (when not empty) names the original the writer saw: an
  // op on one set is refused where another host replaced it meanwhile.
  // `bytes_stored` (when given) is called once `blob` is read no more, before
  // any wait for the log: a writer then gives back what its bytes held.
  virtual Result<ApplyOutcome> commit(const Op& op, const BlobSource& blob,
                                      const std::string& original_ext,
                                      const std::function<void()>& bytes_stored) = 0;
  Result<ApplyOutcome> commit(const Op& op, const BlobSource& blob,
                              const std::string& original_ext) {
    return commit(op, blob, original_ext, {});
  }
  Result<ApplyOutcome> commit(const Op& op) { return commit(op, SpanSource({}), {}, {}); }

  // Makes bytes [offset, offset + length) of blob `id` (of `size` bytes)
  // readable from the store: kIo when they cannot be had.
  virtual Status fetch(const BlobId& id, uint64_t size, uint64_t offset, uint64_t length) = 0;

  // Before a miss is answered: learns what other hosts committed, once.
  // True when there may be news (look again), false when not.
  virtual bool catch_up() = 0;

  // Whether thumbnails are shared with other hosts: then each is looked for
  // under its key (attach/shared_thumbnails.h) before it is made, and
  // offered under it once made.
  virtual bool shares_thumbnails() const { return false; }
  // The thumbnail another host made under `key`; nullopt when none did.
  virtual Result<std::optional<SharedThumbnail>> find_thumbnail(const std::string& /*key*/) {
    return std::optional<SharedThumbnail>();
  }
  // Deletes the thumbnail object at `key` (a generation a drop_thumb ended).
  virtual Status delete_thumbnail(const std::string& /*key*/) { return Status::Ok(); }
  // Offers `mine` under `key`: nullopt when it is the thumbnail every host
  // serves, else the one another host made first.
  virtual Result<std::optional<SharedThumbnail>> share_thumbnail(const std::string& /*key*/,
                                                                 const SharedThumbnail& /*mine*/) {
    return std::optional<SharedThumbnail>();
  }
};

// A store of its own: ops applied at once; every blob is local.
class LocalCommitter final : public Committer {
 public:
  explicit LocalCommitter(Store& store) : store_(store) {}
  Result<ApplyOutcome> commit(const Op& op, const BlobSource& blob,
                              const std::string& /*original_ext*/,
                              const std::function<void()>& /*bytes_stored*/) override {
    return store_.apply(op, blob);  // stored and applied at once: no wait to shorten
  }
  using Committer::commit;
  Status fetch(const BlobId& /*id*/, uint64_t /*size*/, uint64_t /*offset*/,
               uint64_t /*length*/) override {
    return Status::Ok();
  }
  bool catch_up() override { return false; }

 private:
  Store& store_;
};

}  // namespace iafs
