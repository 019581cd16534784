// Unit tests of the store: records, ops, listing order, blobs, pins.
#include "store/store.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "store/hashing.h"
#include "store/keys.h"
#include "store/lmdb_blob_store.h"
#include "temp_dirs.h"

using namespace iafs;

namespace {

std::string temp_store() { return test::temp_dir("store-test"); }

std::unique_ptr<Store> open_store(const std::string& dir) {
  StoreOptions options;
  options.map_size = 1ull << 30;
  auto store = Store::open(dir, options);
  cr_assert(store.ok(), "open: %s", store.ok() ? "" : store.error().message.c_str());
  return std::move(store).value();
}

EntityId int_id(uint64_t n) { return EntityId{true, n, std::to_string(n)}; }
EntityId str_id(const std::string& s) { return EntityId{false, 0, s}; }

ImageSetKey set_of(const EntityId& id, uint32_t index) {
  return ImageSetKey{"posts", id, "photos", index};
}

std::vector<uint8_t> bytes_of(const std::string& s, size_t repeat = 1) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i < repeat; ++i) out.insert(out.end(), s.begin(), s.end());
  return out;
}

ApplyOutcome attach(Store& store, const ImageSetKey& set, const std::vector<uint8_t>& bytes,
                    const std::string& ext = "jpg", int64_t time_ns = 1000) {
  AttachOriginal op;
  op.set = set;
  op.blob = sha256_of(bytes);
  op.size = bytes.size();
  op.xxh3 = xxh3_of(bytes);
  op.ext = ext;
  op.width = 10;
  op.height = 5;
  auto outcome = store.apply(Op{op, time_ns}, bytes);
  cr_assert(outcome.ok(), "attach: %s", outcome.ok() ? "" : outcome.error().message.c_str());
  return *outcome;
}

std::vector<uint8_t> read_all(Store& store, const BlobId& id, uint64_t size, uint64_t offset = 0,
                              uint64_t length = UINT64_MAX) {
  std::vector<uint8_t> out;
  Status s = store.read_blob(id, size, offset, length, [&](auto pieces) {
    for (auto piece : pieces) out.insert(out.end(), piece.begin(), piece.end());
  });
  cr_assert(s.ok());
  return out;
}

ThumbnailSpec width(uint32_t w) { return ThumbnailSpec{ThumbFit::kWidth, w, 0, ImageFormat::kJpeg}; }

}  // namespace

Test(store, attaches_and_reads_back_an_original) {
  auto store = open_store(temp_store());
  auto bytes = bytes_of("hello image");
  attach(*store, set_of(int_id(42), 0), bytes, "jpeg", 5000);
  auto record = store->get_set(set_of(int_id(42), 0));
  cr_assert(record.ok() && record->has_value());
  cr_expect_eq((*record)->size, bytes.size());
  cr_expect_eq((*record)->ext, "jpeg");
  cr_expect_eq((*record)->mtime_ns, 5000);
  cr_expect((*record)->blob == sha256_of(bytes));
  cr_expect(read_all(*store, (*record)->blob, (*record)->size) == bytes);
}

Test(store, reads_ranges_across_chunks) {
  auto store = open_store(temp_store());
  std::vector<uint8_t> bytes(LmdbBlobStore::kChunkSize * 2 + 123);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7);
  attach(*store, set_of(int_id(1), 0), bytes);
  BlobId id = sha256_of(bytes);
  uint64_t off = LmdbBlobStore::kChunkSize - 10;
  auto part = read_all(*store, id, bytes.size(), off, LmdbBlobStore::kChunkSize + 50);
  cr_assert_eq(part.size(), LmdbBlobStore::kChunkSize + 50);
  cr_expect(std::equal(part.begin(), part.end(), bytes.begin() + off));
  cr_expect(read_all(*store, id, bytes.size(), bytes.size() - 5, 100).size() == 5);
}

