// Unit tests of fsck: a store corrupted in each way through LmdbEnv/StoreTxn,
// then what fsck reports and what --repair fixes.
#include "store/fsck.h"

#include <criterion/criterion.h>

#include <string>
#include <vector>

#include "store/hashing.h"
#include "store/keys.h"
#include "store/lmdb_blob_store.h"
#include "store/records.h"
#include "store/store.h"
#include "temp_dirs.h"

using namespace iafs;

namespace {

const ImageSetKey kSet{"posts", EntityId{true, 42, "42"}, "photos", 0};
const ThumbnailSpec kThumb{ThumbFit::kWidth, 300, 0, ImageFormat::kJpeg};

std::vector<uint8_t> bytes_of(char seed, size_t size) {
  std::vector<uint8_t> out(size);
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<uint8_t>(seed + i * 7 + i / 251);
  return out;
}

// A store with one set (original of `original_size` bytes) and one thumbnail.
struct Fixture {
  std::string dir = test::temp_dir("fsck-test");
  std::vector<uint8_t> original;
  std::vector<uint8_t> thumbnail = bytes_of('t', 5000);
  BlobId original_id{};
  BlobId thumbnail_id{};

  explicit Fixture(size_t original_size = 9000) : original(bytes_of('o', original_size)) {
    StoreOptions options;
    options.map_size = 1ull << 30;
    auto store = Store::open(dir, options);
    cr_assert(store.ok());
    AttachOriginal op;
    op.set = kSet;
    op.blob = original_id = sha256_of(original);
    op.size = original.size();
    op.xxh3 = xxh3_of(original);
    op.ext = "jpg";
    cr_assert((*store)->apply(Op{op, 1000}, original).ok());
    auto thumb = (*store)->put_thumbnail(kSet, kThumb, original_id, thumbnail, 300, 200, 2000);
    cr_assert(thumb.ok());
    thumbnail_id = thumb->blob;
  }

  // Runs `change` in one write transaction on the store's environment.
  template <typename Change>
  void corrupt(Change&& change) {
    auto env = LmdbEnv::open(dir, EnvOptions{});
    cr_assert(env.ok());
    StoreTxn txn(**env, true);
    cr_assert(txn.ok());
    change(txn, txn.dbs());
    cr_assert(txn.commit().ok());
  }

  BlobRecord blob_record(const BlobId& id) {
    std::optional<BlobRecord> record;
    corrupt([&](StoreTxn& txn, const Databases& dbs) {
      auto found = get_record<BlobRecord>(txn, dbs.blobs, id);
      cr_assert(found.ok() && found->has_value());
      record = **found;
    });
    return *record;
  }

  bool has(MDB_dbi Databases::*db, const Key& key) {
    bool present = false;
    corrupt([&](StoreTxn& txn, const Databases& dbs) {
      auto found = txn.get(dbs.*db, key);
      cr_assert(found.ok());
      present = found->has_value();
    });
    return present;
  }
};

struct Outcome {
  FsckSummary summary;
  std::vector<std::string> lines;
  int status = -1;

  bool mentions(const std::string& a, const std::string& b = "") const {
    for (const std::string& line : lines) {
      if (line.find(a) != std::string::npos && line.find(b) != std::string::npos) return true;
    }
    return false;
  }
};

Outcome fsck(const std::string& dir, bool repair = false) {
  Outcome out;
  auto summary =
      fsck_store(dir, FsckOptions{repair}, [&](const std::string& l) { out.lines.push_back(l); });
  cr_assert(summary.ok(), "fsck: %s", summary.ok() ? "" : summary.error().message.c_str());
  out.summary = *summary;
  out.status = fsck_exit_status(*summary);
  return out;
}

// Repair gives `status`, and a check afterwards finds nothing (or, for
// damage left, the same findings again).
void expect_repair(const std::string& dir, int status) {
  Outcome repaired = fsck(dir, true);
  cr_expect_eq(repaired.status, status, "repair exit %d", repaired.status);
  Outcome after = fsck(dir);
  cr_expect_eq(after.status, status == 1 ? 0 : 2, "after repair: exit %d", after.status);
}

}  // namespace

