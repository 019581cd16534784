// Consistent reads of many sets: Store::read_sets (one attachment, for
// index.json) and StoreSnapshot (the whole store, for export).
#include "store/store_snapshot.h"

#include "store/keys.h"
#include "store/lmdb_blob_store.h"
#include "store/records.h"
#include "store/store.h"

namespace iafs {
namespace {

Status read_thumbnails_in(StoreTxn& txn, StoredSet& set) {
  Cursor cursor(txn, txn.dbs().thumbs);
  if (!cursor.ok()) return cursor.error();
  Key prefix = set_key(set.key);
  Result<bool> at = cursor.seek(prefix);
  while (at && *at && has_prefix(cursor.key(), prefix)) {
    if (cursor.key().size() != prefix.size() + 6) return corrupt_record("thumbnail key");
    auto spec = decode_thumbnail_spec(cursor.key());
    auto record = decode_record<ThumbRecord>(cursor.value());
    if (!spec || !record) return corrupt_record("thumbnail");
    set.thumbnails.emplace_back(*spec, *record);
    at = cursor.next();
  }
  if (!at) return at.error();
  return Status::Ok();
}

}  // namespace

Status read_sets_in(StoreTxn& txn, std::span<const uint8_t> prefix,
                    const std::function<bool(StoredSet&&)>& fn) {
  Cursor cursor(txn, txn.dbs().sets);
  if (!cursor.ok()) return cursor.error();
  Result<bool> at = cursor.seek(prefix);
  while (at && *at && has_prefix(cursor.key(), prefix)) {
    auto key = decode_set_key(cursor.key());
    auto record = decode_record<SetRecord>(cursor.value());
    if (!key || !record) return corrupt_record("set");
    StoredSet set{std::move(*key), std::move(*record), {}};
    if (Status s = read_thumbnails_in(txn, set); !s) return s;
    if (!fn(std::move(set))) return Status::Ok();
    at = cursor.next();
  }
  if (!at) return at.error();
  return Status::Ok();
}

Result<std::vector<StoredSet>> Store::read_sets(const ImageSetKey& set, bool whole_attachment) {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  std::vector<StoredSet> sets;
  if (!whole_attachment) {
    auto record = get_record<SetRecord>(txn, txn.dbs().sets, set_key(set));
    if (!record) return record.error();
    if (!record->has_value()) return sets;
    StoredSet one{set, std::move(**record), {}};
    if (Status s = read_thumbnails_in(txn, one); !s) return s.error();
    sets.push_back(std::move(one));
    return sets;
  }
  Status read = read_sets_in(txn, attachment_prefix(set.type, set.id, set.attachment),
                             [&](StoredSet&& found) {
                               sets.push_back(std::move(found));
                               return true;
                             });
  if (!read) return read.error();
  return sets;
}

Result<std::unique_ptr<StoreSnapshot>> StoreSnapshot::open(const std::string& dir) {
  EnvOptions options;
  options.read_only = true;
  auto env = LmdbEnv::open(dir, options);
  if (!env) return env.error();
  std::unique_ptr<StoreSnapshot> snapshot(new StoreSnapshot(std::move(env).value()));
  snapshot->txn_ = std::make_unique<StoreTxn>(*snapshot->env_, false);
  if (!snapshot->txn_->ok()) return snapshot->txn_->error();
  return snapshot;
}

Result<bool> StoreSnapshot::on_bucket() {
  auto origin = log_origin_in(*txn_);
  if (!origin) return origin.error();
  return origin->has_value();
}

uint64_t StoreSnapshot::set_count() const {
  MDB_stat stat{};
  if (mdb_stat(txn_->txn(), txn_->dbs().sets, &stat) != 0) return 0;
  return stat.ms_entries;
}

Status StoreSnapshot::for_each_set(const std::function<bool(StoredSet&&)>& fn) {
  return read_sets_in(*txn_, {}, fn);
}

Status StoreSnapshot::read_blob(const BlobId& id, uint64_t size, uint64_t offset, uint64_t length,
                                const BlobReadSink& sink) {
  return LmdbBlobStore::read_in(*txn_, id, size, offset, length, sink);
}

}  // namespace iafs