Test(store, identical_bytes_change_nothing) {
  auto store = open_store(temp_store());
  auto bytes = bytes_of("same");
  attach(*store, set_of(int_id(1), 0), bytes, "jpg", 1000);
  auto again = attach(*store, set_of(int_id(1), 0), bytes, "jpg", 2000);
  cr_expect(!again.changed);
  cr_expect_eq((*store->get_set(set_of(int_id(1), 0)))->mtime_ns, 1000);
}

Test(store, replacing_an_original_drops_its_thumbnails) {
  auto store = open_store(temp_store());
  auto set = set_of(int_id(1), 0);
  auto first = bytes_of("first");
  attach(*store, set, first);
  auto thumb = store->put_thumbnail(set, width(3), sha256_of(first), bytes_of("t"), 3, 1, 1);
  cr_assert(thumb.ok());
  auto outcome = attach(*store, set, bytes_of("second"));
  cr_expect_eq(outcome.dropped_thumbnails.size(), 1u);
  cr_expect(!store->get_thumbnail(set, width(3))->has_value());
  cr_expect(!*store->has_blob(sha256_of(first)), "old original freed");
  cr_expect(!*store->has_blob(thumb->blob), "old thumbnail freed");
}

Test(store, refuses_a_thumbnail_of_a_replaced_original) {
  auto store = open_store(temp_store());
  auto set = set_of(int_id(1), 0);
  auto first = bytes_of("first");
  attach(*store, set, first);
  attach(*store, set, bytes_of("second"));
  auto thumb = store->put_thumbnail(set, width(3), sha256_of(first), bytes_of("t"), 3, 1, 1);
  cr_assert(!thumb.ok());
  cr_expect_eq(thumb.error().code, ErrorCode::kNotFound);
}

Test(store, identical_uploads_share_one_blob) {
  auto store = open_store(temp_store());
  auto bytes = bytes_of("shared");
  attach(*store, set_of(int_id(1), 0), bytes);
  attach(*store, set_of(int_id(2), 0), bytes);
  cr_assert(store->apply(Op{RemoveSet{set_of(int_id(1), 0), std::nullopt}, 1}).ok());
  cr_expect(*store->has_blob(sha256_of(bytes)), "still referenced by the second set");
  cr_expect(read_all(*store, sha256_of(bytes), bytes.size()) == bytes);
  cr_assert(store->apply(Op{RemoveSet{set_of(int_id(2), 0), std::nullopt}, 2}).ok());
  cr_expect(!*store->has_blob(sha256_of(bytes)), "freed with its last reference");
}

Test(store, lists_integer_ids_numerically_before_string_ids) {
  auto store = open_store(temp_store());
  for (auto id : {int_id(10), str_id("007"), int_id(9), str_id("abc"), int_id(100)}) {
    attach(*store, set_of(id, 0), bytes_of(id.text));
    attach(*store, set_of(id, 1), bytes_of(id.text + "x"));
  }
  std::vector<std::string> listed;
  cr_assert(store
                ->list_entities("posts", std::nullopt,
                                [&](const EntityId& id) {
                                  listed.push_back(id.text);
                                  return true;
                                })
                .ok());
  std::vector<std::string> expected{"9", "10", "100", "007", "abc"};
  cr_expect(listed == expected);
  listed.clear();
  cr_assert(store
                ->list_entities("posts", int_id(100),
                                [&](const EntityId& id) {
                                  listed.push_back(id.text);
                                  return true;
                                })
                .ok());
  cr_expect(listed == (std::vector<std::string>{"007", "abc"}));
}

Test(store, lists_indexes_ascending_and_resumes) {
  auto store = open_store(temp_store());
  for (uint32_t index : {300u, 2u, 10u, 0u, 4294967295u}) {
    attach(*store, set_of(int_id(1), index), bytes_of(std::to_string(index)));
  }
  std::vector<uint32_t> listed;
  auto collect = [&](uint32_t index) {
    listed.push_back(index);
    return true;
  };
  cr_assert(store->list_sets("posts", int_id(1), "photos", std::nullopt, collect).ok());
  cr_expect(listed == (std::vector<uint32_t>{0, 2, 10, 300, 4294967295u}));
  listed.clear();
  cr_assert(store->list_sets("posts", int_id(1), "photos", 10u, collect).ok());
  cr_expect(listed == (std::vector<uint32_t>{300, 4294967295u}));
}

