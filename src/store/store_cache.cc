// Store: the bytes a bucket's store caches (SCALEOUT.md §10). Records are
// never evicted; a blob's bytes are stored when fetched or committed here,
// dropped when evicted, and their total is kept in `meta` by the write
// transactions that change it.
#include <algorithm>
#include <set>

#include "store/hashing.h"
#include "store/keys.h"
#include "store/records.h"
#include "store/store.h"

namespace iafs {
namespace {

const uint8_t kCachedBytesKey[] = {'c', 'a', 'c', 'h', 'e', 'd'};

}  // namespace

Result<std::optional<uint64_t>> cached_bytes_in(StoreTxn& txn) {
  auto found = txn.get(txn.dbs().meta, kCachedBytesKey);
  if (!found) return found.error();
  if (!found->has_value()) return std::optional<uint64_t>();
  if ((*found)->size() != 8) return corrupt_record("cached bytes");
  return std::optional<uint64_t>(get_u64_be((*found)->data()));
}

namespace {

Status put_cached(StoreTxn& txn, uint64_t total) {
  Key value;
  put_u64_be(value, total);
  return txn.put(txn.dbs().meta, kCachedBytesKey, value);
}

}  // namespace

Status Store::write_cached(StoreTxn& txn) {
  int64_t delta = totals_delta_.cached_bytes;
  totals_delta_.cached_bytes = 0;
  if (delta == 0) return Status::Ok();
  auto current = cached_bytes_in(txn);
  if (!current) return current.error();
  if (!*current) return Status::Ok();  // a store of its own: not counted
  return put_cached(txn, moved(**current, delta));
}

Status Store::start_counting_cached(StoreTxn& txn, bool afresh) {
  if (afresh) {
    if (Status s = txn.del(txn.dbs().meta, kCachedBytesKey); !s) return s;
  }
  auto current = cached_bytes_in(txn);
  if (!current) return current.error();
  if (*current) return Status::Ok();
  uint64_t total = 0;
  Cursor cursor(txn, txn.dbs().blobs);
  if (!cursor.ok()) return cursor.error();
  auto at = cursor.seek({});
  for (; at && *at; at = cursor.next()) {
    auto record = decode_record<BlobRecord>(cursor.value());
    if (!record) return corrupt_record("blob");
    total += held_bytes(*record);
  }
  if (!at) return at.error();
  return put_cached(txn, total);
}

Result<std::optional<uint64_t>> Store::cached_bytes() {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  return cached_bytes_in(txn);
}

Status Store::cache_blob(const BlobId& id, uint64_t xxh3, const BlobSource& source,
                         bool recorded_only) {
  return write([&](StoreTxn& txn) -> Status {
    auto found = get_record<BlobRecord>(txn, txn.dbs().blobs, id);
    if (!found) return found.error();
    BlobRecord record;
    if (*found) {
      if ((*found)->cached) return Status::Ok();
      record = **found;
      if (record.size != source.size()) {
        return make_error(ErrorCode::kIo, "blob " + blob_id_hex(id) + " fetched with " +
                                              std::to_string(source.size()) + " bytes, not " +
                                              std::to_string(record.size));
      }
    } else if (recorded_only) {
      return make_error(ErrorCode::kNotFound, "blob " + blob_id_hex(id) + " is gone");
    } else {
      record.size = source.size();
      record.xxh3 = xxh3;
    }
    // Over the ranges it may hold: all its bytes, checked.
    if (Status s = blobs_->put(txn, id, source); !s) return s;
    count_cached(+1, record.size - record.partial);
    record.cached = true;
    record.partial = 0;
    return txn.put(txn.dbs().blobs, id, encode_record(record));
  });
}

Status Store::uncache_blob(const BlobId& id) {
  return write([&](StoreTxn& txn) -> Status {
    auto found = get_record<BlobRecord>(txn, txn.dbs().blobs, id);
    if (!found) return found.error();
    if (!*found || held_bytes(**found) == 0) return Status::Ok();
    BlobRecord record = **found;
    // A read that began before this commit still reads its snapshot of the
    // bytes; one after it finds them missing and fetches them again.
    if (Status s = blobs_->remove(txn, id, record.size); !s) return s;
    dropping(id);
    count_cached(-1, held_bytes(record));
    record.cached = false;
    record.partial = 0;
    return txn.put(txn.dbs().blobs, id, encode_record(record));
  });
}

Result<bool> Store::blob_cached(const BlobId& id) {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  auto found = get_record<BlobRecord>(txn, txn.dbs().blobs, id);
  if (!found) return found.error();
  return found->has_value() && (*found)->cached;
}

Status Store::scan_cached_originals(const std::function<bool(const BlobId&, uint64_t)>& fn) {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  std::set<BlobId> seen;
  Cursor sets(txn, txn.dbs().sets);
  if (!sets.ok()) return sets.error();
  auto at = sets.seek({});
  for (; at && *at; at = sets.next()) {
    auto set = decode_record<SetRecord>(sets.value());
    if (!set) return corrupt_record("set");
    if (!seen.insert(set->blob).second) continue;
    auto blob = get_record<BlobRecord>(txn, txn.dbs().blobs, set->blob);
    if (!blob) return blob.error();
    if (!*blob || held_bytes(**blob) == 0) continue;
    if (!fn(set->blob, held_bytes(**blob))) return Status::Ok();
  }
  if (!at) return at.error();
  return Status::Ok();
}

Result<std::vector<uint64_t>> Store::missing_ranges(const BlobId& id, uint64_t offset,
                                                    uint64_t length) {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  auto found = get_record<BlobRecord>(txn, txn.dbs().blobs, id);
  if (!found) return found.error();
  if (!*found) return make_error(ErrorCode::kNotFound, "blob " + blob_id_hex(id) + " is gone");
  std::vector<uint64_t> missing;
  const BlobRecord& record = **found;
  if (record.cached) return missing;
  uint64_t end = std::min(record.size, offset + std::max<uint64_t>(length, 1));
  for (uint64_t at = offset - offset % kRangeBytes; at < end; at += kRangeBytes) {
    auto held = blobs_->holds(txn, id, at);
    if (!held) return held.error();
    if (!*held) missing.push_back(at);
  }
  return missing;
}

Status Store::cache_blob_range(const BlobId& id, uint64_t offset, std::span<const uint8_t> bytes) {
  bool complete = false;
  Status stored = write([&](StoreTxn& txn) -> Status {
    auto found = get_record<BlobRecord>(txn, txn.dbs().blobs, id);
    if (!found) return found.error();
    if (!*found) return make_error(ErrorCode::kNotFound, "blob " + blob_id_hex(id) + " is gone");
    BlobRecord record = **found;
    if (record.cached) return Status::Ok();
    if (offset % kRangeBytes != 0 || offset >= record.size ||
        bytes.size() != std::min(kRangeBytes, record.size - offset)) {
      return make_error(ErrorCode::kInvalid, "blob " + blob_id_hex(id) + ": no range of " +
                                                 std::to_string(bytes.size()) + " bytes at " +
                                                 std::to_string(offset));
    }
    auto held = blobs_->holds(txn, id, offset);
    if (!held) return held.error();
    if (!*held) {
      if (Status s = blobs_->put_range(txn, id, offset, bytes); !s) return s;
      record.partial += bytes.size();
      count_cached(+1, bytes.size());
    }
    // All of it, unchecked as yet: held, not cached (complete_ranges).
    complete = record.partial == record.size;
    return txn.put(txn.dbs().blobs, id, encode_record(record));
  });
  if (!stored || !complete) return stored;
  return check_ranges(id);
}

void Store::published_drops() {
  std::lock_guard lock(checks_mutex_);
  for (const BlobId& id : dropped_ids_) {
    auto it = checks_.find(id);
    if (it != checks_.end()) ++it->second.second;
  }
  dropped_ids_.clear();
}

uint64_t Store::drops_of(const BlobId& id) {
  std::lock_guard lock(checks_mutex_);
  auto it = checks_.find(id);
  return it == checks_.end() ? 0 : it->second.second;
}

Status Store::check_ranges(const BlobId& id) {
  {
    std::lock_guard lock(checks_mutex_);
    ++checks_[id].first;
  }
  struct Done {
    Store& store;
    const BlobId& id;
    ~Done() {
      std::lock_guard lock(store.checks_mutex_);
      auto it = store.checks_.find(id);
      if (--it->second.first == 0) store.checks_.erase(it);
    }
  } done{*this, id};
  constexpr int kAttempts = 3;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    uint64_t drops_before = drops_of(id);
    uint64_t size = 0;
    uint64_t xxh3 = 0;
    {
      StoreTxn txn(*env_, false);
      if (!txn.ok()) return txn.error();
      auto found = get_record<BlobRecord>(txn, txn.dbs().blobs, id);
      if (!found) return found.error();
      if (!*found || (*found)->cached || (*found)->partial != (*found)->size) return Status::Ok();
      size = (*found)->size;
      xxh3 = (*found)->xxh3;
    }
    // Read outside the write transaction, a window at a time (each one's
    // pages released after it): a large original takes a while.
    Sha256 sha;
    Xxh3 check;
    Status read = Status::Ok();
    for (uint64_t at = 0; read && at < size; at += kRangeBytes) {
      read = blobs_->read(id, size, at, std::min(kRangeBytes, size - at), [&](auto pieces) {
        for (auto piece : pieces) {
          sha.update(piece);
          check.update(piece);
        }
      });
    }
    if (range_check_hook_) range_check_hook_();
    if (!read) {
      if (drops_of(id) != drops_before) continue;  // dropped under the read: again
      return read;                                 // not a verdict on the bytes: nothing dropped
    }
    bool same = sha.finish() == id && check.finish() == xxh3;
    bool dropped = false;
    bool moved_on = false;
    Status written = write([&](StoreTxn& txn) -> Status {
      auto found = get_record<BlobRecord>(txn, txn.dbs().blobs, id);
      if (!found) return found.error();
      if (!*found || (*found)->cached || (*found)->partial != (*found)->size) return Status::Ok();
      // Its bytes dropped since the read began (and maybe fetched again):
      // the verdict may be of other bytes than those stored now.
      if (drops_of(id) != drops_before) {
        moved_on = true;
        return Status::Ok();
      }
      BlobRecord record = **found;
      if (same) {
        record.cached = true;
      } else {
        if (Status s = blobs_->remove(txn, id, record.size); !s) return s;
        dropping(id);
        count_cached(-1, record.size);
        dropped = true;
      }
      record.partial = 0;
      return txn.put(txn.dbs().blobs, id, encode_record(record));
    });
    if (!written) return written;
    if (dropped) {
      return make_error(ErrorCode::kIo, "blob " + blob_id_hex(id) +
                                            ": the ranges fetched do not hash to it: dropped");
    }
    if (!moved_on) return Status::Ok();
  }
  return make_error(ErrorCode::kIo, "blob " + blob_id_hex(id) +
                                        ": its ranges were dropped again and again while checked");
}

}  // namespace iafs
