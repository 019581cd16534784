// Unit tests of garbage collection's state machine in a bucket's store
// (SCALEOUT.md §9, store_gc.cc): condemn, revive, sweep after the grace,
// swept, the attach rules (sweeping, tombstones against `checked`, the
// horizon), and the state in a snapshot's dump.
#include <criterion/criterion.h>

#include <string>
#include <vector>

#include "log_stores.h"

using namespace iafs;
using namespace iafs::test;

namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kDay = int64_t{24} * 3600 * kSecond;

LoggedOp gc_op(GcOp::Kind kind, std::vector<BlobId> shas, int64_t grace_ns = 0) {
  LoggedOp op;
  op.gc = GcOp{kind, std::move(shas), grace_ns};
  return op;
}

LoggedOp attach_checked(const ImageSetKey& set, const std::vector<uint8_t>& bytes,
                        uint64_t checked) {
  LoggedOp op = attach_op(set, bytes);
  op.checked = checked;
  return op;
}

GcState::Kind kind_of(Store& store, const BlobId& id) {
  auto state = store.gc_state(id);
  cr_assert(state.ok());
  return state->kind;
}

// One op in an entry of its own at `time_ns`: its result.
Result<ApplyOutcome> apply_one(Store& store, LoggedOp op, int64_t time_ns) {
  auto results = apply(store, entry_after(store, {std::move(op)}, time_ns));
  return std::move(results.at(0));
}

uint64_t seq_of(Store& store) { return store.log_cursor()->seq; }

}  // namespace

Test(store_gc, a_condemn_skips_referenced_blobs_and_an_attach_revives) {
  auto store = log_store();
  std::vector<uint8_t> kept = bytes_of("kept"), gone = bytes_of("gone"), orphan = bytes_of("o");
  apply(*store, entry_after(*store, {attach_op(set_of(1), kept), attach_op(set_of(2), gone)}, 1));
  apply(*store, entry_after(*store, {LoggedOp{Op{RemoveSet{set_of(2), "jpg"}, 0}, "jpg"}}, 2));
  BlobId k = sha256_of(kept), g = sha256_of(gone), o = sha256_of(orphan);
  cr_assert(apply_one(*store, gc_op(GcOp::Kind::kCondemn, {k, g, o}), 3).ok());
  cr_assert(kind_of(*store, k) == GcState::Kind::kLive, "a set names it");
  cr_assert(kind_of(*store, g) == GcState::Kind::kCondemned);
  cr_assert(kind_of(*store, o) == GcState::Kind::kCondemned, "an orphan the state never held");
  auto state = store->gc_state(g);
  cr_assert(state->seq == 3 && state->time_ns == 3);
  // A repeated condemn keeps the first.
  cr_assert(apply_one(*store, gc_op(GcOp::Kind::kCondemn, {g}), 4).ok());
  cr_assert_eq(store->gc_state(g)->seq, 3u);
  // Uploaded again: live.
  cr_assert(apply_one(*store, attach_checked(set_of(3), gone, seq_of(*store)), 5).ok());
  cr_assert(kind_of(*store, g) == GcState::Kind::kLive);
  int condemned = 0;
  cr_assert(store
                ->scan_gc([&](const BlobId& id, const GcState& s) {
                  cr_assert(id == o && s.kind == GcState::Kind::kCondemned);
                  return ++condemned > 0;
                })
                .ok());
  cr_assert_eq(condemned, 1);
}

Test(store_gc, a_sweep_takes_only_what_is_still_condemned_past_its_grace) {
  auto store = log_store();
  std::vector<uint8_t> a = bytes_of("a"), b = bytes_of("b"), c = bytes_of("c");
  BlobId ia = sha256_of(a), ib = sha256_of(b), ic = sha256_of(c);
  cr_assert(apply_one(*store, gc_op(GcOp::Kind::kCondemn, {ia, ib}), 10 * kSecond).ok());
  cr_assert(apply_one(*store, gc_op(GcOp::Kind::kCondemn, {ic}), 20 * kSecond).ok());
  cr_assert(apply_one(*store, attach_checked(set_of(1), b, seq_of(*store)), 21 * kSecond).ok());
  // At 25 s with a grace of 10 s: a (15 s ago) goes; b was revived; c is 5 s young.
  cr_assert(
      apply_one(*store, gc_op(GcOp::Kind::kSweep, {ia, ib, ic}, 10 * kSecond), 25 * kSecond).ok());
  cr_assert(kind_of(*store, ia) == GcState::Kind::kSweeping);
  cr_assert(kind_of(*store, ib) == GcState::Kind::kLive);
  cr_assert(kind_of(*store, ic) == GcState::Kind::kCondemned);
}

