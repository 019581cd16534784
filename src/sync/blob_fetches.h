// The bytes of originals other hosts committed, fetched from b/<sha256> when
// a read needs them (SCALEOUT.md §10). A blob up to Store::kRangeBytes comes
// in one GET, checked against its name before it is stored; a larger one in
// ranged GETs of kRangeBytes, each stored on its own as it comes, so that a
// read waits only for the ranges it covers and no blob is held in memory
// whole; the whole is checked once its last range is in. Each GET is shared
// by the reads that wait for it.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>

#include "s3/client.h"
#include "store/store.h"

namespace iafs::sync {

class BlobFetches {
 public:
  // The store and the client outlive it.
  BlobFetches(Store& store, s3::Client& client) : store_(store), client_(client) {}

  // Makes bytes [offset, offset + length) of recorded blob `id` (of `size`
  // bytes) readable from the store: kNotFound when no record holds it any
  // more, kIo when the bucket does not give them or they are wrong.
  Status fetch(const BlobId& id, uint64_t size, uint64_t offset, uint64_t length);

 private:
  struct Flight {
    bool done = false;
    Status status;
  };
  // Runs `get` once for (id, at) however many callers ask at a time.
  Status shared(const BlobId& id, uint64_t at, const std::function<Status()>& get);
  Status fetch_whole(const BlobId& id, uint64_t size);
  Status fetch_range(const BlobId& id, uint64_t size, uint64_t at);
  // Stores all of blob `id`'s bytes (GET of `key`), checked against it.
  Status cache_whole(const BlobId& id, const std::string& key, std::span<const uint8_t> bytes);

  Store& store_;
  s3::Client& client_;
  std::mutex mutex_;
  std::condition_variable landed_;
  std::map<std::pair<BlobId, uint64_t>, std::shared_ptr<Flight>> flights_;  // mutex_
};

}  // namespace iafs::sync
