#include "sync/blob_fetches.h"

#include <algorithm>
#include <span>
#include <string>

#include "log/log.h"
#include "s3/blobs.h"
#include "store/hashing.h"

namespace iafs::sync {
namespace {

constexpr int64_t kGetMs = 60000;  // one GET of a blob, or of one of its ranges

std::span<const uint8_t> span_of(const std::string& bytes) {
  return {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()};
}

// `cached` (of storing bytes of `key`), logged unless the blob is gone
// meanwhile (no record holds it: nothing to read).
Status logged(const std::string& key, Status cached) {
  if (!cached && cached.error().code != ErrorCode::kNotFound) {
    log_error("s3: " + key + ": " + cached.error().message);
  }
  return cached;
}

}  // namespace

Status BlobFetches::cache_whole(const BlobId& id, const std::string& key,
                                std::span<const uint8_t> bytes) {
  // cache_blob checks the bytes against the key's hash as it stores them.
  return logged(key, store_.cache_blob(id, xxh3_of(bytes), SpanSource(bytes), true));
}

Status BlobFetches::fetch(const BlobId& id, uint64_t size, uint64_t offset, uint64_t length) {
  if (size <= Store::kRangeBytes) {
    auto cached = store_.blob_cached(id);
    if (!cached) return cached.error();
    if (*cached) return Status::Ok();
    // No record (replaced or removed, and no open file pins it): nothing to
    // fetch, or bytes no record holds would stay cached until the next mount.
    auto recorded = store_.has_blob(id);
    if (!recorded) return recorded.error();
    if (!*recorded) return make_error(ErrorCode::kNotFound, "blob " + blob_id_hex(id) + " is gone");
    return shared(id, 0, [&] { return fetch_whole(id, size); });
  }
  auto missing = store_.missing_ranges(id, offset, length);
  if (!missing) return missing.error();
  for (uint64_t at : *missing) {
    if (Status s = shared(id, at, [&] { return fetch_range(id, size, at); }); !s) return s;
    // A server that ignores Range answered with it all, now cached whole.
    auto cached = store_.blob_cached(id);
    if (!cached) return cached.error();
    if (*cached) return Status::Ok();
  }
  // A whole read (a resize) has the whole checked first: its ranges may all
  // be in unchecked (the check after the last one was cut short). One check
  // at a time per blob (the flight at `size`, where no range starts).
  if (offset == 0 && length >= size) {
    return shared(id, size, [&] { return store_.check_ranges(id); });
  }
  return Status::Ok();
}

Status BlobFetches::shared(const BlobId& id, uint64_t at, const std::function<Status()>& get) {
  std::shared_ptr<Flight> flight;
  bool leader = false;
  {
    std::lock_guard lock(mutex_);
    auto [it, fresh] = flights_.try_emplace({id, at}, nullptr);
    if (fresh) it->second = std::make_shared<Flight>();
    flight = it->second;
    leader = fresh;
  }
  if (!leader) {
    std::unique_lock lock(mutex_);
    landed_.wait(lock, [&] { return flight->done; });
    return flight->status;
  }
  // The flight ends on every way out, an exception included: its followers
  // must never wait for ever.
  struct Land {
    BlobFetches& fetches;
    const std::shared_ptr<Flight>& flight;
    std::pair<BlobId, uint64_t> key;
    ~Land() {
      std::lock_guard lock(fetches.mutex_);
      flight->done = true;
      fetches.flights_.erase(key);
      fetches.landed_.notify_all();
    }
  };
  Land land{*this, flight, {id, at}};
  Status status = make_error(ErrorCode::kIo, "s3: the fetch of " + blob_id_hex(id) + " failed");
  try {
    status = get();
  } catch (...) {  // bad_alloc: the fetch failed, with the error made before it
  }
  std::lock_guard lock(mutex_);
  flight->status = std::move(status);
  return flight->status;
}

Status BlobFetches::fetch_whole(const BlobId& id, uint64_t size) {
  std::string key = s3::blob_key(id);
  auto got = client_.get(key, std::nullopt, s3::Deadline::after_ms(kGetMs));
  if (!got) return make_error(ErrorCode::kIo, "s3: GET " + key + ": " + got.error().message);
  if (!*got) {
    log_error("s3: " + key + " is missing from the bucket: its sets cannot be read");
    return make_error(ErrorCode::kIo, "s3: " + key + " is missing");
  }
  const std::string& bytes = (*got)->bytes;
  if (bytes.size() != size) {
    log_error("s3: " + key + " holds " + std::to_string(bytes.size()) + " bytes, not " +
              std::to_string(size));
    return make_error(ErrorCode::kIo, "s3: " + key + " has the wrong size");
  }
  return cache_whole(id, key, span_of(bytes));
}

Status BlobFetches::fetch_range(const BlobId& id, uint64_t size, uint64_t at) {
  std::string key = s3::blob_key(id);
  uint64_t length = std::min(Store::kRangeBytes, size - at);
  std::string where = key + " bytes " + std::to_string(at) + "+" + std::to_string(length);
  auto got = client_.get(key, s3::ByteRange{at, length}, s3::Deadline::after_ms(kGetMs));
  if (!got) return make_error(ErrorCode::kIo, "s3: GET " + where + ": " + got.error().message);
  if (!*got) {
    log_error("s3: " + key + " is missing from the bucket: its sets cannot be read");
    return make_error(ErrorCode::kIo, "s3: " + key + " is missing");
  }
  const s3::Object& object = **got;
  std::span<const uint8_t> bytes = span_of(object.bytes);
  if (!object.info.first && bytes.size() == size) {
    // A server that ignores Range sends it all (200): kept whole, checked whole.
    return cache_whole(id, key, bytes);
  }
  if (object.info.first != at || object.info.size != size || bytes.size() != length) {
    log_error("s3: " + where + ": got " + std::to_string(bytes.size()) + " bytes at " +
              (object.info.first ? std::to_string(*object.info.first) : "?") + " of an object of " +
              std::to_string(object.info.size) + ", not of " + std::to_string(size));
    return make_error(ErrorCode::kIo, "s3: " + key + " answered another range");
  }
  return logged(key, store_.cache_blob_range(id, at, bytes));
}

}  // namespace iafs::sync
