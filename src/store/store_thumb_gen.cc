// Store: the generations of a bucket's thumbnail objects (SCALEOUT.md §3,
// §4 thumb_gen). rm thumb/NAME on a bucket's store is a DropThumb op in the
// log: where it applies, the object's generation becomes the entry's seq
// (every host then names it t/<orig>/<recipe>/<name>~<seq:020>, made anew),
// and the named set's copies of that name are dropped.
#include "imageattachfs/recipe.h"
#include "store/keys.h"
#include "store/records.h"
#include "store/store.h"

namespace iafs {

Result<uint64_t> Store::thumb_gen(const BlobId& original, std::string_view recipe,
                                  std::string_view name) {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  auto found = txn.get(txn.dbs().meta, thumb_gen_key(original, recipe, name));
  if (!found) return found.error();
  if (!found->has_value()) return uint64_t{0};
  if ((*found)->size() != 8) return corrupt_record("thumbnail generation");
  return get_u64_be((*found)->data());
}

Result<ApplyOutcome> Store::apply_drop_thumb(StoreTxn& txn, const DropThumb& op) {
  ApplyOutcome outcome;
  if (op.set) {
    // The remover saw the set hold these bytes: a set replaced since (on a
    // host that was behind) is not what it removed a thumbnail of.
    auto record = get_record<SetRecord>(txn, txn.dbs().sets, set_key(*op.set));
    if (!record) return record.error();
    if (!*record || (*record)->blob != op.original) {
      return make_error(ErrorCode::kNotFound, "the set's original is other bytes now");
    }
  } else {
    // Bytes the state does not hold have no thumbnails to name.
    auto blob = get_record<BlobRecord>(txn, txn.dbs().blobs, op.original);
    if (!blob) return blob.error();
    if (!*blob) return make_error(ErrorCode::kNotFound, "no original of these bytes");
  }
  // The entry's seq, as every host applies it (a store of its own: none).
  uint64_t seq = logged_revision_ >> 16;
  if (seq != 0) {
    Key key = thumb_gen_key(op.original, op.recipe, op.name);
    auto before = txn.get(txn.dbs().meta, key);
    if (!before) return before.error();
    outcome.ended_generation =
        before->has_value() && (*before)->size() == 8 ? get_u64_be((*before)->data()) : 0;
    Key value;
    put_u64_be(value, seq);
    if (Status s = txn.put(txn.dbs().meta, key, value); !s) return s.error();
    outcome.changed = true;
  }
  if (!op.set) return outcome;
  Status dropped =
      drop_thumbnails(txn, *op.set, &outcome.dropped_thumbnails,
                      [&](const ThumbnailSpec& spec) { return thumbnail_name(spec) == op.name; });
  if (!dropped) return dropped.error();
  if (!outcome.dropped_thumbnails.empty()) outcome.changed = true;
  return outcome;
}

}  // namespace iafs
