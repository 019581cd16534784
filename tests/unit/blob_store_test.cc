// Unit tests of the LMDB blob store: streamed puts checked against their id,
// whole-blob reads into the caller's buffer.
#include <criterion/criterion.h>

#include <string>
#include <vector>

#include "store/hashing.h"
#include "store/keys.h"
#include "store/lmdb.h"
#include "store/lmdb_blob_store.h"
#include "store/store.h"
#include "temp_dirs.h"

using namespace iafs;

namespace {

std::unique_ptr<LmdbEnv> open_env() {
  EnvOptions options;
  options.map_size = 1ull << 30;
  auto env = LmdbEnv::open(test::temp_dir("blob-store-test"), options);
  cr_assert(env.ok(), "open: %s", env.ok() ? "" : env.error().message.c_str());
  return std::move(env).value();
}

// Three chunks and a bit, every byte depending on its position.
std::vector<uint8_t> big_bytes() {
  std::vector<uint8_t> out(3 * LmdbBlobStore::kChunkSize + 1234);
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>((i * 7919) >> 3);
  return out;
}

// A source whose bytes change after the first `reads` reads: a staged file
// written to while it was stored.
class ChangingSource final : public BlobSource {
 public:
  ChangingSource(std::vector<uint8_t> bytes, int reads) : bytes_(std::move(bytes)), left_(reads) {}
  uint64_t size() const override { return bytes_.size(); }
  Status read(uint64_t offset, std::span<uint8_t> out) const override {
    if (left_-- <= 0) bytes_[offset] ^= 0xFF;
    return SpanSource(bytes_).read(offset, out);
  }

 private:
  mutable std::vector<uint8_t> bytes_;
  mutable int left_;
};

bool stored(LmdbEnv& env, const BlobId& id) {
  StoreTxn txn(env, false);
  auto chunk = txn.get(txn.dbs().chunks, chunk_key(id, 0));
  cr_assert(chunk.ok());
  return chunk->has_value();
}

}  // namespace

Test(blob_store, a_put_stores_what_its_source_reads_in_chunks) {
  auto env = open_env();
  LmdbBlobStore blobs(*env);
  std::vector<uint8_t> bytes = big_bytes();
  BlobId id = sha256_of(bytes);
  {
    StoreTxn txn(*env, true);
    cr_assert(blobs.put(txn, id, SpanSource(bytes)).ok());
    cr_assert(txn.commit().ok());
  }
  std::vector<uint8_t> back(bytes.size());
  cr_assert(blobs.read_into(id, bytes.size(), 0, back).ok());
  cr_expect(back == bytes);
  std::vector<uint8_t> middle(LmdbBlobStore::kChunkSize + 10);
  uint64_t at = LmdbBlobStore::kChunkSize - 5;
  cr_assert(blobs.read_into(id, bytes.size(), at, middle).ok());
  cr_expect(std::equal(middle.begin(), middle.end(), bytes.begin() + static_cast<ptrdiff_t>(at)));
}

Test(blob_store, bytes_that_change_while_stored_are_refused_and_nothing_is_stored) {
  auto env = open_env();
  LmdbBlobStore blobs(*env);
  std::vector<uint8_t> bytes = big_bytes();
  BlobId id = sha256_of(bytes);
  for (int reads : {0, 1, 3}) {
    StoreTxn txn(*env, true);
    Status put = blobs.put(txn, id, ChangingSource(bytes, reads));
    cr_expect(!put.ok(), "a source changed after %d reads was stored", reads);
    cr_expect_eq(put.ok() ? ErrorCode::kIo : put.error().code, ErrorCode::kIo);
    // The caller aborts (the transaction is dropped uncommitted).
  }
  cr_expect(!stored(*env, id));
}

Test(blob_store, a_read_into_past_the_end_of_the_blob_is_an_error) {
  auto env = open_env();
  LmdbBlobStore blobs(*env);
  std::vector<uint8_t> bytes = big_bytes();
  BlobId id = sha256_of(bytes);
  {
    StoreTxn txn(*env, true);
    cr_assert(blobs.put(txn, id, SpanSource(bytes)).ok());
    cr_assert(txn.commit().ok());
  }
  std::vector<uint8_t> longer(bytes.size() + 1);
  cr_expect(!blobs.read_into(id, bytes.size(), 0, longer).ok());
  std::vector<uint8_t> none(10);
  cr_expect(!blobs.read_into(sha256_of(none), 10, 0, none).ok());
}

Test(blob_store, a_store_commit_whose_bytes_change_while_stored_leaves_no_set) {
  std::string dir = test::temp_dir("blob-store-test");
  StoreOptions options;
  options.map_size = 1ull << 30;
  auto store = Store::open(dir, options);
  cr_assert(store.ok());
  std::vector<uint8_t> bytes = big_bytes();
  AttachOriginal op;
  op.set = ImageSetKey{"posts", EntityId{true, 1, "1"}, "photos", 0};
  op.blob = sha256_of(bytes);
  op.size = bytes.size();
  op.xxh3 = xxh3_of(bytes);
  op.ext = "jpg";
  op.width = 10;
  op.height = 5;
  auto outcome = (*store)->apply(Op{op, 1}, ChangingSource(bytes, 2));
  cr_expect(!outcome.ok());
  auto set = (*store)->get_set(op.set);
  cr_assert(set.ok());
  cr_expect(!set->has_value());
  cr_expect(!(*store)->has_blob(op.blob).value());
}
