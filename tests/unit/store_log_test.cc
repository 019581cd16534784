// Unit tests of a store on a bucket: its log origin and cursor, entries
// applied whole or not at all, refused ops, and blobs recorded uncached.
#include <criterion/criterion.h>

#include <string>
#include <vector>

#include "imageattachfs/recipe.h"
#include "log_stores.h"

using namespace iafs;
using namespace iafs::test;

Test(store_log, begin_log_ties_an_empty_store_to_one_bucket) {
  auto store = open_store(test::temp_dir("store-log-test"));
  auto origin = store->log_origin();
  cr_assert(origin.ok() && !origin->has_value());
  cr_assert(!store->log_cursor().ok(), "a store of its own has no cursor");
  cr_assert(store->begin_log(kOrigin).ok());
  cr_assert(store->begin_log(kOrigin).ok(), "the same bucket again");
  auto cursor = store->log_cursor();
  cr_assert(cursor.ok() && cursor->seq == 0 && cursor->sha256_hex == kOrigin);
  Status other = store->begin_log(std::string(64, 'c'));
  cr_assert(!other.ok() && other.error().code == ErrorCode::kInvalid);
}

// A remount writes the bucket's entries as the host it was (SCALEOUT.md §3).
Test(store_log, the_host_uuid_is_kept_across_mounts) {
  std::string dir = test::temp_dir("store-log-test");
  {
    auto store = open_store(dir);
    cr_assert(store->begin_log(kOrigin).ok());
    auto first = store->log_host("11111111-aaaa-4aaa-8aaa-aaaaaaaaaaaa");
    cr_assert(first.ok() && *first == "11111111-aaaa-4aaa-8aaa-aaaaaaaaaaaa");
    auto again = store->log_host("22222222-bbbb-4bbb-8bbb-bbbbbbbbbbbb");
    cr_assert(again.ok() && *again == *first, "the kept one, not the fresh one");
  }
  StoreOptions read_only;
  read_only.map_size = 1ull << 30;
  read_only.read_only = true;
  auto store = Store::open(dir, read_only);
  cr_assert(store.ok());
  auto kept = (*store)->log_host("33333333-cccc-4ccc-8ccc-cccccccccccc");
  cr_assert(kept.ok() && *kept == "11111111-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "read-only finds it");
  std::string fresh_dir = test::temp_dir("store-log-test");
  { cr_assert(open_store(fresh_dir)->begin_log(kOrigin).ok()); }
  auto fresh = Store::open(fresh_dir, read_only);
  cr_assert(fresh.ok());
  auto unkept = (*fresh)->log_host("44444444-dddd-4ddd-8ddd-dddddddddddd");
  cr_assert(unkept.ok() && *unkept == "44444444-dddd-4ddd-8ddd-dddddddddddd");
}

Test(store_log, a_store_holding_sets_of_its_own_is_not_put_on_a_bucket) {
  auto store = open_store(test::temp_dir("store-log-test"));
  std::vector<uint8_t> bytes = bytes_of("local bytes");
  AttachOriginal op = std::get<AttachOriginal>(attach_op(set_of(1), bytes).op.change);
  cr_assert(store->apply(Op{op, 5}, bytes).ok());
  Status s = store->begin_log(kOrigin);
  cr_assert(!s.ok() && s.error().code == ErrorCode::kInvalid);
}

Test(store_log, an_attach_from_another_host_is_recorded_uncached_until_its_bytes_come) {
  auto store = log_store();
  std::vector<uint8_t> bytes = bytes_of("bytes committed on another host");
  auto outcomes = apply(*store, entry_after(*store, {attach_op(set_of(1), bytes)}, 7000));
  cr_assert(outcomes.size() == 1 && outcomes[0].ok());
  auto record = store->get_set(set_of(1));
  cr_assert(record.ok() && record->has_value());
  cr_assert((*record)->created_ns == 7000 && (*record)->mtime_ns == 7000, "the entry's time");
  cr_assert((*record)->revision == ((uint64_t{1} << 16) | 0));
  BlobId id = sha256_of(bytes);
  cr_assert(*store->blob_cached(id) == false);
  Status read = store->read_blob(id, bytes.size(), 0, bytes.size(), [](auto) {});
  cr_assert(!read.ok(), "no bytes to read yet");

  std::vector<uint8_t> wrong = bytes_of("other bytes of the same size, yes it is");
  wrong.resize(bytes.size());
  cr_assert(!store->cache_blob(id, xxh3_of(wrong), SpanSource(wrong)).ok(),
            "bytes that do not hash to the id are not cached");
  cr_assert(*store->blob_cached(id) == false);
  cr_assert(store->cache_blob(id, xxh3_of(bytes), SpanSource(bytes)).ok());
  cr_assert(*store->blob_cached(id) == true);
  std::string got;
  cr_assert(store
                ->read_blob(id, bytes.size(), 0, bytes.size(),
                            [&](auto pieces) {
                              for (auto piece : pieces) got.append(piece.begin(), piece.end());
                            })
                .ok());
  cr_assert(got == std::string(bytes.begin(), bytes.end()));
}

Test(store_log, bytes_cached_before_their_commit_are_the_sets_bytes) {
  auto store = log_store();
  std::vector<uint8_t> bytes = bytes_of("uploaded here");
  BlobId id = sha256_of(bytes);
  cr_assert(store->cache_blob(id, xxh3_of(bytes), SpanSource(bytes)).ok());
  cr_assert(store->pin(id).ok());
  apply(*store, entry_after(*store, {attach_op(set_of(1), bytes)}, 10));
  store->unpin(id);
  cr_assert(*store->blob_cached(id) == true);
}

Test(store_log, an_entry_that_does_not_follow_the_cursor_changes_nothing) {
  auto store = log_store();
  std::vector<uint8_t> bytes = bytes_of("x");
  LoggedEntry gap = entry_after(*store, {attach_op(set_of(1), bytes)}, 10);
  gap.seq = 2;
  auto applied = store->apply_logged(gap);
  cr_assert(!applied.ok() && applied.error().code == ErrorCode::kInvalid);
  LoggedEntry fork = entry_after(*store, {attach_op(set_of(1), bytes)}, 10);
  fork.prev_sha256 = std::string(64, 'f');
  applied = store->apply_logged(fork);
  cr_assert(!applied.ok() && applied.error().code == ErrorCode::kInvalid);
  cr_assert(!store->get_set(set_of(1))->has_value());
  cr_assert(store->log_cursor()->seq == 0);
}

Test(store_log, a_refused_op_leaves_nothing_and_the_next_go_on) {
  auto store = log_store();
  std::vector<uint8_t> a = bytes_of("first original");
  std::vector<uint8_t> b = bytes_of("second original");
  apply(*store, entry_after(*store, {attach_op(set_of(1), a), attach_op(set_of(2), a)}, 10));
  // remove of set 1 under another extension (a stale host's), a move onto
  // an occupied set, an mtime guarded by the wrong extension, then ops that
  // apply.
  std::vector<LoggedOp> ops;
  ops.push_back({Op{RemoveSet{set_of(1), std::string("png")}, 0}, ""});
  ops.push_back({Op{MoveSet{set_of(1), set_of(2)}, 0}, ""});
  ops.push_back({Op{SetMtime{set_of(1), 123}, 0}, "png"});
  ops.push_back(attach_op(set_of(3), b, "png"));
  ops.push_back({Op{SetMtime{set_of(1), 456}, 0}, "jpg"});
  ops.push_back({Op{MoveSet{set_of(1), set_of(4)}, 0}, ""});
  auto outcomes = apply(*store, entry_after(*store, ops, 20));
  cr_assert(outcomes.size() == 6);
  cr_assert(!outcomes[0].ok() && outcomes[0].error().code == ErrorCode::kNotFound);
  cr_assert(!outcomes[1].ok() && outcomes[1].error().code == ErrorCode::kNotEmpty);
  cr_assert(!outcomes[2].ok() && outcomes[2].error().code == ErrorCode::kNotFound);
  cr_assert(outcomes[3].ok() && outcomes[4].ok() && outcomes[5].ok());
  cr_assert(!store->get_set(set_of(1))->has_value(), "moved to 4");
  auto moved = store->get_set(set_of(4));
  cr_assert(moved->has_value() && (*moved)->mtime_ns == 456);
  cr_assert(store->get_set(set_of(2))->has_value());
  auto third = store->get_set(set_of(3));
  cr_assert((*third)->revision == ((uint64_t{2} << 16) | 3));
  auto totals = store->totals();
  cr_assert(totals.ok() && totals->originals == 3, "originals %lu",
            static_cast<unsigned long>(totals->originals));
  cr_assert(store->log_cursor()->seq == 2);
}

Test(store_log, the_same_entries_give_the_same_records_on_every_host) {
  auto one = log_store();
  auto two = log_store();
  std::vector<uint8_t> a = bytes_of("aaaa");
  std::vector<uint8_t> b = bytes_of("bbbb");
  // Host two made a thumbnail's revision locally between entries: set
  // revisions still come from the log.
  for (Store* store : {one.get(), two.get()}) {
    apply(*store, entry_after(*store, {attach_op(set_of(1), a)}, 100));
  }
  cr_assert(
      two->put_thumbnail(set_of(1), ThumbnailSpec{}, sha256_of(a), bytes_of("t"), 1, 1, 5).ok());
  for (Store* store : {one.get(), two.get()}) {
    apply(*store, entry_after(*store, {attach_op(set_of(1), b), attach_op(set_of(2), a)}, 200));
    apply(*store, entry_after(*store, {{Op{SetMtime{set_of(2), 77}, 0}, "jpg"}}, 300));
  }
  for (uint64_t id : {1, 2}) {
    auto x = one->get_set(set_of(id));
    auto y = two->get_set(set_of(id));
    cr_assert(x->has_value() && y->has_value());
    cr_assert((*x)->revision == (*y)->revision && (*x)->mtime_ns == (*y)->mtime_ns &&
              (*x)->created_ns == (*y)->created_ns && (*x)->blob == (*y)->blob);
  }
  cr_assert(one->log_cursor()->sha256_hex == two->log_cursor()->sha256_hex);
}

Test(store_log, a_removed_uncached_blob_is_forgotten) {
  auto store = log_store();
  std::vector<uint8_t> bytes = bytes_of("gone soon");
  apply(*store, entry_after(*store, {attach_op(set_of(1), bytes)}, 10));
  apply(*store, entry_after(*store, {{Op{RemoveSet{set_of(1), std::string("jpg")}, 0}, ""}}, 20));
  cr_assert(*store->has_blob(sha256_of(bytes)) == false);
}

Test(store_log, the_cached_bytes_are_counted_as_they_come_and_go) {
  auto store = log_store();
  auto cached = [&] {
    auto total = store->cached_bytes();
    cr_assert(total.ok() && total->has_value());
    return **total;
  };
  cr_assert(cached() == 0);
  std::vector<uint8_t> mine = bytes_of("uploaded on this host");
  std::vector<uint8_t> theirs = bytes_of("committed on another host, longer");
  cr_assert(store->cache_blob(sha256_of(mine), xxh3_of(mine), SpanSource(mine)).ok());
  cr_assert(cached() == mine.size());
  apply(*store, entry_after(*store, {attach_op(set_of(1), mine), attach_op(set_of(2), theirs)}, 5));
  cr_assert(cached() == mine.size(), "an uncached blob counts nothing");
  BlobId id = sha256_of(theirs);
  cr_assert(store->cache_blob(id, xxh3_of(theirs), SpanSource(theirs)).ok());
  cr_assert(cached() == mine.size() + theirs.size());
  std::vector<BlobId> originals;
  cr_assert(store
                ->scan_cached_originals([&](const BlobId& blob, uint64_t) {
                  originals.push_back(blob);
                  return true;
                })
                .ok());
  cr_assert(originals.size() == 2);
  cr_assert(store->uncache_blob(id).ok());
  cr_assert(store->uncache_blob(id).ok(), "uncached already: nothing");
  cr_assert(cached() == mine.size());
  cr_assert(store->get_set(set_of(2))->has_value(), "records stay");
  cr_assert(*store->blob_cached(id) == false);
  std::vector<uint8_t> thumb = bytes_of("a thumbnail");
  cr_assert(store->put_thumbnail(set_of(1), ThumbnailSpec{}, sha256_of(mine), thumb, 1, 1, 5).ok());
  cr_assert(cached() == mine.size() + thumb.size());
  apply(*store, entry_after(*store, {{Op{RemoveSet{set_of(1), std::string("jpg")}, 0}, ""}}, 6));
  cr_assert(cached() == 0, "the removed original and its thumbnail are freed: %lu",
            static_cast<unsigned long>(cached()));
}

Test(store_log, a_store_of_its_own_counts_no_cached_bytes) {
  auto store = open_store(test::temp_dir("store-log-test"));
  auto total = store->cached_bytes();
  cr_assert(total.ok() && !total->has_value());
}

Test(store_log, a_fetch_of_a_blob_removed_meanwhile_caches_nothing) {
  auto store = log_store();
  std::vector<uint8_t> bytes = bytes_of("fetched too late");
  BlobId id = sha256_of(bytes);
  Status s = store->cache_blob(id, xxh3_of(bytes), SpanSource(bytes), true);
  cr_assert(!s.ok() && s.error().code == ErrorCode::kNotFound);
  cr_assert(*store->has_blob(id) == false);
  cr_assert(**store->cached_bytes() == 0);
}

// rm thumb/NAME on a bucket: the object's generation becomes the entry's
// seq, and the named set's copies of that name go (only while it holds
// those bytes); other names and other sets keep theirs.
Test(store_log, a_drop_thumb_gives_the_name_a_generation_and_drops_the_sets_copy) {
  auto store = log_store();
  std::vector<uint8_t> mine = bytes_of("an original");
  BlobId id = sha256_of(mine);
  apply(*store, entry_after(*store, {attach_op(set_of(1), mine), attach_op(set_of(2), mine)}, 5));
  ThumbnailSpec w300{ThumbFit::kWidth, 300, 0, ImageFormat::kJpeg};
  ThumbnailSpec w100{ThumbFit::kWidth, 100, 0, ImageFormat::kJpeg};
  for (const auto& set : {set_of(1), set_of(2)}) {
    for (const auto& spec : {w300, w100}) {
      cr_assert(
          store->put_thumbnail(set, spec, id, bytes_of("t" + thumbnail_name(spec)), 1, 1, 5).ok());
    }
  }
  std::string recipe(16, 'a');
  cr_assert(*store->thumb_gen(id, recipe, "300.jpg") == 0);
  auto applied = apply(
      *store,
      entry_after(*store, {LoggedOp{Op{DropThumb{id, recipe, "300.jpg", set_of(1)}, 0}, ""}}, 6));
  cr_assert(applied.at(0).ok());
  cr_assert(applied[0]->dropped_thumbnails.size() == 1 &&
            thumbnail_name(applied[0]->dropped_thumbnails[0]) == "300.jpg");
  uint64_t seq = store->log_cursor()->seq;
  cr_assert(*store->thumb_gen(id, recipe, "300.jpg") == seq);
  cr_assert(*store->thumb_gen(id, std::string(16, 'b'), "300.jpg") == 0, "another recipe's");
  cr_assert(!store->get_thumbnail(set_of(1), w300)->has_value());
  cr_assert(store->get_thumbnail(set_of(1), w100)->has_value());
  cr_assert(store->get_thumbnail(set_of(2), w300)->has_value());
  // A drop naming a set that holds other bytes now drops none of its copies.
  std::vector<uint8_t> other = bytes_of("another original");
  apply(*store, entry_after(*store, {attach_op(set_of(3), other)}, 7));
  cr_assert(store->put_thumbnail(set_of(3), w300, sha256_of(other), bytes_of("t3"), 1, 1, 5).ok());
  applied = apply(
      *store,
      entry_after(*store, {LoggedOp{Op{DropThumb{id, recipe, "300.jpg", set_of(3)}, 0}, ""}}, 8));
  cr_assert(!applied.at(0).ok() && applied[0].error().code == ErrorCode::kNotFound,
            "the remover saw other bytes in that set");
  cr_assert(store->get_thumbnail(set_of(3), w300)->has_value());
  cr_assert(*store->thumb_gen(id, recipe, "300.jpg") == seq, "unchanged");
  // A drop naming no set, of bytes the state does not hold, leaves no key.
  BlobId unknown = sha256_of(bytes_of("never attached"));
  applied = apply(*store, entry_after(*store,
                                      {LoggedOp{Op{DropThumb{unknown, recipe, "300.jpg", {}}, 0},
                                                ""}},
                                      9));
  cr_assert(!applied.at(0).ok());
  cr_assert(*store->thumb_gen(unknown, recipe, "300.jpg") == 0);
  // Another drop of the first: its outcome names the generation it ended.
  applied = apply(*store, entry_after(*store,
                                      {LoggedOp{Op{DropThumb{id, recipe, "300.jpg", set_of(2)}, 0},
                                                ""}},
                                      10));
  cr_assert(applied.at(0).ok() && applied[0]->ended_generation == seq);
  cr_assert(*store->thumb_gen(id, recipe, "300.jpg") == store->log_cursor()->seq);
}