Test(fsck, clean_store_reports_nothing_and_counts_what_it_checked) {
  Fixture f;
  Outcome out = fsck(f.dir);
  cr_expect_eq(out.status, 0);
  cr_expect(out.lines.empty());
  cr_expect_eq(out.summary.sets, 1);
  cr_expect_eq(out.summary.thumbnails, 1);
  cr_expect_eq(out.summary.blobs, 2);
  cr_expect_eq(out.summary.bytes_checked, f.original.size() + f.thumbnail.size());
  cr_expect_eq(fsck(f.dir, true).status, 0);
}

Test(fsck, reports_orphan_chunks_and_repair_drops_them) {
  Fixture f;
  BlobId stray = sha256_of(bytes_of('s', 10));
  f.corrupt([&](StoreTxn& txn, const Databases& dbs) {
    cr_assert(txn.put(dbs.chunks, chunk_key(stray, 0), bytes_of('s', 10)).ok());
  });
  Outcome out = fsck(f.dir);
  cr_expect_eq(out.status, 2);
  cr_expect(out.mentions("orphan chunks", blob_id_hex(stray)));
  expect_repair(f.dir, 1);
  cr_expect_not(f.has(&Databases::chunks, chunk_key(stray, 0)));
}

Test(fsck, reports_orphan_and_unreferenced_blobs_and_repair_drops_them) {
  Fixture f;
  auto orphan = bytes_of('x', 100);
  auto zero = bytes_of('z', 100);
  f.corrupt([&](StoreTxn& txn, const Databases& dbs) {
    for (const auto& [bytes, refs] : {std::pair{orphan, 2u}, std::pair{zero, 0u}}) {
      BlobId id = sha256_of(bytes);
      cr_assert(txn.put(dbs.chunks, chunk_key(id, 0), bytes).ok());
      cr_assert(txn.put(dbs.blobs, id, encode_record(BlobRecord{100, xxh3_of(bytes), refs})).ok());
    }
  });
  Outcome out = fsck(f.dir);
  cr_expect_eq(out.summary.findings, 1, "a blob at refs 0 is no damage");
  cr_expect_eq(out.summary.notes, 1);
  cr_expect(out.mentions("orphan blob " + blob_id_hex(sha256_of(orphan)), "refs 2"));
  cr_expect(out.mentions("note: unreferenced blob " + blob_id_hex(sha256_of(zero)),
                         "freed when the files holding it close"));
  expect_repair(f.dir, 1);
  BlobId orphan_id = sha256_of(orphan);
  cr_expect_not(f.has(&Databases::blobs, Key(orphan_id.begin(), orphan_id.end())));
  cr_expect_not(f.has(&Databases::chunks, chunk_key(sha256_of(zero), 0)));
}

Test(fsck, recounts_wrong_reference_counts) {
  Fixture f;
  f.corrupt([&](StoreTxn& txn, const Databases& dbs) {
    BlobRecord record{f.original.size(), xxh3_of(f.original), 5};
    cr_assert(txn.put(dbs.blobs, f.original_id, encode_record(record)).ok());
  });
  Outcome out = fsck(f.dir);
  cr_expect(out.mentions("wrong reference count of blob " + blob_id_hex(f.original_id), "refs 5"));
  expect_repair(f.dir, 1);
  cr_expect_eq(f.blob_record(f.original_id).refs, 1);
}

Test(fsck, bad_checksum_of_an_original_names_the_set_and_is_left) {
  Fixture f;
  f.corrupt([&](StoreTxn& txn, const Databases& dbs) {
    BlobRecord record{f.original.size(), 12345, 1};
    cr_assert(txn.put(dbs.blobs, f.original_id, encode_record(record)).ok());
  });
  Outcome out = fsck(f.dir);
  cr_expect_eq(out.status, 2);
  cr_expect(out.mentions("damaged blob " + blob_id_hex(f.original_id), "XXH3"));
  cr_expect(out.mentions("set posts/42/photos/0/original.jpg"));
  expect_repair(f.dir, 2);
  cr_expect(f.has(&Databases::sets, set_key(kSet)));
}

