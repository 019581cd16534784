// Store: the bytes a bucket's store caches (SCALEOUT.md §10). Records are
// never evicted; a blob's bytes are stored when fetched or committed here,
// dropped when evicted, and their total is kept in `meta` by the write
// transactions that change it.
#include <set>

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
    if (record->cached) total += record->size;
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
    if (Status s = blobs_->put(txn, id, source); !s) return s;
    record.cached = true;
    count_cached(+1, record.size);
    return txn.put(txn.dbs().blobs, id, encode_record(record));
  });
}

Status Store::uncache_blob(const BlobId& id) {
  return write([&](StoreTxn& txn) -> Status {
    auto found = get_record<BlobRecord>(txn, txn.dbs().blobs, id);
    if (!found) return found.error();
    if (!*found || !(*found)->cached) return Status::Ok();
    BlobRecord record = **found;
    // A read that began before this commit still reads its snapshot of the
    // bytes; one after it finds them missing and fetches them again.
    if (Status s = blobs_->remove(txn, id, record.size); !s) return s;
    record.cached = false;
    count_cached(-1, record.size);
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
    if (!*blob || !(*blob)->cached) continue;
    if (!fn(set->blob, (*blob)->size)) return Status::Ok();
  }
  if (!at) return at.error();
  return Status::Ok();
}

}  // namespace iafs
