// Unit tests of -o cache_size's pass (attach/cache_budget.h) over a bucket's
// store: what it evicts, and that an original a read holds is kept, over
// the budget if need be, without others evicted in its place.
#include "attach/cache_budget.h"

#include <criterion/criterion.h>

#include <random>
#include <string>
#include <vector>

#include "config/schema_parser.h"
#include "log_stores.h"

using namespace iafs;
using namespace iafs::test;

namespace {

constexpr uint64_t kBlob = 400'000;

std::vector<uint8_t> noise(unsigned seed) {
  std::vector<uint8_t> bytes(kBlob);
  std::mt19937 rng(seed);
  for (auto& b : bytes) b = static_cast<uint8_t>(rng());
  return bytes;
}

// A bucket's store holding `count` originals another host committed, each
// of kBlob bytes and cached here.
std::unique_ptr<Store> store_caching(int count, std::vector<BlobId>& ids) {
  auto store = log_store();
  std::vector<LoggedOp> ops;
  std::vector<std::vector<uint8_t>> blobs;
  for (int i = 0; i < count; ++i) {
    blobs.push_back(noise(static_cast<unsigned>(i + 1)));
    ops.push_back(attach_op(set_of(static_cast<uint64_t>(i + 1)), blobs.back()));
  }
  apply(*store, entry_after(*store, ops, 5));
  for (const auto& bytes : blobs) {
    ids.push_back(sha256_of(bytes));
    cr_assert(store->cache_blob(ids.back(), xxh3_of(bytes), SpanSource(bytes), true).ok());
  }
  return store;
}

uint64_t cached(Store& store) { return store.cached_bytes()->value_or(0); }

Schema no_schema() { return Schema{}; }

}  // namespace

Test(cache_budget, over_the_budget_the_least_recently_read_go) {
  std::vector<BlobId> ids;
  auto store = store_caching(3, ids);
  Schema schema = no_schema();
  CacheBudget budget(*store, schema, 1'000'000, {});
  budget.used(ids[1]);
  budget.used(ids[2]);
  cr_assert(budget.run_once().ok());
  // 1.2 MB over 1 MB: down to 0.9 MB, the one never read first.
  cr_assert(cached(*store) == 2 * kBlob);
  cr_assert(*store->blob_cached(ids[0]) == false);
}

Test(cache_budget, an_original_a_read_holds_is_kept_and_others_not_evicted_for_it) {
  std::vector<BlobId> ids;
  auto store = store_caching(4, ids);
  Schema schema = no_schema();
  CacheBudget budget(*store, schema, 1'000'000, {});
  {
    CacheBudget::Hold hold(budget, ids[0]);  // the least recently read: first to go, but held
    cr_assert(budget.run_once().ok());
    // 1.6 MB: 0.7 MB over the 0.9 MB mark; 0.4 MB of it is the held one's,
    // so one other goes (not all three, to make up for it).
    cr_assert(*store->blob_cached(ids[0]), "held: kept");
    cr_assert(cached(*store) == 3 * kBlob, "%lu", static_cast<unsigned long>(cached(*store)));
    cr_assert(budget.run_once().ok());
    cr_assert(cached(*store) == 3 * kBlob, "a second pass frees no more");
  }
  // Released, it counts as just read: kept for kGrace, then it may go.
  cr_assert(budget.run_once().ok());
  cr_assert(*store->blob_cached(ids[0]), "just read");
}
