// Store: lookups, listing, blob reads and pins. Each call is one read
// transaction (DESIGN §5a: read transactions last one request).
#include "store/keys.h"
#include "store/records.h"
#include "store/store.h"

namespace iafs {

Result<std::optional<SetRecord>> Store::get_set(const ImageSetKey& set) {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  return get_record<SetRecord>(txn, txn.dbs().sets, set_key(set));
}

Result<std::optional<int64_t>> Store::get_dir_mtime(const std::string& dir) {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  auto found = txn.get(txn.dbs().meta, dir_mtime_key(dir));
  if (!found) return found.error();
  if (!found->has_value()) return std::optional<int64_t>();
  if ((*found)->size() != 8) return corrupt_record("directory mtime");
  return std::optional<int64_t>(static_cast<int64_t>(get_u64_be((*found)->data())));
}

Result<std::optional<ThumbRecord>> Store::get_thumbnail(const ImageSetKey& set,
                                                        const ThumbnailSpec& spec) {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  return get_record<ThumbRecord>(txn, txn.dbs().thumbs, thumbnail_key(set, spec));
}

Status Store::list_entities(const std::string& type, const std::optional<EntityId>& after,
                            const std::function<bool(const EntityId&)>& fn) {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  Cursor cursor(txn, txn.dbs().sets);
  if (!cursor.ok()) return cursor.error();
  Key prefix = type_prefix(type);
  Result<bool> at = cursor.seek(after ? after_prefix(entity_prefix(type, *after)) : prefix);
  while (at && *at && has_prefix(cursor.key(), prefix)) {
    auto id = decode_entity_id(cursor.key(), prefix.size());
    if (!id) return corrupt_record("set key");
    if (!fn(*id)) return Status::Ok();
    at = cursor.seek(after_prefix(entity_prefix(type, *id)));
  }
  if (!at) return at.error();
  return Status::Ok();
}

Status Store::list_sets(const std::string& type, const EntityId& id, const std::string& attachment,
                        const std::optional<uint32_t>& after,
                        const std::function<bool(uint32_t index)>& fn) {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  Cursor cursor(txn, txn.dbs().sets);
  if (!cursor.ok()) return cursor.error();
  Key prefix = attachment_prefix(type, id, attachment);
  Key start = prefix;
  if (after) {
    if (*after == UINT32_MAX) return Status::Ok();
    put_u32_be(start, *after + 1);
  }
  Result<bool> at = cursor.seek(start);
  while (at && *at && has_prefix(cursor.key(), prefix)) {
    if (cursor.key().size() != prefix.size() + 4) return corrupt_record("set key");
    if (!fn(decode_index(cursor.key()))) return Status::Ok();
    at = cursor.next();
  }
  if (!at) return at.error();
  return Status::Ok();
}

namespace {

Result<bool> any_with_prefix(StoreTxn& txn, MDB_dbi dbi, const Key& prefix) {
  Cursor cursor(txn, dbi);
  if (!cursor.ok()) return cursor.error();
  Result<bool> at = cursor.seek(prefix);
  if (!at) return at.error();
  return *at && has_prefix(cursor.key(), prefix);
}

}  // namespace

Result<bool> Store::has_sets(const std::string& type, const EntityId& id,
                             const std::string& attachment) {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  return any_with_prefix(txn, txn.dbs().sets, attachment_prefix(type, id, attachment));
}

Status Store::list_thumbnails(
    const ImageSetKey& set,
    const std::function<bool(const ThumbnailSpec&, const ThumbRecord&)>& fn) {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  Cursor cursor(txn, txn.dbs().thumbs);
  if (!cursor.ok()) return cursor.error();
  Key prefix = set_key(set);
  Result<bool> at = cursor.seek(prefix);
  while (at && *at && has_prefix(cursor.key(), prefix)) {
    auto spec = decode_thumbnail_spec(cursor.key());
    auto record = decode_record<ThumbRecord>(cursor.value());
    if (!spec || !record) return corrupt_record("thumbnail");
    if (!fn(*spec, *record)) return Status::Ok();
    at = cursor.next();
  }
  if (!at) return at.error();
  return Status::Ok();
}

Status Store::read_blob(const BlobId& id, uint64_t size, uint64_t offset, uint64_t length,
                        const BlobReadSink& sink) {
  return blobs_->read(id, size, offset, length, sink);
}

Result<bool> Store::has_blob(const BlobId& id) {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  auto found = txn.get(txn.dbs().blobs, id);
  if (!found) return found.error();
  return found->has_value();
}

Status Store::pin(const BlobId& id) {
  {
    std::lock_guard lock(pins_mutex_);
    ++pins_[id];
  }
  // A blob freed before the pin is gone from every transaction begun after it.
  auto held = has_blob(id);
  if (held && *held) return Status::Ok();
  unpin(id);
  if (!held) return held.error();
  return make_error(ErrorCode::kNotFound, "the file was replaced or removed");
}

void Store::unpin(const BlobId& id) {
  {
    std::lock_guard lock(pins_mutex_);
    auto it = pins_.find(id);
    if (it == pins_.end()) return;
    if (--it->second > 0) return;
    pins_.erase(it);
  }
  {
    StoreTxn txn(*env_, false);
    if (!txn.ok()) return;
    auto record = get_record<BlobRecord>(txn, txn.dbs().blobs, id);
    if (!record || !record->has_value() || (*record)->refs > 0) return;
  }
  // Last pin of an unreferenced blob: free it now (or at the next mount).
  (void)write([&](StoreTxn&) -> Status {
    pending_free_.assign(1, id);
    return Status::Ok();
  });
}

}  // namespace iafs
