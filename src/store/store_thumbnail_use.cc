// Store: thumbnails' last use and their eviction (-o thumb_budget, gc
// --budget). Eviction is remove_thumbnail for many at once: a thumbnail is
// this host's cache (DESIGN §5a), so it changes no Op.
#include "store/keys.h"
#include "store/records.h"
#include "store/store.h"

namespace iafs {

Status Store::scan_thumbnails(
    const std::function<bool(const ThumbnailRef&, const ThumbRecord&)>& fn) {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  Cursor cursor(txn, txn.dbs().thumbs);
  if (!cursor.ok()) return cursor.error();
  Result<bool> at = cursor.seek({});
  for (; at && *at; at = cursor.next()) {
    auto set = decode_set_key(cursor.key(), true);
    auto spec = decode_thumbnail_spec(cursor.key());
    auto record = decode_record<ThumbRecord>(cursor.value());
    if (!set || !spec || !record) return corrupt_record("thumbnail");
    if (!fn(ThumbnailRef{std::move(*set), *spec, record->revision, record->size}, *record)) {
      return Status::Ok();
    }
  }
  if (!at) return at.error();
  return Status::Ok();
}

Result<std::vector<ThumbnailRef>> Store::evict_thumbnails(std::span<const ThumbnailRef> refs) {
  return write([&](StoreTxn& txn) -> Result<std::vector<ThumbnailRef>> {
    std::vector<ThumbnailRef> dropped;
    for (const ThumbnailRef& ref : refs) {
      Key key = thumbnail_key(ref.set, ref.spec);
      auto thumb = get_record<ThumbRecord>(txn, txn.dbs().thumbs, key);
      if (!thumb) return thumb.error();
      if (!thumb->has_value() || (*thumb)->revision != ref.revision) continue;
      if (Status s = drop_ref(txn, (*thumb)->blob); !s) return s.error();
      count_thumbnail(-1, (*thumb)->size);
      if (Status s = txn.del(txn.dbs().thumbs, key); !s) return s.error();
      ThumbnailRef gone = ref;
      gone.size = (*thumb)->size;
      dropped.push_back(std::move(gone));
    }
    return dropped;
  });
}

Status Store::record_thumbnail_use(std::span<const std::pair<ThumbnailRef, int64_t>> uses,
                                   int64_t min_step_ns) {
  if (uses.empty()) return Status::Ok();
  return write([&](StoreTxn& txn) -> Status {
    for (const auto& [ref, used_ns] : uses) {
      Key key = thumbnail_key(ref.set, ref.spec);
      auto thumb = get_record<ThumbRecord>(txn, txn.dbs().thumbs, key);
      if (!thumb) return thumb.error();
      if (!thumb->has_value() || (*thumb)->revision != ref.revision) continue;
      if (used_ns - (*thumb)->used_ns < min_step_ns || used_ns <= (*thumb)->used_ns) continue;
      ThumbRecord changed = **thumb;
      changed.used_ns = used_ns;
      if (Status s = txn.put(txn.dbs().thumbs, key, encode_record(changed)); !s) return s;
    }
    return Status::Ok();
  });
}

}  // namespace iafs
