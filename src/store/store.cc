// Store: opening, applying ops, reference counts. Reads and listing are in
// store_read.cc.
#include "store/store.h"

#include "store/hashing.h"
#include "store/keys.h"
#include "store/lmdb_blob_store.h"
#include "store/records.h"

namespace iafs {
namespace {

const uint8_t kRevisionKey[] = {'r', 'e', 'v', 'i', 's', 'i', 'o', 'n'};

Error corrupt(std::string_view what) {
  return make_error(ErrorCode::kIo, "corrupt record: " + std::string(what));
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::string& dir, const StoreOptions& options) {
  EnvOptions env_options;
  env_options.map_size = options.map_size;
  env_options.nometasync = options.nometasync;
  auto env = LmdbEnv::open(dir, env_options);
  if (!env) return env.error();
  std::unique_ptr<Store> store(
      new Store(std::move(env).value(), std::make_unique<LmdbBlobStore>()));
  if (Status s = store->collect_garbage(); !s) return s.error();
  return store;
}

Result<uint64_t> Store::next_revision(StoreTxn& txn) {
  auto current = txn.get(txn.dbs().meta, kRevisionKey);
  if (!current) return current.error();
  uint64_t revision =
      current->has_value() && (*current)->size() == 8 ? get_u64_be((*current)->data()) + 1 : 1;
  Key value;
  put_u64_be(value, revision);
  if (Status s = txn.put(txn.dbs().meta, kRevisionKey, value); !s) return s.error();
  return revision;
}

Status Store::add_ref(StoreTxn& txn, const BlobId& id, uint64_t size, uint64_t xxh3,
                      std::span<const uint8_t> bytes) {
  auto found = txn.get(txn.dbs().blobs, id);
  if (!found) return found.error();
  BlobRecord record;
  if (found->has_value()) {
    auto decoded = decode_blob(**found);
    if (!decoded) return corrupt("blob " + blob_id_hex(id));
    record = *decoded;
  } else {
    if (Status s = blobs_->put(txn, id, bytes); !s) return s;
    record.size = size;
    record.xxh3 = xxh3;
  }
  ++record.refs;
  return txn.put(txn.dbs().blobs, id, encode_blob(record));
}

// Decrements; a blob left at 0 is freed at commit unless pinned (see commit()).
Status Store::drop_ref(StoreTxn& txn, const BlobId& id) {
  auto found = txn.get(txn.dbs().blobs, id);
  if (!found) return found.error();
  if (!found->has_value()) return corrupt("missing blob " + blob_id_hex(id));
  auto record = decode_blob(**found);
  if (!record) return corrupt("blob " + blob_id_hex(id));
  if (record->refs > 0) --record->refs;
  if (record->refs == 0) pending_free_.push_back(id);
  return txn.put(txn.dbs().blobs, id, encode_blob(*record));
}

Status Store::free_unreferenced(StoreTxn& txn, const BlobId& id) {
  auto found = txn.get(txn.dbs().blobs, id);
  if (!found) return found.error();
  if (!found->has_value()) return Status::Ok();
  auto record = decode_blob(**found);
  if (!record) return corrupt("blob " + blob_id_hex(id));
  if (record->refs > 0 || pins_.count(id) > 0) return Status::Ok();
  if (Status s = blobs_->remove(txn, id, record->size); !s) return s;
  return txn.del(txn.dbs().blobs, id);
}

// Frees what the transaction left unreferenced and not pinned, then commits,
// holding the pins lock so that no file pins a blob between the two.
Status Store::commit(StoreTxn& txn) {
  // Most commits free nothing: they need not hold up files being opened.
  if (pending_free_.empty()) return txn.commit();
  std::lock_guard lock(pins_mutex_);
  for (const BlobId& id : pending_free_) {
    if (Status s = free_unreferenced(txn, id); !s) return s;
  }
  pending_free_.clear();
  return txn.commit();
}

Status Store::drop_thumbnails(StoreTxn& txn, const ImageSetKey& set,
                              std::vector<ThumbnailSpec>* dropped) {
  Key prefix = set_key(set);
  Cursor cursor(txn, txn.dbs().thumbs);
  if (!cursor.ok()) return cursor.error();
  auto at = cursor.seek(prefix);
  while (at && *at && has_prefix(cursor.key(), prefix)) {
    auto spec = decode_thumbnail_spec(cursor.key());
    auto record = decode_thumb(cursor.value());
    if (!spec || !record) return corrupt("thumbnail");
    if (dropped != nullptr) dropped->push_back(*spec);
    if (Status s = drop_ref(txn, record->blob); !s) return s;
    if (Status s = cursor.del(); !s) return s;
    at = cursor.seek(prefix);
  }
  if (!at) return at.error();
  return Status::Ok();
}

Result<ApplyOutcome> Store::apply(const Op& op, std::span<const uint8_t> blob_bytes) {
  std::lock_guard writer(writer_mutex_);
  pending_free_.clear();
  StoreTxn txn(*env_, true);
  if (!txn.ok()) return txn.error();
  Result<ApplyOutcome> outcome = std::visit(
      [&](const auto& change) -> Result<ApplyOutcome> {
        using T = std::decay_t<decltype(change)>;
        if constexpr (std::is_same_v<T, AttachOriginal>) {
          return apply_attach(txn, change, op.time_ns, blob_bytes);
        } else if constexpr (std::is_same_v<T, RemoveSet>) {
          return apply_remove(txn, change);
        } else if constexpr (std::is_same_v<T, MoveSet>) {
          return apply_move(txn, change);
        } else {
          return apply_mtime(txn, change);
        }
      },
      op.change);
  if (!outcome || !outcome->changed) return outcome;
  if (Status s = commit(txn); !s) return s.error();
  return outcome;
}

Result<ApplyOutcome> Store::apply_attach(StoreTxn& txn, const AttachOriginal& op, int64_t time_ns,
                                         std::span<const uint8_t> bytes) {
  Key key = set_key(op.set);
  auto found = txn.get(txn.dbs().sets, key);
  if (!found) return found.error();
  ApplyOutcome outcome;
  if (found->has_value()) {
    outcome.before = decode_set(**found);
    if (!outcome.before) return corrupt("set");
  }
  SetRecord record;
  if (outcome.before && outcome.before->blob == op.blob) {
    // The same bytes: only the extension as written may change.
    record = *outcome.before;
    outcome.after = record;
    if (record.ext == op.ext) return outcome;
    record.ext = op.ext;
  } else {
    if (Status s = add_ref(txn, op.blob, op.size, op.xxh3, bytes); !s) return s.error();
    if (outcome.before) {
      if (Status s = drop_thumbnails(txn, op.set, &outcome.dropped_thumbnails); !s) {
        return s.error();
      }
      if (Status s = drop_ref(txn, outcome.before->blob); !s) return s.error();
    }
    auto revision = next_revision(txn);
    if (!revision) return revision.error();
    record.blob = op.blob;
    record.size = op.size;
    record.format = op.format;
    record.ext = op.ext;
    record.width = op.width;
    record.height = op.height;
    record.created_ns = time_ns;
    record.mtime_ns = op.mtime_ns != 0 ? op.mtime_ns : time_ns;
    record.revision = *revision;
  }
  if (Status s = txn.put(txn.dbs().sets, key, encode_set(record)); !s) return s.error();
  outcome.changed = true;
  outcome.after = record;
  return outcome;
}

Result<ApplyOutcome> Store::apply_remove(StoreTxn& txn, const RemoveSet& op) {
  Key key = set_key(op.set);
  auto found = txn.get(txn.dbs().sets, key);
  if (!found) return found.error();
  if (!found->has_value()) return make_error(ErrorCode::kNotFound, "no original in this set");
  ApplyOutcome outcome;
  outcome.before = decode_set(**found);
  if (!outcome.before) return corrupt("set");
  if (Status s = drop_thumbnails(txn, op.set, &outcome.dropped_thumbnails); !s) return s.error();
  if (Status s = drop_ref(txn, outcome.before->blob); !s) return s.error();
  if (Status s = txn.del(txn.dbs().sets, key); !s) return s.error();
  outcome.changed = true;
  return outcome;
}

Result<ApplyOutcome> Store::apply_move(StoreTxn& txn, const MoveSet& op) {
  Key from = set_key(op.from);
  Key to = set_key(op.to);
  auto source = txn.get(txn.dbs().sets, from);
  if (!source) return source.error();
  if (!source->has_value()) return make_error(ErrorCode::kNotFound, "no original to move");
  auto target = txn.get(txn.dbs().sets, to);
  if (!target) return target.error();
  if (target->has_value()) return make_error(ErrorCode::kNotEmpty, "the target holds an original");
  std::vector<uint8_t> record((*source)->begin(), (*source)->end());
  if (Status s = txn.put(txn.dbs().sets, to, record); !s) return s.error();
  if (Status s = txn.del(txn.dbs().sets, from); !s) return s.error();

  ApplyOutcome outcome;
  Cursor cursor(txn, txn.dbs().thumbs);
  if (!cursor.ok()) return cursor.error();
  auto at = cursor.seek(from);
  while (at && *at && has_prefix(cursor.key(), from)) {
    auto spec = decode_thumbnail_spec(cursor.key());
    if (!spec) return corrupt("thumbnail");
    std::vector<uint8_t> value(cursor.value().begin(), cursor.value().end());
    outcome.dropped_thumbnails.push_back(*spec);
    if (Status s = cursor.del(); !s) return s.error();
    if (Status s = txn.put(txn.dbs().thumbs, thumbnail_key(op.to, *spec), value); !s) {
      return s.error();
    }
    at = cursor.seek(from);
  }
  if (!at) return at.error();
  outcome.changed = true;
  return outcome;
}

Result<ApplyOutcome> Store::apply_mtime(StoreTxn& txn, const SetMtime& op) {
  Key key = set_key(op.set);
  auto found = txn.get(txn.dbs().sets, key);
  if (!found) return found.error();
  if (!found->has_value()) return make_error(ErrorCode::kNotFound, "no original in this set");
  auto record = decode_set(**found);
  if (!record) return corrupt("set");
  ApplyOutcome outcome;
  outcome.before = record;
  record->mtime_ns = op.mtime_ns;
  if (Status s = txn.put(txn.dbs().sets, key, encode_set(*record)); !s) return s.error();
  outcome.changed = true;
  outcome.after = record;
  return outcome;
}

Result<ThumbRecord> Store::put_thumbnail(const ImageSetKey& set, const ThumbnailSpec& spec,
                                         const BlobId& source, std::span<const uint8_t> bytes,
                                         uint32_t width, uint32_t height, int64_t now_ns) {
  std::lock_guard writer(writer_mutex_);
  pending_free_.clear();
  StoreTxn txn(*env_, true);
  if (!txn.ok()) return txn.error();
  auto original = txn.get(txn.dbs().sets, set_key(set));
  if (!original) return original.error();
  std::optional<SetRecord> record;
  if (original->has_value()) record = decode_set(**original);
  if (!record || record->blob != source) {
    return make_error(ErrorCode::kNotFound, "the original changed while its thumbnail was made");
  }
  Key key = thumbnail_key(set, spec);
  auto existing = txn.get(txn.dbs().thumbs, key);
  if (!existing) return existing.error();
  if (existing->has_value()) {
    auto thumb = decode_thumb(**existing);
    if (!thumb) return corrupt("thumbnail");
    return *thumb;
  }
  ThumbRecord thumb;
  thumb.blob = sha256_of(bytes);
  thumb.size = bytes.size();
  thumb.width = width;
  thumb.height = height;
  thumb.created_ns = now_ns;
  thumb.source = source;
  auto revision = next_revision(txn);
  if (!revision) return revision.error();
  thumb.revision = *revision;
  if (Status s = add_ref(txn, thumb.blob, thumb.size, xxh3_of(bytes), bytes); !s) return s.error();
  if (Status s = txn.put(txn.dbs().thumbs, key, encode_thumb(thumb)); !s) return s.error();
  if (Status s = commit(txn); !s) return s.error();
  return thumb;
}

Status Store::remove_thumbnail(const ImageSetKey& set, const ThumbnailSpec& spec) {
  std::lock_guard writer(writer_mutex_);
  pending_free_.clear();
  StoreTxn txn(*env_, true);
  if (!txn.ok()) return txn.error();
  Key key = thumbnail_key(set, spec);
  auto existing = txn.get(txn.dbs().thumbs, key);
  if (!existing) return existing.error();
  if (!existing->has_value()) return make_error(ErrorCode::kNotFound, "no such thumbnail");
  auto thumb = decode_thumb(**existing);
  if (!thumb) return corrupt("thumbnail");
  if (Status s = drop_ref(txn, thumb->blob); !s) return s;
  if (Status s = txn.del(txn.dbs().thumbs, key); !s) return s;
  return commit(txn);
}

// Frees every blob left at 0 references (by files still open at the last stop).
Status Store::collect_garbage() {
  std::lock_guard writer(writer_mutex_);
  pending_free_.clear();
  StoreTxn txn(*env_, true);
  if (!txn.ok()) return txn.error();
  {
    Cursor cursor(txn, txn.dbs().blobs);
    if (!cursor.ok()) return cursor.error();
    auto at = cursor.seek({});
    while (at && *at) {
      auto record = decode_blob(cursor.value());
      if (record && record->refs == 0) {
        BlobId id;
        std::copy(cursor.key().begin(), cursor.key().end(), id.begin());
        pending_free_.push_back(id);
      }
      at = cursor.next();
    }
    if (!at) return at.error();
  }
  if (pending_free_.empty()) return Status::Ok();
  return commit(txn);
}

}  // namespace iafs
