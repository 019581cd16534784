// Store: garbage collection across hosts (SCALEOUT.md §9), the derived
// state log entries make: under `meta`, "gc-c"+sha (condemned), "gc-s"+sha
// (sweeping), each holding the seq and time of the entry that put it there
// (and for sweeping, the uuid of the host that wrote it, which deletes);
// "gc-t"+sha (a tombstone: the seq and time of its swept), and "gc-h" (the
// horizon: the highest seq of the tombstones dropped after 30 days). Every
// decision reads only derived state, so every host takes the same one.
#include <set>

#include "store/keys.h"
#include "store/records.h"
#include "store/store.h"

namespace iafs {
namespace {

constexpr int64_t kTombstoneNs = int64_t{30} * 24 * 3600 * 1'000'000'000;

Key gc_key(char kind, const BlobId& id) {
  Key key;
  key.reserve(4 + id.size());
  for (char c : {'g', 'c', '-', kind}) key.push_back(static_cast<uint8_t>(c));
  for (uint8_t byte : id) key.push_back(byte);
  return key;
}
const uint8_t kHorizonKey[] = {'g', 'c', '-', 'h'};

Key seq_and_time(uint64_t seq, int64_t time_ns) {
  Key value;
  put_u64_be(value, seq);
  put_u64_be(value, static_cast<uint64_t>(time_ns));
  return value;
}

struct Mark {
  uint64_t seq = 0;
  int64_t time_ns = 0;
  std::string host;  // sweeping marks
};

std::optional<Mark> decode_mark(std::span<const uint8_t> value) {
  if (value.size() < 16) return std::nullopt;
  return Mark{get_u64_be(value.data()), static_cast<int64_t>(get_u64_be(value.data() + 8)),
              std::string(value.begin() + 16, value.end())};
}

// The mark under `key`; nullopt when absent.
Result<std::optional<Mark>> read_mark(StoreTxn& txn, const Key& key) {
  auto found = txn.get(txn.dbs().meta, key);
  if (!found) return found.error();
  if (!found->has_value()) return std::optional<Mark>();
  std::optional<Mark> mark = decode_mark(**found);
  if (!mark) return corrupt_record("gc state");
  return mark;
}

Result<uint64_t> read_horizon(StoreTxn& txn) {
  auto found = txn.get(txn.dbs().meta, kHorizonKey);
  if (!found) return found.error();
  if (!found->has_value()) return uint64_t{0};
  if ((*found)->size() != 8) return corrupt_record("gc horizon");
  return get_u64_be((*found)->data());
}

Result<GcState> state_in(StoreTxn& txn, const BlobId& id) {
  GcState state;
  auto sweeping = read_mark(txn, gc_key('s', id));
  if (!sweeping) return sweeping.error();
  auto condemned = read_mark(txn, gc_key('c', id));
  if (!condemned) return condemned.error();
  auto tomb = read_mark(txn, gc_key('t', id));
  if (!tomb) return tomb.error();
  if (*sweeping) {
    state = GcState{GcState::Kind::kSweeping, (*sweeping)->seq, (*sweeping)->time_ns, 0,
                    (*sweeping)->host};
  } else if (*condemned) {
    state = GcState{GcState::Kind::kCondemned, (*condemned)->seq, (*condemned)->time_ns, 0, {}};
  }
  if (*tomb) state.tomb = (*tomb)->seq;
  return state;
}

// The listed shas that some set's original is: one walk of the sets.
Result<std::set<BlobId>> referenced_among(StoreTxn& txn, const std::vector<BlobId>& shas) {
  std::set<BlobId> listed(shas.begin(), shas.end()), referenced;
  Status walked = for_each_set(txn, [&](auto, auto, const SetRecord& record) {
    if (listed.count(record.blob) != 0) referenced.insert(record.blob);
    return Status::Ok();
  });
  if (!walked) return walked.error();
  return referenced;
}

// Drops tombstones older than 30 days (of entry time), raising the horizon.
Status expire_tombstones(StoreTxn& txn, int64_t time_ns) {
  auto horizon = read_horizon(txn);
  if (!horizon) return horizon.error();
  uint64_t raised = *horizon;
  const uint8_t prefix[] = {'g', 'c', '-', 't'};
  Cursor cursor(txn, txn.dbs().meta);
  if (!cursor.ok()) return cursor.error();
  auto at = cursor.seek(prefix);
  while (at && *at && has_prefix(cursor.key(), prefix)) {
    if (cursor.value().size() != 16) return corrupt_record("gc tombstone");
    uint64_t seq = get_u64_be(cursor.value().data());
    auto time = static_cast<int64_t>(get_u64_be(cursor.value().data() + 8));
    if (time_ns - time <= kTombstoneNs) {
      at = cursor.next();
      continue;
    }
    raised = std::max(raised, seq);
    Key here(cursor.key().begin(), cursor.key().end());
    if (Status s = cursor.del(); !s) return s;
    at = cursor.seek(here);
  }
  if (!at) return at.error();
  if (raised == *horizon) return Status::Ok();
  Key value;
  put_u64_be(value, raised);
  return txn.put(txn.dbs().meta, kHorizonKey, value);
}

Error refused(const BlobId& id, const std::string& why) {
  return make_error(ErrorCode::kStale, "blob " + blob_id_hex(id) + " " + why +
                                           ": put it in the bucket again and resubmit");
}

}  // namespace

Status Store::admit_attach(StoreTxn& txn, const BlobId& blob, uint64_t checked) {
  auto horizon = read_horizon(txn);
  if (!horizon) return horizon.error();
  if (checked < *horizon) return refused(blob, "was found before the GC horizon");
  auto state = state_in(txn, blob);
  if (!state) return state.error();
  if (state->kind == GcState::Kind::kSweeping) return refused(blob, "is being swept");
  if (state->tomb > checked) return refused(blob, "was swept after the writer found it");
  // Revived; and a tombstone it outlived means nothing any more.
  if (Status s = txn.del(txn.dbs().meta, gc_key('c', blob)); !s) return s;
  return txn.del(txn.dbs().meta, gc_key('t', blob));
}

Result<ApplyOutcome> Store::apply_gc(StoreTxn& txn, const GcOp& op, const LoggedEntry& entry) {
  uint64_t seq = entry.seq;
  int64_t time_ns = entry.time_ns;
  ApplyOutcome outcome;
  std::set<BlobId> referenced;
  if (op.kind == GcOp::Kind::kCondemn) {
    auto found = referenced_among(txn, op.shas);
    if (!found) return found.error();
    referenced = std::move(found).value();
  }
  for (const BlobId& id : op.shas) {
    auto state = state_in(txn, id);
    if (!state) return state.error();
    Key mark = seq_and_time(seq, time_ns);
    if (op.kind == GcOp::Kind::kCondemn) {
      // Referenced, condemned or sweeping already: a no-op.
      if (referenced.count(id) != 0 || state->kind != GcState::Kind::kLive) continue;
      if (Status s = txn.put(txn.dbs().meta, gc_key('c', id), mark); !s) return s.error();
    } else if (op.kind == GcOp::Kind::kSweep) {
      // Only what is still condemned, by a condemn old enough at this seq;
      // or a sweep whose host has not finished it within its ownership.
      bool due =
          state->kind == GcState::Kind::kCondemned && time_ns - state->time_ns >= op.grace_ns;
      bool orphaned =
          state->kind == GcState::Kind::kSweeping && time_ns - state->time_ns >= kSweepOwnershipNs;
      if (!due && !orphaned) continue;
      mark.insert(mark.end(), entry.host.begin(), entry.host.end());
      if (Status s = txn.del(txn.dbs().meta, gc_key('c', id)); !s) return s.error();
      if (Status s = txn.put(txn.dbs().meta, gc_key('s', id), mark); !s) return s.error();
    } else {
      if (state->kind != GcState::Kind::kSweeping) continue;
      if (Status s = txn.del(txn.dbs().meta, gc_key('s', id)); !s) return s.error();
      if (Status s = txn.put(txn.dbs().meta, gc_key('t', id), mark); !s) return s.error();
      // Its thumbnail objects went with it: their generations mean nothing now.
      if (Status s = drop_meta_prefix(txn, thumb_gen_key(id, "", "")); !s) return s.error();
    }
    outcome.changed = true;
  }
  if (op.kind == GcOp::Kind::kSwept) {
    if (Status s = expire_tombstones(txn, time_ns); !s) return s.error();
  }
  return outcome;
}

Result<GcState> Store::gc_state(const BlobId& id) {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  return state_in(txn, id);
}

Status Store::scan_gc(const std::function<bool(const BlobId&, const GcState&)>& fn) {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  for (char kind : {'c', 's'}) {
    const uint8_t prefix[] = {'g', 'c', '-', static_cast<uint8_t>(kind)};
    Cursor cursor(txn, txn.dbs().meta);
    if (!cursor.ok()) return cursor.error();
    auto at = cursor.seek(prefix);
    for (; at && *at && has_prefix(cursor.key(), prefix); at = cursor.next()) {
      std::optional<Mark> mark = decode_mark(cursor.value());
      if (cursor.key().size() != 4 + sizeof(BlobId) || !mark) return corrupt_record("gc state");
      BlobId id;
      std::copy(cursor.key().begin() + 4, cursor.key().end(), id.begin());
      GcState state{kind == 'c' ? GcState::Kind::kCondemned : GcState::Kind::kSweeping, mark->seq,
                    mark->time_ns, 0, std::move(mark->host)};
      if (!fn(id, state)) return Status::Ok();
    }
    if (!at) return at.error();
  }
  return Status::Ok();
}

}  // namespace iafs