Test(store, moves_a_set_with_its_thumbnails) {
  auto store = open_store(temp_store());
  auto from = set_of(int_id(1), 3);
  auto to = set_of(int_id(2), 1);
  auto bytes = bytes_of("moving");
  attach(*store, from, bytes);
  cr_assert(store->put_thumbnail(from, width(4), sha256_of(bytes), bytes_of("t"), 4, 2, 1).ok());
  cr_assert(store->apply(Op{MoveSet{from, to}, 1}).ok());
  cr_expect(!store->get_set(from)->has_value());
  cr_expect(store->get_set(to)->has_value());
  cr_expect(store->get_thumbnail(to, width(4))->has_value());
  cr_expect(!store->get_thumbnail(from, width(4))->has_value());
}

Test(store, refuses_to_move_onto_a_set_holding_an_original) {
  auto store = open_store(temp_store());
  attach(*store, set_of(int_id(1), 0), bytes_of("a"));
  attach(*store, set_of(int_id(1), 1), bytes_of("b"));
  auto outcome = store->apply(Op{MoveSet{set_of(int_id(1), 0), set_of(int_id(1), 1)}, 1});
  cr_assert(!outcome.ok());
  cr_expect_eq(outcome.error().code, ErrorCode::kNotEmpty);
  cr_expect(read_all(*store, sha256_of(bytes_of("a")), 1) == bytes_of("a"));
}

Test(store, a_pinned_blob_outlives_its_last_reference) {
  auto store = open_store(temp_store());
  auto set = set_of(int_id(1), 0);
  auto old_bytes = bytes_of("old");
  attach(*store, set, old_bytes);
  cr_assert(store->pin(sha256_of(old_bytes)).ok());
  attach(*store, set, bytes_of("new"));
  cr_expect(read_all(*store, sha256_of(old_bytes), 3) == old_bytes);
  store->unpin(sha256_of(old_bytes));
  cr_expect(!*store->has_blob(sha256_of(old_bytes)));
}

Test(store, frees_unreferenced_blobs_at_the_next_open) {
  std::string dir = temp_store();
  auto old_bytes = bytes_of("old");
  {
    auto store = open_store(dir);
    attach(*store, set_of(int_id(1), 0), old_bytes);
    cr_assert(store->pin(sha256_of(old_bytes)).ok());
    attach(*store, set_of(int_id(1), 0), bytes_of("new"));
    cr_expect(*store->has_blob(sha256_of(old_bytes)));
  }
  auto store = open_store(dir);
  cr_expect(!*store->has_blob(sha256_of(old_bytes)));
  cr_expect(store->get_set(set_of(int_id(1), 0))->has_value());
}

Test(store, sets_the_mtime_of_an_original) {
  auto store = open_store(temp_store());
  attach(*store, set_of(str_id("x"), 0), bytes_of("a"), "png", 1);
  cr_assert(store->apply(Op{SetMtime{set_of(str_id("x"), 0), 777}, 2}).ok());
  cr_expect_eq((*store->get_set(set_of(str_id("x"), 0)))->mtime_ns, 777);
}

Test(store, sets_a_restored_created_at_and_keeps_the_revision) {
  auto store = open_store(temp_store());
  ImageSetKey set = set_of(int_id(3), 1);
  attach(*store, set, bytes_of("a"), "jpg", 1000);
  uint64_t revision = (*store->get_set(set))->revision;
  auto same = store->apply(Op{SetCreated{set, 1000}, 2000});
  cr_assert(same.ok());
  cr_expect(!same->changed);
  auto set_it = store->apply(Op{SetCreated{set, 42}, 2000});
  cr_assert(set_it.ok());
  cr_expect(set_it->changed);
  cr_expect_eq((*store->get_set(set))->created_ns, 42);
  cr_expect_eq((*store->get_set(set))->revision, revision);
  auto absent = store->apply(Op{SetCreated{set_of(int_id(4), 0), 42}, 2000});
  cr_expect(!absent.ok() && absent.error().code == ErrorCode::kNotFound);
}