Test(fsck, bytes_that_differ_from_their_id_name_the_blob_and_its_set) {
  Fixture f;
  auto other = f.original;
  other[4000] ^= 0xFF;
  f.corrupt([&](StoreTxn& txn, const Databases& dbs) {
    cr_assert(txn.put(dbs.chunks, chunk_key(f.original_id, 0), other).ok());
    BlobRecord record{other.size(), xxh3_of(other), 1};  // checksum agrees, the id does not
    cr_assert(txn.put(dbs.blobs, f.original_id, encode_record(record)).ok());
  });
  Outcome out = fsck(f.dir);
  cr_expect_eq(out.summary.findings, 1);
  cr_expect(out.mentions(blob_id_hex(f.original_id),
                         "SHA-256 of its bytes is " + blob_id_hex(sha256_of(other))));
  cr_expect(out.mentions("SHA-256", "set posts/42/photos/0/original.jpg"));
  cr_expect_not(out.mentions("XXH3"));
  expect_repair(f.dir, 2);
  cr_expect(f.has(&Databases::sets, set_key(kSet)));
}

Test(fsck, missing_chunk_of_a_thumbnail_drops_the_thumbnail_record) {
  Fixture f;
  f.corrupt([&](StoreTxn& txn, const Databases& dbs) {
    cr_assert(txn.del(dbs.chunks, chunk_key(f.thumbnail_id, 0)).ok());
  });
  Outcome out = fsck(f.dir);
  cr_expect_eq(out.status, 2);
  cr_expect(out.mentions("damaged blob " + blob_id_hex(f.thumbnail_id), "chunk 0 of 1 missing"));
  cr_expect(out.mentions("thumbnail posts/42/photos/0/thumb/300.jpg"));
  expect_repair(f.dir, 1);
  cr_expect_not(f.has(&Databases::thumbs, thumbnail_key(kSet, kThumb)));
  cr_expect_not(f.has(&Databases::blobs, Key(f.thumbnail_id.begin(), f.thumbnail_id.end())));
  cr_expect(f.has(&Databases::sets, set_key(kSet)));
}

Test(fsck, short_and_missing_chunks_of_an_original_are_left) {
  Fixture f(LmdbBlobStore::kChunkSize + 1000);
  f.corrupt([&](StoreTxn& txn, const Databases& dbs) {
    std::vector<uint8_t> half(f.original.begin(), f.original.begin() + 100);
    cr_assert(txn.put(dbs.chunks, chunk_key(f.original_id, 0), half).ok());
  });
  Outcome out = fsck(f.dir);
  cr_expect(out.mentions("damaged blob " + blob_id_hex(f.original_id),
                         "chunk 0 of 2 is 100 bytes, expected 262144"));
  expect_repair(f.dir, 2);
  f.corrupt([&](StoreTxn& txn, const Databases& dbs) {
    std::vector<uint8_t> first(f.original.begin(), f.original.begin() + LmdbBlobStore::kChunkSize);
    cr_assert(txn.put(dbs.chunks, chunk_key(f.original_id, 0), first).ok());
    cr_assert(txn.del(dbs.chunks, chunk_key(f.original_id, 1)).ok());
  });
  cr_expect(fsck(f.dir).mentions("chunk 1 of 2 missing", "set posts/42/photos/0/original.jpg"));
}

Test(fsck, missing_blob_record_is_rebuilt_from_chunks_that_hash_to_its_id) {
  Fixture f(LmdbBlobStore::kChunkSize * 2 + 17);
  f.corrupt([&](StoreTxn& txn, const Databases& dbs) {
    cr_assert(txn.del(dbs.blobs, f.original_id).ok());
  });
  Outcome out = fsck(f.dir);
  cr_expect(out.mentions("missing record of blob " + blob_id_hex(f.original_id), "set posts/42"));
  expect_repair(f.dir, 1);
  BlobRecord rebuilt = f.blob_record(f.original_id);
  cr_expect_eq(rebuilt.size, f.original.size());
  cr_expect_eq(rebuilt.xxh3, xxh3_of(f.original));
  cr_expect_eq(rebuilt.refs, 1);
}

