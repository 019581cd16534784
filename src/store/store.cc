// Store: opening, applying ops, reference counts. Reads and listing are in
// store_read.cc.
#include "store/store.h"

#include <algorithm>
#include <set>

#include "log/log.h"
#include "store/hashing.h"
#include "store/keys.h"
#include "store/lmdb_blob_store.h"
#include "store/records.h"

namespace iafs {
namespace {

const uint8_t kRevisionKey[] = {'r', 'e', 'v', 'i', 's', 'i', 'o', 'n'};

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::string& dir, const StoreOptions& options) {
  EnvOptions env_options;
  env_options.map_size = options.map_size;
  env_options.max_readers = options.max_readers;
  env_options.nometasync = options.nometasync;
  env_options.read_only = options.read_only;
  env_options.no_lock = options.read_only;
  auto env = LmdbEnv::open(dir, env_options);
  if (!env) return env.error();
  auto blobs = std::make_unique<LmdbBlobStore>(**env);
  std::unique_ptr<Store> store(
      new Store(std::move(env).value(), std::move(blobs), options.read_only));
  if (options.read_only) return store;  // blobs left unreferenced stay until a writable mount
  if (Status s = store->collect_garbage(); !s) return s.error();
  if (Status s = store->ensure_totals(); !s) return s.error();
  return store;
}

Result<uint64_t> Store::next_revision(StoreTxn& txn) {
  auto current = txn.get(txn.dbs().meta, kRevisionKey);
  if (!current) return current.error();
  uint64_t revision =
      current->has_value() && (*current)->size() == 8 ? get_u64_be((*current)->data()) + 1 : 1;
  // An op of a log entry takes the entry's: local thumbnails count on from it.
  if (logged_revision_ != 0) revision = std::max(revision, logged_revision_);
  Key value;
  put_u64_be(value, revision);
  if (Status s = txn.put(txn.dbs().meta, kRevisionKey, value); !s) return s.error();
  return logged_revision_ != 0 ? logged_revision_ : revision;
}

Status Store::add_ref(StoreTxn& txn, const BlobId& id, uint64_t size, uint64_t xxh3,
                      const BlobSource* bytes) {
  auto found = get_record<BlobRecord>(txn, txn.dbs().blobs, id);
  if (!found) return found.error();
  BlobRecord record;
  if (found->has_value()) {
    record = **found;
    if (bytes != nullptr && record.cached) {
      if (Status s = verify_stored(txn, id, record.size, *bytes); !s) return s;
    } else if (bytes != nullptr) {
      // Over any ranges it holds: all its bytes, checked.
      if (Status s = blobs_->put(txn, id, *bytes); !s) return s;
      count_cached(-1, record.partial);
      count_cached(+1, bytes->size());
      record.cached = true;
      record.partial = 0;
    }
    record.size = size;
    record.xxh3 = xxh3;
  } else {
    if (bytes != nullptr) {
      if (Status s = blobs_->put(txn, id, *bytes); !s) return s;
      count_cached(+1, bytes->size());
    }
    record.size = size;
    record.xxh3 = xxh3;
    record.cached = bytes != nullptr;
  }
  ++record.refs;
  return txn.put(txn.dbs().blobs, id, encode_record(record));
}

// A deduplicated commit trusts no stored bytes it has not compared with bytes
// known to hash to `id`: stored bytes that differ are replaced.
Status Store::verify_stored(StoreTxn& txn, const BlobId& id, uint64_t stored_size,
                            const BlobSource& bytes) {
  bool same = stored_size == bytes.size();
  // A window at a time: a large original is not held twice for this.
  constexpr uint64_t kWindow = uint64_t{1} << 20;
  std::vector<uint8_t> mine;
  for (uint64_t at = 0; same && at < stored_size; at += kWindow) {
    mine.resize(std::min(kWindow, stored_size - at));
    if (Status s = bytes.read(at, mine); !s) return s;
    uint64_t got = 0;
    Status read = blobs_->read(id, stored_size, at, mine.size(), [&](auto pieces) {
      for (auto piece : pieces) {
        if (!std::equal(piece.begin(), piece.end(), mine.begin() + static_cast<ptrdiff_t>(got))) {
          same = false;
        }
        got += piece.size();
      }
    });
    same = same && read && got == mine.size();
  }
  if (same) return Status::Ok();
  log_error("blob " + blob_id_hex(id) + ": stored bytes differ from their id; replaced");
  if (Status s = blobs_->remove(txn, id, stored_size); !s) return s;
  dropping(id);
  count_cached(-1, stored_size);
  count_cached(+1, bytes.size());
  return blobs_->put(txn, id, bytes);
}

// Decrements; a blob left at 0 is freed at commit unless pinned (see commit()).
Status Store::drop_ref(StoreTxn& txn, const BlobId& id) {
  auto record = get_record<BlobRecord>(txn, txn.dbs().blobs, id);
  if (!record) return record.error();
  if (!record->has_value()) return corrupt_record("missing blob " + blob_id_hex(id));
  BlobRecord changed = **record;
  if (changed.refs > 0) --changed.refs;
  if (changed.refs == 0) pending_free_.push_back(id);
  return txn.put(txn.dbs().blobs, id, encode_record(changed));
}

Status Store::free_unreferenced(StoreTxn& txn, const BlobId& id) {
  auto record = get_record<BlobRecord>(txn, txn.dbs().blobs, id);
  if (!record) return record.error();
  if (!record->has_value()) return Status::Ok();
  if ((*record)->refs > 0 || pins_.count(id) > 0) return Status::Ok();
  count_cached(-1, held_bytes(**record));
  if (Status s = blobs_->remove(txn, id, (*record)->size); !s) return s;
  dropping(id);
  return txn.del(txn.dbs().blobs, id);
}

// Frees what the transaction left unreferenced and not pinned, then commits,
// holding the pins lock so that no file pins a blob between the two.
Status Store::commit(StoreTxn& txn) {
  if (Status s = write_totals(txn); !s) return s;
  // Most commits free nothing: they need not hold up files being opened.
  if (pending_free_.empty()) {
    if (Status s = write_cached(txn); !s) return s;
    return txn.commit();
  }
  std::lock_guard lock(pins_mutex_);
  for (const BlobId& id : pending_free_) {
    if (Status s = free_unreferenced(txn, id); !s) return s;
  }
  pending_free_.clear();
  if (Status s = write_cached(txn); !s) return s;
  return txn.commit();
}

Status Store::drop_thumbnails(StoreTxn& txn, const ImageSetKey& set,
                              std::vector<ThumbnailSpec>* dropped,
                              const std::function<bool(const ThumbnailSpec&)>& which) {
  Key prefix = set_key(set);
  Cursor cursor(txn, txn.dbs().thumbs);
  if (!cursor.ok()) return cursor.error();
  auto at = cursor.seek(prefix);
  while (at && *at && has_prefix(cursor.key(), prefix)) {
    auto spec = decode_thumbnail_spec(cursor.key());
    auto record = decode_record<ThumbRecord>(cursor.value());
    if (!spec || !record) return corrupt_record("thumbnail");
    if (which && !which(*spec)) {
      at = cursor.next();
      continue;
    }
    if (dropped != nullptr) dropped->push_back(*spec);
    count_thumbnail(-1, record->size);
    if (Status s = drop_ref(txn, record->blob); !s) return s;
    Key here(cursor.key().begin(), cursor.key().end());
    if (Status s = cursor.del(); !s) return s;
    at = cursor.seek(here);  // the next key, if any
  }
  if (!at) return at.error();
  return Status::Ok();
}

Result<ApplyOutcome> Store::apply_in(StoreTxn& txn, const Op& op, const BlobSource* blob_bytes) {
  return std::visit(
      [&](const auto& change) -> Result<ApplyOutcome> {
        using T = std::decay_t<decltype(change)>;
        if constexpr (std::is_same_v<T, AttachOriginal>) {
          return apply_attach(txn, change, op.time_ns, blob_bytes);
        } else if constexpr (std::is_same_v<T, RemoveSet>) {
          return apply_remove(txn, change);
        } else if constexpr (std::is_same_v<T, MoveSet>) {
          return apply_move(txn, change);
        } else if constexpr (std::is_same_v<T, SetMtime>) {
          return apply_mtime(txn, change);
        } else if constexpr (std::is_same_v<T, SetCreated>) {
          return apply_created(txn, change);
        } else if constexpr (std::is_same_v<T, SetFocus>) {
          return apply_focus(txn, change);
        } else if constexpr (std::is_same_v<T, SetDirMtime>) {
          return apply_dir_mtime(txn, change);
        } else {
          return apply_drop_thumb(txn, change);
        }
      },
      op.change);
}

Result<ApplyOutcome> Store::apply(const Op& op, const BlobSource& blob_bytes) {
  return write([&](StoreTxn& txn) { return apply_in(txn, op, &blob_bytes); });
}

Result<std::vector<ApplyOutcome>> Store::apply_all(
    std::span<const Op> ops, std::span<const std::span<const uint8_t>> blob_bytes) {
  if (blob_bytes.size() != ops.size()) {
    return make_error(ErrorCode::kInvalid, "apply_all: one blob span per op");
  }
  std::set<BlobId> blobs;
  for (const Op& op : ops) {
    const auto* attach = std::get_if<AttachOriginal>(&op.change);
    if (attach != nullptr && !blobs.insert(attach->blob).second) {
      return make_error(ErrorCode::kInvalid, "apply_all: blob " + blob_id_hex(attach->blob) +
                                                 " carried twice in one transaction");
    }
  }
  return write([&](StoreTxn& txn) -> Result<std::vector<ApplyOutcome>> {
    std::vector<ApplyOutcome> outcomes;
    outcomes.reserve(ops.size());
    for (size_t i = 0; i < ops.size(); ++i) {
      SpanSource bytes(blob_bytes[i]);
      auto outcome = apply_in(txn, ops[i], &bytes);
      if (!outcome) return outcome.error();
      outcomes.push_back(std::move(outcome).value());
    }
    return outcomes;
  });
}

Result<ThumbRecord> Store::put_thumbnail(const ImageSetKey& set, const ThumbnailSpec& spec,
                                         const BlobId& source, std::span<const uint8_t> bytes,
                                         uint32_t width, uint32_t height, int64_t now_ns,
                                         bool* stored, const std::optional<FocalPoint>& focus) {
  if (stored != nullptr) *stored = false;
  return write([&](StoreTxn& txn) -> Result<ThumbRecord> {
    auto original = get_record<SetRecord>(txn, txn.dbs().sets, set_key(set));
    if (!original) return original.error();
    if (!original->has_value() || (*original)->blob != source) {
      return make_error(ErrorCode::kNotFound, "the original changed while its thumbnail was made");
    }
    if (spec.fit == ThumbFit::kCover && (*original)->focus != focus) {
      return make_error(ErrorCode::kNotFound, "the focal point moved while its thumbnail was made");
    }
    Key key = thumbnail_key(set, spec);
    auto existing = get_record<ThumbRecord>(txn, txn.dbs().thumbs, key);
    if (!existing) return existing.error();
    if (existing->has_value()) return **existing;
    ThumbRecord thumb;
    thumb.blob = sha256_of(bytes);
    thumb.size = bytes.size();
    thumb.width = width;
    thumb.height = height;
    thumb.created_ns = now_ns;
    thumb.used_ns = now_ns;
    thumb.source = source;
    auto revision = next_revision(txn);
    if (!revision) return revision.error();
    thumb.revision = *revision;
    SpanSource thumb_bytes(bytes);
    if (Status s = add_ref(txn, thumb.blob, thumb.size, xxh3_of(bytes), &thumb_bytes); !s) {
      return s.error();
    }
    if (Status s = txn.put(txn.dbs().thumbs, key, encode_record(thumb)); !s) return s.error();
    count_thumbnail(+1, thumb.size);
    if (stored != nullptr) *stored = true;
    return thumb;
  });
}

Status Store::remove_thumbnail(const ImageSetKey& set, const ThumbnailSpec& spec) {
  return write([&](StoreTxn& txn) -> Status {
    Key key = thumbnail_key(set, spec);
    auto thumb = get_record<ThumbRecord>(txn, txn.dbs().thumbs, key);
    if (!thumb) return thumb.error();
    if (!thumb->has_value()) return make_error(ErrorCode::kNotFound, "no such thumbnail");
    if (Status s = drop_ref(txn, (*thumb)->blob); !s) return s;
    count_thumbnail(-1, (*thumb)->size);
    return txn.del(txn.dbs().thumbs, key);
  });
}

// Frees every blob left at 0 references (by files still open at the last stop).
Status Store::collect_garbage() {
  return write([&](StoreTxn& txn) -> Status {
    Cursor cursor(txn, txn.dbs().blobs);
    if (!cursor.ok()) return cursor.error();
    auto at = cursor.seek({});
    while (at && *at) {
      auto record = decode_record<BlobRecord>(cursor.value());
      if (record && record->refs == 0 && cursor.key().size() == BlobId().size()) {
        BlobId id;
        std::copy(cursor.key().begin(), cursor.key().end(), id.begin());
        pending_free_.push_back(id);
      }
      at = cursor.next();
    }
    if (!at) return at.error();
    return Status::Ok();
  });
}

}  // namespace iafs