Test(store, an_attach_with_created_at_sets_it_for_new_and_for_the_same_bytes) {
  auto store = open_store(temp_store());
  ImageSetKey set = set_of(int_id(5), 0);
  auto bytes = bytes_of("restored");
  AttachOriginal op;
  op.set = set;
  op.blob = sha256_of(bytes);
  op.size = bytes.size();
  op.xxh3 = xxh3_of(bytes);
  op.ext = "jpg";
  op.created_ns = 7;
  cr_assert(store->apply(Op{op, 1000}, bytes).ok());
  cr_expect_eq((*store->get_set(set))->created_ns, 7);
  op.created_ns = 9;
  auto again = store->apply(Op{op, 2000}, bytes);
  cr_assert(again.ok());
  cr_expect(again->changed);
  cr_expect_eq((*store->get_set(set))->created_ns, 9);
  op.created_ns = 0;  // none restored: kept
  cr_expect(!store->apply(Op{op, 3000}, bytes)->changed);
  cr_expect_eq((*store->get_set(set))->created_ns, 9);
}

Test(store, keeps_directory_mtimes_across_opens) {
  std::string dir = temp_store();
  {
    auto store = open_store(dir);
    cr_expect(!store->get_dir_mtime("/posts/1/photos/0/thumb")->has_value());
    cr_assert(store->apply(Op{SetDirMtime{"/posts/1/photos/0/thumb", 1234}, 1}).ok());
    cr_assert(store->apply(Op{SetDirMtime{"/", -5}, 1}).ok());
  }
  auto store = open_store(dir);
  cr_expect_eq(**store->get_dir_mtime("/posts/1/photos/0/thumb"), 1234);
  cr_expect_eq(**store->get_dir_mtime("/"), -5);
  cr_expect(!store->get_dir_mtime("/posts/1/photos/0")->has_value());
}

Test(store, removing_an_absent_set_is_not_found) {
  auto store = open_store(temp_store());
  auto outcome = store->apply(Op{RemoveSet{set_of(int_id(5), 0), std::nullopt}, 1});
  cr_assert(!outcome.ok());
  cr_expect_eq(outcome.error().code, ErrorCode::kNotFound);
}

Test(store, a_full_map_is_no_space_and_the_store_stays_readable) {
  std::string dir = temp_store();
  StoreOptions options;
  options.map_size = 2 * 1024 * 1024;
  auto store = Store::open(dir, options);
  cr_assert(store.ok());
  auto small = bytes_of("kept");
  attach(**store, set_of(int_id(1), 0), small);
  std::vector<uint8_t> big(4 * 1024 * 1024, 7);
  AttachOriginal op;
  op.set = set_of(int_id(2), 0);
  op.blob = sha256_of(big);
  op.size = big.size();
  op.ext = "jpg";
  auto outcome = (*store)->apply(Op{op, 1}, big);
  cr_assert(!outcome.ok());
  cr_expect_eq(outcome.error().code, ErrorCode::kNoSpace);
  cr_expect(read_all(**store, sha256_of(small), small.size()) == small);
}

Test(store, removing_an_original_under_another_extension_is_not_found) {
  auto store = open_store(temp_store());
  auto set = set_of(int_id(1), 0);
  attach(*store, set, bytes_of("png bytes"), "png");
  auto outcome = store->apply(Op{RemoveSet{set, std::string("jpg")}, 1});
  cr_assert(!outcome.ok());
  cr_expect_eq(outcome.error().code, ErrorCode::kNotFound);
  cr_expect(store->get_set(set)->has_value(), "original.png stays");
  cr_expect(store->apply(Op{RemoveSet{set, std::string("png")}, 2}).ok());
}