Test(fsck, dangling_set_without_blob_or_chunks_is_left) {
  Fixture f;
  f.corrupt([&](StoreTxn& txn, const Databases& dbs) {
    cr_assert(txn.del(dbs.blobs, f.original_id).ok());
    cr_assert(txn.del(dbs.chunks, chunk_key(f.original_id, 0)).ok());
  });
  Outcome out = fsck(f.dir);
  cr_expect(out.mentions("missing record of blob " + blob_id_hex(f.original_id),
                         "do not hold its bytes"));
  expect_repair(f.dir, 2);
  cr_expect(f.has(&Databases::sets, set_key(kSet)));
}

Test(fsck, thumbnail_of_a_set_without_original_is_dropped) {
  Fixture f;
  f.corrupt([&](StoreTxn& txn, const Databases& dbs) {
    cr_assert(txn.del(dbs.sets, set_key(kSet)).ok());
    BlobRecord record{f.original.size(), xxh3_of(f.original), 0};
    cr_assert(txn.put(dbs.blobs, f.original_id, encode_record(record)).ok());
  });
  Outcome out = fsck(f.dir);
  cr_expect(out.mentions("thumbnail posts/42/photos/0/thumb/300.jpg", "holds no original"));
  cr_expect(out.mentions("unreferenced blob " + blob_id_hex(f.original_id)));
  expect_repair(f.dir, 1);
  Outcome after = fsck(f.dir);
  cr_expect_eq(after.summary.blobs, 0);
  cr_expect_eq(after.summary.thumbnails, 0);
}

Test(fsck, corrupt_set_record_is_reported_and_never_dropped) {
  Fixture f;
  f.corrupt([&](StoreTxn& txn, const Databases& dbs) {
    cr_assert(txn.put(dbs.sets, set_key(kSet), std::vector<uint8_t>{9, 9}).ok());
  });
  Outcome out = fsck(f.dir);
  cr_expect(out.mentions("corrupt set record posts/42/photos/0"));
  expect_repair(f.dir, 2);
  cr_expect(f.has(&Databases::sets, set_key(kSet)));
}

Test(fsck, absent_store_is_an_error_and_creates_nothing) {
  std::string dir = test::temp_dir("fsck-test") + "/none";
  auto summary = fsck_store(dir, FsckOptions{}, [](const std::string&) {});
  cr_expect_not(summary.ok());
  cr_expect_neq(access(dir.c_str(), F_OK), 0);
}

Test(fsck, a_repair_that_drops_a_thumbnail_leaves_the_store_totals_right) {
  Fixture f;
  f.corrupt([&](StoreTxn& txn, const Databases& dbs) {
    cr_assert(txn.del(dbs.chunks, chunk_key(f.thumbnail_id, 0)).ok());
  });
  expect_repair(f.dir, 1);
  StoreOptions options;
  options.map_size = 1ull << 30;
  auto store = Store::open(f.dir, options);
  cr_assert(store.ok());
  auto totals = (*store)->totals();
  cr_assert(totals.ok());
  cr_expect_eq(totals->originals, 1u);
  cr_expect_eq(totals->original_bytes, f.original.size());
  cr_expect_eq(totals->thumbnails, 0u, "the dropped thumbnail is not counted");
  cr_expect_eq(totals->thumbnail_bytes, 0u);
}

// Beside a running daemon, the blob of a replaced original that a reader
// still holds is at refs 0: a note, not damage (exit 0).
Test(fsck, a_blob_at_refs_0_alone_is_a_note_and_the_store_clean) {
  Fixture f;
  auto held = bytes_of('h', 100);
  f.corrupt([&](StoreTxn& txn, const Databases& dbs) {
    BlobId id = sha256_of(held);
    cr_assert(txn.put(dbs.chunks, chunk_key(id, 0), held).ok());
    cr_assert(txn.put(dbs.blobs, id, encode_record(BlobRecord{100, xxh3_of(held), 0})).ok());
  });
  Outcome out = fsck(f.dir);
  cr_expect_eq(out.status, 0);
  cr_expect_eq(out.summary.findings, 0);
  cr_expect_eq(out.summary.notes, 1);
  cr_expect(out.mentions("note: unreferenced blob " + blob_id_hex(sha256_of(held)), "refs 0"));
}
