// Store: applying each kind of Op within its write transaction.
#include "store/keys.h"
#include "store/records.h"
#include "store/store.h"

namespace iafs {

Result<ApplyOutcome> Store::apply_attach(StoreTxn& txn, const AttachOriginal& op, int64_t time_ns,
                                         const BlobSource* bytes) {
  Key key = set_key(op.set);
  auto before = get_record<SetRecord>(txn, txn.dbs().sets, key);
  if (!before) return before.error();
  ApplyOutcome outcome;
  outcome.before = *before;
  SetRecord record;
  if (outcome.before && outcome.before->blob == op.blob) {
    // The same bytes: only the extension as written, a restored created_at
    // and a restored focus may change.
    record = *outcome.before;
    outcome.after = record;
    bool same_created = op.created_ns == 0 || op.created_ns == record.created_ns;
    bool same_focus = !op.focus || op.focus == record.focus;
    if (record.ext == op.ext && same_created && same_focus) return outcome;
    record.ext = op.ext;
    if (op.created_ns != 0) record.created_ns = op.created_ns;
    if (!same_focus) {
      record.focus = op.focus;
      if (Status s = drop_cover_thumbnails(txn, op.set, outcome); !s) return s.error();
    }
  } else {
    if (Status s = add_ref(txn, op.blob, op.size, op.xxh3, bytes); !s) return s.error();
    if (outcome.before) {
      if (Status s = drop_thumbnails(txn, op.set, &outcome.dropped_thumbnails); !s) {
        return s.error();
      }
      if (Status s = drop_ref(txn, outcome.before->blob); !s) return s.error();
      count_original(-1, outcome.before->size);
    }
    count_original(+1, op.size);
    auto revision = next_revision(txn);
    if (!revision) return revision.error();
    record.blob = op.blob;
    record.size = op.size;
    record.format = op.format;
    record.ext = op.ext;
    record.width = op.width;
    record.height = op.height;
    record.created_ns = op.created_ns != 0 ? op.created_ns : time_ns;
    record.mtime_ns = op.mtime_ns != 0 ? op.mtime_ns : time_ns;
    record.revision = *revision;
    record.focus = op.focus;  // a new image: the old focus is not its own
    record.color = op.color;
    record.blurhash = op.blurhash;
  }
  if (Status s = txn.put(txn.dbs().sets, key, encode_record(record)); !s) return s.error();
  outcome.changed = true;
  outcome.after = record;
  return outcome;
}

Result<ApplyOutcome> Store::apply_remove(StoreTxn& txn, const RemoveSet& op) {
  Key key = set_key(op.set);
  auto before = get_record<SetRecord>(txn, txn.dbs().sets, key);
  if (!before) return before.error();
  if (!before->has_value()) return make_error(ErrorCode::kNotFound, "no original in this set");
  if (op.ext && (*before)->ext != *op.ext) {
    return make_error(ErrorCode::kNotFound, "the set's original is original." + (*before)->ext);
  }
  ApplyOutcome outcome;
  outcome.before = *before;
  if (Status s = drop_thumbnails(txn, op.set, &outcome.dropped_thumbnails); !s) return s.error();
  if (Status s = drop_ref(txn, outcome.before->blob); !s) return s.error();
  count_original(-1, outcome.before->size);
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
    if (!spec) return make_error(ErrorCode::kIo, "corrupt record: thumbnail key");
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

namespace {

// Changes one field of a set's record in place (kNotFound without one):
// `set_field` sets it and says whether that changed anything.
template <typename SetField>
Result<ApplyOutcome> change_set_record(StoreTxn& txn, const ImageSetKey& set, SetField set_field) {
  Key key = set_key(set);
  auto record = get_record<SetRecord>(txn, txn.dbs().sets, key);
  if (!record) return record.error();
  if (!record->has_value()) return make_error(ErrorCode::kNotFound, "no original in this set");
  ApplyOutcome outcome;
  outcome.before = *record;
  outcome.after = **record;
  if (!set_field(*outcome.after)) return outcome;
  if (Status s = txn.put(txn.dbs().sets, key, encode_record(*outcome.after)); !s) return s.error();
  outcome.changed = true;
  return outcome;
}

}  // namespace

// Always a change (a write), as before: utimens of the same time too.
Result<ApplyOutcome> Store::apply_mtime(StoreTxn& txn, const SetMtime& op) {
  return change_set_record(txn, op.set, [&](SetRecord& r) {
    r.mtime_ns = op.mtime_ns;
    return true;
  });
}

// Attention and entropy crops do not look at the focus.
Status Store::drop_cover_thumbnails(StoreTxn& txn, const ImageSetKey& set, ApplyOutcome& outcome) {
  return drop_thumbnails(txn, set, &outcome.dropped_thumbnails,
                         [](const ThumbnailSpec& spec) { return spec.fit == ThumbFit::kCover; });
}

Result<ApplyOutcome> Store::apply_focus(StoreTxn& txn, const SetFocus& op) {
  auto outcome = change_set_record(txn, op.set, [&](SetRecord& r) {
    if (r.focus == op.focus) return false;
    r.focus = op.focus;
    return true;
  });
  if (!outcome || !outcome->changed) return outcome;
  if (Status s = drop_cover_thumbnails(txn, op.set, *outcome); !s) return s.error();
  return outcome;
}

Result<ApplyOutcome> Store::apply_created(StoreTxn& txn, const SetCreated& op) {
  return change_set_record(txn, op.set, [&](SetRecord& r) {
    if (r.created_ns == op.created_ns) return false;
    r.created_ns = op.created_ns;
    return true;
  });
}

Result<ApplyOutcome> Store::apply_dir_mtime(StoreTxn& txn, const SetDirMtime& op) {
  Key value;
  put_u64_be(value, static_cast<uint64_t>(op.mtime_ns));
  if (Status s = txn.put(txn.dbs().meta, dir_mtime_key(op.dir), value); !s) return s.error();
  ApplyOutcome outcome;
  outcome.changed = true;
  return outcome;
}

}  // namespace iafs