Test(store, a_deduplicated_commit_replaces_stored_bytes_that_differ_from_their_id) {
  std::string dir = temp_store();
  auto genuine = bytes_of("genuine photo bytes ", 100);
  BlobId id = sha256_of(genuine);
  {
    auto store = open_store(dir);
    attach(*store, set_of(int_id(1), 0), genuine);
  }
  {
    // Poison the blob: same id, other bytes (what a racing writer once got stored).
    EnvOptions options;
    options.map_size = 1ull << 30;
    auto env = LmdbEnv::open(dir, options);
    cr_assert(env.ok());
    StoreTxn txn(**env, true);
    cr_assert(txn.ok());
    auto hostile = bytes_of("<html><script>", 143);
    cr_assert(txn.put(txn.dbs().chunks, chunk_key(id, 0), hostile).ok());
    cr_assert(txn.commit().ok());
  }
  auto store = open_store(dir);
  cr_assert(read_all(*store, id, genuine.size()) != genuine, "the poison took");
  attach(*store, set_of(int_id(2), 0), genuine);
  cr_expect(read_all(*store, id, genuine.size()) == genuine, "the innocent copy reads back true");
}

// Totals (store_totals.cc).

namespace {

void expect_totals(Store& store, uint64_t originals, uint64_t original_bytes, uint64_t thumbnails,
                   uint64_t thumbnail_bytes) {
  auto t = store.totals();
  cr_assert(t.ok());
  cr_expect_eq(t->originals, originals, "originals %lu", t->originals);
  cr_expect_eq(t->original_bytes, original_bytes, "original bytes %lu", t->original_bytes);
  cr_expect_eq(t->thumbnails, thumbnails, "thumbnails %lu", t->thumbnails);
  cr_expect_eq(t->thumbnail_bytes, thumbnail_bytes, "thumbnail bytes %lu", t->thumbnail_bytes);
}

}  // namespace

Test(store, totals_follow_every_change_of_the_records) {
  auto store = open_store(temp_store());
  expect_totals(*store, 0, 0, 0, 0);
  auto a = set_of(int_id(1), 0);
  auto b = set_of(int_id(2), 0);
  attach(*store, a, bytes_of("aaaa"));
  attach(*store, b, bytes_of("aaaa"));  // deduplicated, counted in each set
  expect_totals(*store, 2, 8, 0, 0);
  attach(*store, a, bytes_of("aaaa"));  // identical: nothing changes
  expect_totals(*store, 2, 8, 0, 0);
  bool stored = false;
  cr_assert(store
                ->put_thumbnail(a, width(3), sha256_of(bytes_of("aaaa")), bytes_of("tt"), 3, 1, 1,
                                &stored)
                .ok());
  cr_expect(stored);
  cr_assert(store
                ->put_thumbnail(a, width(3), sha256_of(bytes_of("aaaa")), bytes_of("xx"), 3, 1, 1,
                                &stored)
                .ok());
  cr_expect_not(stored, "one was stored already");
  cr_assert(store->put_thumbnail(a, width(4), sha256_of(bytes_of("aaaa")), bytes_of("ttt"), 4, 1, 1)
                .ok());
  expect_totals(*store, 2, 8, 2, 5);
  cr_assert(store->remove_thumbnail(a, width(4)).ok());
  expect_totals(*store, 2, 8, 1, 2);
  attach(*store, a, bytes_of("bbbbbb"));  // replaced: its thumbnail goes
  expect_totals(*store, 2, 10, 0, 0);
  cr_assert(
      store->put_thumbnail(a, width(3), sha256_of(bytes_of("bbbbbb")), bytes_of("tt"), 3, 1, 1)
          .ok());
  cr_assert(store->apply(Op{MoveSet{a, set_of(int_id(3), 0)}, 1}).ok());
  expect_totals(*store, 2, 10, 1, 2);
  cr_assert(store->apply(Op{RemoveSet{set_of(int_id(3), 0), std::nullopt}, 1}).ok());
  expect_totals(*store, 1, 4, 0, 0);
  // A refused op changes nothing.
  cr_assert_not(store->apply(Op{RemoveSet{a, std::nullopt}, 1}).ok());
  expect_totals(*store, 1, 4, 0, 0);
}