Test(store_gc, attaches_of_swept_blobs_are_refused_until_put_again) {
  auto store = log_store();
  std::vector<uint8_t> bytes = bytes_of("swept bytes");
  BlobId id = sha256_of(bytes);
  cr_assert(apply_one(*store, gc_op(GcOp::Kind::kCondemn, {id}), 1).ok());
  uint64_t found_at = seq_of(*store);  // a writer's HEAD saw b/<id> here
  cr_assert(apply_one(*store, gc_op(GcOp::Kind::kSweep, {id}, 1), 5).ok());
  auto during = apply_one(*store, attach_checked(set_of(1), bytes, seq_of(*store)), 6);
  cr_assert(!during.ok() && during.error().code == ErrorCode::kStale, "sweeping: refused");
  cr_assert(apply_one(*store, gc_op(GcOp::Kind::kSwept, {id}), 7).ok());
  uint64_t swept_at = seq_of(*store);
  auto state = store->gc_state(id);
  cr_assert(state->kind == GcState::Kind::kLive && state->tomb == swept_at);
  auto stale = apply_one(*store, attach_checked(set_of(1), bytes, found_at), 8);
  cr_assert(!stale.ok() && stale.error().code == ErrorCode::kStale,
            "found before the DELETE: the object may be gone");
  auto set = store->get_set(set_of(1));
  cr_assert(set.ok() && !set->has_value(), "a refused attach leaves nothing");
  cr_assert(apply_one(*store, attach_checked(set_of(1), bytes, swept_at), 9).ok(),
            "put again after the swept");
  cr_assert_eq(store->gc_state(id)->tomb, 0u, "the tombstone it outlived is dropped");
}

Test(store_gc, tombstones_expire_into_the_horizon_after_thirty_days) {
  auto store = log_store();
  std::vector<uint8_t> bytes = bytes_of("old");
  BlobId id = sha256_of(bytes), other = sha256_of(bytes_of("other"));
  cr_assert(apply_one(*store, gc_op(GcOp::Kind::kCondemn, {id, other}), 1).ok());
  cr_assert(apply_one(*store, gc_op(GcOp::Kind::kSweep, {id, other}, 1), 2).ok());
  cr_assert(apply_one(*store, gc_op(GcOp::Kind::kSwept, {id}), 3).ok());
  uint64_t tomb = seq_of(*store);
  cr_assert(apply_one(*store, gc_op(GcOp::Kind::kSwept, {other}), 31 * kDay).ok());
  cr_assert_eq(store->gc_state(id)->tomb, 0u, "expired");
  cr_assert_neq(store->gc_state(other)->tomb, 0u, "young");
  auto before = apply_one(*store, attach_checked(set_of(1), bytes, tomb - 1), 31 * kDay + 1);
  cr_assert(!before.ok() && before.error().code == ErrorCode::kStale, "below the horizon");
  cr_assert(apply_one(*store, attach_checked(set_of(1), bytes, tomb), 31 * kDay + 2).ok());
}

Test(store_gc, the_gc_state_is_in_the_snapshot_and_the_same_on_every_host) {
  auto a = log_store();
  auto b = log_store();
  for (Store* store : {a.get(), b.get()}) {
    BlobId x = sha256_of(bytes_of("x")), y = sha256_of(bytes_of("y"));
    cr_assert(apply_one(*store, gc_op(GcOp::Kind::kCondemn, {x, y}), 1).ok());
    cr_assert(apply_one(*store, gc_op(GcOp::Kind::kSweep, {x}, 1), 2).ok());
  }
  auto one = a->dump_derived(1 << 20), two = b->dump_derived(1 << 20);
  cr_assert(one.ok() && two.ok() && one->parts == two->parts);
  cr_assert_eq(one->records, 2u, "one condemned, one sweeping");
  auto c = log_store();
  cr_assert(c->load_derived(one->at, one->parts).ok());
  cr_assert(kind_of(*c, sha256_of(bytes_of("x"))) == GcState::Kind::kSweeping);
  cr_assert(kind_of(*c, sha256_of(bytes_of("y"))) == GcState::Kind::kCondemned);
}

Test(store_gc, a_sweep_its_host_left_unfinished_for_an_hour_is_taken_over) {
  auto store = log_store();
  BlobId id = sha256_of(bytes_of("abandoned"));
  cr_assert(apply_one(*store, gc_op(GcOp::Kind::kCondemn, {id}), 1).ok());
  LoggedOp sweep = gc_op(GcOp::Kind::kSweep, {id}, 1);
  auto first = entry_after(*store, {sweep}, 10 * kSecond);
  first.host = "host-a";
  apply(*store, first);
  cr_assert_eq(store->gc_state(id)->host, "host-a");
  auto early = entry_after(*store, {sweep}, 20 * kSecond);
  early.host = "host-b";
  apply(*store, early);
  cr_assert_eq(store->gc_state(id)->host, "host-a", "host-a still owns it");
  auto late = entry_after(*store, {sweep}, 10 * kSecond + kSweepOwnershipNs);
  late.host = "host-b";
  apply(*store, late);
  auto state = store->gc_state(id);
  cr_assert(state->kind == GcState::Kind::kSweeping && state->host == "host-b" &&
            state->seq == late.seq);
}
