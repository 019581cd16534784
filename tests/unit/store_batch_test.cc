// Store::apply_all: many ops in one write transaction (bulk import).
#include <criterion/criterion.h>

#include <string>
#include <vector>

#include "store/hashing.h"
#include "store/store.h"
#include "temp_dirs.h"

using namespace iafs;

namespace {

std::unique_ptr<Store> open_store() {
  StoreOptions options;
  options.map_size = 1ull << 30;
  auto store = Store::open(test::temp_dir("store-batch-test"), options);
  cr_assert(store.ok(), "open: %s", store.ok() ? "" : store.error().message.c_str());
  return std::move(store).value();
}

ImageSetKey set_of(uint64_t id) {
  return ImageSetKey{"posts", EntityId{true, id, std::to_string(id)}, "photos", 0};
}

std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

Op attach_op(const ImageSetKey& set, const std::vector<uint8_t>& bytes, int64_t mtime_ns) {
  AttachOriginal op;
  op.set = set;
  op.blob = sha256_of(bytes);
  op.size = bytes.size();
  op.xxh3 = xxh3_of(bytes);
  op.ext = "jpg";
  op.width = 10;
  op.height = 5;
  op.mtime_ns = mtime_ns;
  return Op{op, 1000};
}

bool holds(Store& store, const ImageSetKey& set) {
  auto record = store.get_set(set);
  cr_assert(record.ok());
  return record->has_value();
}

}  // namespace

Test(store_batch, every_op_of_a_batch_is_applied_in_order) {
  auto store = open_store();
  auto a = bytes_of("first original");
  auto b = bytes_of("second original");
  std::vector<Op> ops = {attach_op(set_of(1), a, 11), attach_op(set_of(2), b, 22),
                         Op{SetMtime{set_of(1), 33}, 1001}};
  std::vector<std::span<const uint8_t>> blobs = {a, b, {}};
  auto outcomes = store->apply_all(ops, blobs);
  cr_assert(outcomes.ok(), "%s", outcomes.ok() ? "" : outcomes.error().message.c_str());
  cr_assert_eq(outcomes->size(), 3u);
  cr_assert((*outcomes)[0].changed && (*outcomes)[1].changed);
  cr_assert_eq((*store->get_set(set_of(1)))->mtime_ns, 33);
  cr_assert_eq((*store->get_set(set_of(2)))->mtime_ns, 22);
  auto totals = store->totals();
  cr_assert(totals.ok());
  cr_assert_eq(totals->originals, 2u);
  cr_assert_eq(totals->original_bytes, a.size() + b.size());
}

Test(store_batch, an_op_that_fails_leaves_nothing_of_its_batch) {
  auto store = open_store();
  auto a = bytes_of("first original");
  std::vector<Op> ops = {attach_op(set_of(1), a, 11), Op{SetMtime{set_of(9), 33}, 1001}};
  std::vector<std::span<const uint8_t>> blobs = {a, {}};
  auto outcomes = store->apply_all(ops, blobs);
  cr_assert(!outcomes.ok());
  cr_assert_eq(outcomes.error().code, ErrorCode::kNotFound);
  cr_assert(!holds(*store, set_of(1)));
  cr_assert_eq(store->totals()->originals, 0u);
  auto held = store->has_blob(sha256_of(a));
  cr_assert(held.ok() && !*held);
}

Test(store_batch, one_blob_carried_twice_is_refused_before_anything_is_stored) {
  auto store = open_store();
  auto a = bytes_of("the same bytes at two places");
  std::vector<Op> ops = {attach_op(set_of(1), a, 11), attach_op(set_of(2), a, 11)};
  std::vector<std::span<const uint8_t>> blobs = {a, a};
  auto outcomes = store->apply_all(ops, blobs);
  cr_assert(!outcomes.ok());
  cr_assert_eq(outcomes.error().code, ErrorCode::kInvalid);
  cr_assert(!holds(*store, set_of(1)) && !holds(*store, set_of(2)));
}