Test(store, totals_absent_from_an_older_store_are_computed_at_open) {
  std::string dir = temp_store();
  {
    auto store = open_store(dir);
    attach(*store, set_of(int_id(1), 0), bytes_of("abc"));
    attach(*store, set_of(int_id(2), 0), bytes_of("defgh"));
    cr_assert(store
                  ->put_thumbnail(set_of(int_id(1), 0), width(3), sha256_of(bytes_of("abc")),
                                  bytes_of("t"), 3, 1, 1)
                  .ok());
  }
  {
    EnvOptions options;
    options.map_size = 1ull << 30;
    auto env = LmdbEnv::open(dir, options);
    cr_assert(env.ok());
    StoreTxn txn(**env, true);
    cr_assert(txn.del(txn.dbs().meta, kTotalsKey).ok());
    cr_assert(txn.commit().ok());
  }
  auto store = open_store(dir);
  expect_totals(*store, 2, 8, 1, 1);
}

Test(store, map_usage_reports_the_map_size_and_pages_in_use) {
  auto store = open_store(temp_store());
  attach(*store, set_of(int_id(1), 0), bytes_of("x", 100000));
  StoreMapUsage usage = store->map_usage();
  cr_expect_eq(usage.map_bytes, 1ull << 30);
  cr_expect_geq(usage.used_bytes, 100000u);
  cr_expect_lt(usage.used_bytes, usage.map_bytes);
}

Test(store, a_read_only_store_reads_refuses_every_change_and_writes_nothing) {
  std::string dir = temp_store();
  auto set = set_of(int_id(1), 0);
  auto bytes = bytes_of("original bytes ", 50);
  {
    auto store = open_store(dir);
    attach(*store, set, bytes);
  }
  cr_assert(std::filesystem::remove(dir + "/lock.mdb"));
  auto data_before = std::filesystem::last_write_time(dir + "/data.mdb");
  StoreOptions options;
  options.map_size = 1ull << 30;
  options.read_only = true;
  auto opened = Store::open(dir, options);
  cr_assert(opened.ok(), "%s", opened.ok() ? "" : opened.error().message.c_str());
  Store& store = **opened;
  cr_expect(store.read_only());
  auto record = store.get_set(set);
  cr_assert(record.ok() && record->has_value());
  cr_expect(read_all(store, (*record)->blob, bytes.size()) == bytes);
  cr_expect(store.pin((*record)->blob).ok());
  store.unpin((*record)->blob);
  auto removed = store.apply(Op{RemoveSet{set, std::nullopt}, 1});
  cr_assert(!removed.ok());
  cr_expect_eq(removed.error().code, ErrorCode::kReadOnly);
  auto other = bytes_of("other");
  AttachOriginal op;
  op.set = set_of(int_id(2), 0);
  op.blob = sha256_of(other);
  op.size = other.size();
  op.ext = "jpg";
  cr_expect_eq(store.apply(Op{op, 1}, other).error().code, ErrorCode::kReadOnly);
  ThumbnailSpec spec;
  auto thumb = store.put_thumbnail(set, spec, (*record)->blob, other, 1, 1, 1);
  cr_assert(!thumb.ok());
  cr_expect_eq(thumb.error().code, ErrorCode::kReadOnly);
  cr_expect_eq(store.remove_thumbnail(set, spec).error().code, ErrorCode::kReadOnly);
  cr_expect(store.get_set(set)->has_value(), "the set stays");
  cr_expect_not(std::filesystem::exists(dir + "/lock.mdb"), "no lock.mdb made");
  cr_expect(std::filesystem::last_write_time(dir + "/data.mdb") == data_before);
}

Test(store, a_read_only_store_must_exist) {
  std::string dir = temp_store();
  StoreOptions options;
  options.read_only = true;
  cr_expect_not(Store::open(dir, options).ok());
  cr_expect(std::filesystem::is_empty(dir), "nothing created");
}
