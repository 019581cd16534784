// Store: lookups, listing, blob reads and pins. Each call is one read
// transaction (DESIGN §5a: read transactions last one request).
#include "store/keys.h"
#include "store/records.h"
#include "store/store.h"

namespace iafs {
namespace {

Error corrupt(std::string_view what) {
  return make_error(ErrorCode::kIo, "corrupt record: " + std::string(what));
}

}  // namespace

Result<std::optional<SetRecord>> Store::get_set(const ImageSetKey& set) {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  auto found = txn.get(txn.dbs().sets, set_key(set));
  if (!found) return found.error();
  if (!found->has_value()) return std::optional<SetRecord>();
  auto record = decode_set(**found);
  if (!record) return corrupt("set");
  return std::optional<SetRecord>(std::move(record));
}

Result<std::optional<ThumbRecord>> Store::get_thumbnail(const ImageSetKey& set,
                                                        const ThumbnailSpec& spec) {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  auto found = txn.get(txn.dbs().thumbs, thumbnail_key(set, spec));
  if (!found) return found.error();
  if (!found->has_value()) return std::optional<ThumbRecord>();
  auto record = decode_thumb(**found);
  if (!record) return corrupt("thumbnail");
  return std::optional<ThumbRecord>(*record);
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
    if (!id) return corrupt("set key");
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
    if (cursor.key().size() != prefix.size() + 4) return corrupt("set key");
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

Result<bool> Store::has_entity(const std::string& type, const EntityId& id) {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  return any_with_prefix(txn, txn.dbs().sets, entity_prefix(type, id));
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
    auto record = decode_thumb(cursor.value());
    if (!spec || !record) return corrupt("thumbnail");
    if (!fn(*spec, *record)) return Status::Ok();
    at = cursor.next();
  }
  if (!at) return at.error();
  return Status::Ok();
}

Status Store::read_blob(const BlobId& id, uint64_t size, uint64_t offset, uint64_t length,
                        const BlobReadSink& sink) {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  return blobs_->read(txn, id, size, offset, length, sink);
}

Result<std::optional<BlobRecord>> Store::get_blob(const BlobId& id) {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  auto found = txn.get(txn.dbs().blobs, id);
  if (!found) return found.error();
  if (!found->has_value()) return std::optional<BlobRecord>();
  auto record = decode_blob(**found);
  if (!record) return corrupt("blob");
  return std::optional<BlobRecord>(*record);
}

Status Store::pin(const BlobId& id) {
  {
    std::lock_guard lock(pins_mutex_);
    ++pins_[id];
  }
  // A blob freed before the pin is gone from every transaction begun after it.
  auto blob = get_blob(id);
  if (blob && blob->has_value()) return Status::Ok();
  unpin(id);
  if (!blob) return blob.error();
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
  auto blob = get_blob(id);
  if (!blob || !blob->has_value() || (*blob)->refs > 0) return;
  // Last pin of an unreferenced blob: free it now (or at the next open).
  std::lock_guard writer(writer_mutex_);
  pending_free_.assign(1, id);
  StoreTxn txn(*env_, true);
  if (!txn.ok()) return;
  (void)commit(txn);
}

}  // namespace iafs
