// Unit tests of thumb_budget's choice and eviction: LruChoice (which
// thumbnails a pass drops), the store's use times and eviction, and
// ThumbnailBudget's pass over a real store.
#include <criterion/criterion.h>

#include <string>
#include <vector>

#include "attach/cache_budget.h"
#include "attach/lru_choice.h"
#include "attach/thumbnail_budget.h"
#include "base/clock.h"
#include "config/schema_parser.h"
#include "path/path.h"
#include "paths.h"
#include "store/hashing.h"
#include "store/keys.h"
#include "store/records.h"
#include "temp_dirs.h"

using namespace iafs;

namespace {

ThumbnailRef ref(uint32_t width, uint64_t size) {
  return ThumbnailRef{ImageSetKey{"posts", EntityId{true, 1, "1"}, "photos", 0},
                      ThumbnailSpec{ThumbFit::kWidth, width, 0, ImageFormat::kJpeg}, width, size};
}

std::vector<uint32_t> widths(const std::vector<ThumbnailRef>& refs) {
  std::vector<uint32_t> out;
  for (const ThumbnailRef& r : refs) out.push_back(r.spec.width);
  return out;
}

std::unique_ptr<Store> open_store() {
  StoreOptions options;
  options.map_size = 1ull << 30;
  auto store = Store::open(test::temp_dir("budget-test"), options);
  cr_assert(store.ok(), "open: %s", store.ok() ? "" : store.error().message.c_str());
  return std::move(store).value();
}

std::vector<uint8_t> bytes_of(const std::string& s, size_t repeat = 1) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i < repeat; ++i) out.insert(out.end(), s.begin(), s.end());
  return out;
}

const ImageSetKey kSet{"posts", EntityId{true, 1, "1"}, "photos", 0};

// An original in kSet; returns its blob.
BlobId attach(Store& store) {
  std::vector<uint8_t> bytes = bytes_of("original", 100);
  AttachOriginal op;
  op.set = kSet;
  op.blob = sha256_of(bytes);
  op.size = bytes.size();
  op.xxh3 = xxh3_of(bytes);
  op.ext = "jpg";
  op.width = 4000;
  op.height = 3000;
  cr_assert(store.apply(Op{op, 1000}, bytes).ok());
  return op.blob;
}

// Thumbnail `width` of kSet, 100 bytes of its own, made at `made_ns`.
ThumbRecord put(Store& store, const BlobId& source, uint32_t width, int64_t made_ns) {
  auto bytes = bytes_of("t" + std::to_string(width) + "-", 100);
  auto thumb = store.put_thumbnail(kSet, ThumbnailSpec{ThumbFit::kWidth, width, 0, ImageFormat::kJpeg}, source,
                                   bytes, width, width, made_ns);
  cr_assert(thumb.ok());
  return *thumb;
}

std::vector<uint32_t> stored_widths(Store& store) {
  std::vector<uint32_t> out;
  cr_assert(store.scan_thumbnails([&](const ThumbnailRef& r, const ThumbRecord&) {
    out.push_back(r.spec.width);
    return true;
  }));
  return out;
}

}  // namespace

Test(lru_choice, chooses_the_least_recently_used_covering_the_need) {
  LruChoice choice(250, 1000);
  choice.offer(ref(1, 100), 50);
  choice.offer(ref(2, 100), 10);
  choice.offer(ref(3, 100), 40);
  choice.offer(ref(4, 100), 20);
  choice.offer(ref(5, 100), 30);
  cr_expect_eq(choice.chosen_bytes(), 300u);
  auto got = widths(choice.take());
  cr_expect(got == (std::vector<uint32_t>{2, 4, 5}), "oldest first, 3 of 100");
}

Test(lru_choice, takes_as_few_as_the_need_takes) {
  LruChoice choice(100, 1000);
  choice.offer(ref(1, 10), 1);
  choice.offer(ref(2, 500), 2);
  choice.offer(ref(3, 10), 3);
  // 10 bytes are not enough: the next oldest (500) goes too, and then 3 is not needed.
  cr_expect(widths(choice.take()) == (std::vector<uint32_t>{1, 2}));
}

Test(lru_choice, equal_times_go_in_the_order_offered) {
  LruChoice choice(200, 1000);
  for (uint32_t w = 1; w <= 5; ++w) choice.offer(ref(w, 100), 7);
  cr_expect(widths(choice.take()) == (std::vector<uint32_t>{1, 2}));
}

Test(lru_choice, nothing_needed_nothing_chosen) {
  LruChoice choice(0, 1000);
  choice.offer(ref(1, 100), 1);
  cr_expect(choice.take().empty());
}

Test(lru_choice, all_offered_when_they_hold_less_than_the_need) {
  LruChoice choice(1000, 1000);
  choice.offer(ref(1, 100), 5);
  choice.offer(ref(2, 100), 1);
  cr_expect(widths(choice.take()) == (std::vector<uint32_t>{2, 1}));
}

Test(lru_choice, keeps_at_most_max_count_the_oldest) {
  LruChoice choice(1000, 2);
  choice.offer(ref(1, 100), 30);
  choice.offer(ref(2, 100), 10);
  choice.offer(ref(3, 100), 20);
  choice.offer(ref(4, 100), 40);
  cr_expect(widths(choice.take()) == (std::vector<uint32_t>{2, 3}));
}

Test(thumbnail_records, a_record_without_used_ns_reads_as_made_then) {
  ThumbRecord record;
  record.size = 5;
  record.created_ns = 1234;
  record.used_ns = 9999;
  std::vector<uint8_t> bytes = encode_record(record);
  auto now = decode_record<ThumbRecord>(bytes);
  cr_assert(now.has_value());
  cr_expect_eq(now->used_ns, 9999);
  bytes.resize(bytes.size() - sizeof(int64_t));  // as written before used_ns existed
  auto old = decode_record<ThumbRecord>(bytes);
  cr_assert(old.has_value());
  cr_expect_eq(old->used_ns, 1234);
  cr_expect_eq(old->size, 5u);
  bytes.pop_back();
  cr_expect(!decode_record<ThumbRecord>(bytes).has_value(), "shorter still is malformed");
}

Test(thumbnail_records, decode_set_key_reads_what_set_key_wrote) {
  ImageSetKey sets[] = {kSet, ImageSetKey{"users", EntityId{false, 0, "ab-c"}, "picture", 7}};
  for (const ImageSetKey& set : sets) {
    auto decoded = decode_set_key(set_key(set));
    cr_assert(decoded.has_value());
    cr_expect(*decoded == set);
    auto of_thumb =
        decode_set_key(thumbnail_key(set, ThumbnailSpec{ThumbFit::kHeight, 0, 64, ImageFormat::kPng}), true);
    cr_assert(of_thumb.has_value());
    cr_expect(*of_thumb == set);
  }
  cr_expect(!decode_set_key(bytes_of("posts")).has_value());
}

Test(store_eviction, evicts_only_thumbnails_at_the_revision_chosen) {
  auto store = open_store();
  BlobId source = attach(*store);
  ThumbRecord a = put(*store, source, 10, 100);
  put(*store, source, 20, 100);
  ThumbnailRef stale{kSet, ThumbnailSpec{ThumbFit::kWidth, 20, 0, ImageFormat::kJpeg}, 999999, 0};
  ThumbnailRef current{kSet, ThumbnailSpec{ThumbFit::kWidth, 10, 0, ImageFormat::kJpeg}, a.revision, 0};
  std::vector<ThumbnailRef> refs{stale, current};
  auto dropped = store->evict_thumbnails(refs);
  cr_assert(dropped.ok());
  cr_expect(widths(*dropped) == (std::vector<uint32_t>{10}));
  cr_expect_eq((*dropped)[0].size, 400u);
  cr_expect(stored_widths(*store) == (std::vector<uint32_t>{20}));
  auto has = store->has_blob(a.blob);
  cr_expect(has.ok() && !*has, "the unreferenced, unpinned blob is freed");
  auto totals = store->totals();
  cr_expect(totals.ok() && totals->thumbnails == 1 && totals->thumbnail_bytes == 400);
  cr_expect(totals.ok() && totals->originals == 1 && totals->original_bytes == 800);
}

Test(store_eviction, a_pinned_blob_stays_readable_until_unpinned) {
  auto store = open_store();
  BlobId source = attach(*store);
  ThumbRecord a = put(*store, source, 10, 100);
  cr_assert(store->pin(a.blob).ok());
  ThumbnailRef r{kSet, ThumbnailSpec{ThumbFit::kWidth, 10, 0, ImageFormat::kJpeg}, a.revision, 0};
  cr_assert(store->evict_thumbnails(std::vector<ThumbnailRef>{r}).ok());
  std::vector<uint8_t> read;
  cr_assert(store->read_blob(a.blob, a.size, 0, a.size, [&](auto pieces) {
    for (auto p : pieces) read.insert(read.end(), p.begin(), p.end());
  }));
  cr_expect(read == bytes_of("t10-", 100), "an open file reads its bytes whole");
  store->unpin(a.blob);
  auto has = store->has_blob(a.blob);
  cr_expect(has.ok() && !*has);
}

Test(store_eviction, use_times_are_written_only_a_step_apart) {
  auto store = open_store();
  BlobId source = attach(*store);
  ThumbRecord a = put(*store, source, 10, 1000);
  ThumbnailRef r{kSet, ThumbnailSpec{ThumbFit::kWidth, 10, 0, ImageFormat::kJpeg}, a.revision, 0};
  auto used = [&] {
    auto t = store->get_thumbnail(kSet, r.spec);
    cr_assert(t.ok() && t->has_value());
    return (*t)->used_ns;
  };
  cr_expect_eq(used(), 1000);
  std::vector<std::pair<ThumbnailRef, int64_t>> uses{{r, 1050}};
  cr_assert(store->record_thumbnail_use(uses, 100));
  cr_expect_eq(used(), 1000, "50 ns later is within the step: not written");
  uses[0].second = 1100;
  cr_assert(store->record_thumbnail_use(uses, 100));
  cr_expect_eq(used(), 1100);
  uses[0].second = 500;
  cr_assert(store->record_thumbnail_use(uses, 1));
  cr_expect_eq(used(), 1100, "never earlier");
  uses[0] = {ThumbnailRef{kSet, r.spec, a.revision + 1, 0}, 5000};
  cr_assert(store->record_thumbnail_use(uses, 1));
  cr_expect_eq(used(), 1100, "another revision's use is not this one's");
}

Test(store_eviction, evict_to_a_target_drops_the_oldest_used_first) {
  auto store = open_store();
  BlobId source = attach(*store);
  // Made at 100..500 ns; 100 is then used at 1000: 200 and 300 are the oldest.
  ThumbRecord first = put(*store, source, 100, 100);
  for (uint32_t w = 200; w <= 500; w += 100) put(*store, source, w, w);
  ThumbnailRef r{kSet, ThumbnailSpec{ThumbFit::kWidth, 100, 0, ImageFormat::kJpeg}, first.revision, 0};
  cr_assert(
      store->record_thumbnail_use(std::vector<std::pair<ThumbnailRef, int64_t>>{{r, 1000}}, 1));
  auto totals = store->totals();
  cr_assert(totals.ok());
  uint64_t each = totals->thumbnail_bytes / 5;
  auto freed = evict_thumbnails_to(*store, open_schema(), 3 * each, INT64_MAX, {}, {});
  cr_assert(freed.ok());
  cr_expect_eq(freed->thumbnails, 2u);
  cr_expect_eq(freed->bytes, 2 * each);
  cr_expect(stored_widths(*store) == (std::vector<uint32_t>{100, 400, 500}));
  auto after = store->totals();
  cr_expect(after.ok() && after->originals == 1, "originals never");
}

Test(store_eviction, records_used_at_or_after_newest_stay) {
  auto store = open_store();
  BlobId source = attach(*store);
  put(*store, source, 10, 100);
  put(*store, source, 20, 200);
  auto freed = evict_thumbnails_to(*store, open_schema(), 0, 200, {}, {});
  cr_assert(freed.ok());
  cr_expect_eq(freed->thumbnails, 1u);
  cr_expect(stored_widths(*store) == (std::vector<uint32_t>{20}));
}

Test(thumbnail_budget, a_touched_thumbnail_outlives_an_untouched_newer_one) {
  auto store = open_store();
  BlobId source = attach(*store);
  int64_t now = now_ns();
  ThumbRecord old = put(*store, source, 10, now - 100 * kNanosPerSecond);
  put(*store, source, 20, now - 50 * kNanosPerSecond);
  put(*store, source, 30, now - 40 * kNanosPerSecond);
  std::vector<EvictedThumbnail> told;
  auto totals = store->totals();
  cr_assert(totals.ok());
  uint64_t each = totals->thumbnail_bytes / 3;
  // A budget just under two: the pass goes down to 7/8 of it, room for one.
  ThumbnailBudget budget(*store, open_schema(), each * 2 - 1,
                         [&](const std::vector<EvictedThumbnail>& batch) {
                           told.insert(told.end(), batch.begin(), batch.end());
                         });
  budget.touch(at("/posts/1/photos/0/thumb/10.jpg"), old.revision);
  cr_assert(budget.run_once());
  cr_expect(stored_widths(*store) == (std::vector<uint32_t>{10}), "20 and 30 were used before 10");
  cr_expect_eq(budget.evicted(), 2u);
  cr_expect_eq(budget.evicted_bytes(), 2 * each);
  cr_assert_eq(told.size(), 2u);
  cr_expect_eq(path_string(told[0].path), "/posts/1/photos/0/thumb/20.jpg");
  cr_expect_eq(path_string(told[1].path), "/posts/1/photos/0/thumb/30.jpg");
}

Test(thumbnail_budget, under_the_budget_nothing_goes) {
  auto store = open_store();
  BlobId source = attach(*store);
  put(*store, source, 10, 100);
  ThumbnailBudget budget(*store, open_schema(), 400, {});  // the one is 400 bytes: at, not over
  cr_assert(budget.run_once());
  cr_expect_eq(budget.passes(), 0u);
  cr_expect(stored_widths(*store) == (std::vector<uint32_t>{10}));
}

Test(thumbnail_budget, uses_noted_are_written_at_the_stop) {
  auto store = open_store();
  BlobId source = attach(*store);
  ThumbRecord made = put(*store, source, 10, 100);
  ThumbnailBudget budget(*store, open_schema(), 1u << 20, {});
  budget.start();
  int64_t before = now_ns();
  budget.touch(at("/posts/1/photos/0/thumb/10.jpg"), made.revision);
  budget.stop();
  auto t = store->get_thumbnail(kSet, ThumbnailSpec{ThumbFit::kWidth, 10, 0, ImageFormat::kJpeg});
  cr_assert(t.ok() && t->has_value());
  cr_expect_geq((*t)->used_ns, before, "the next mount and gc see this use");
}

// cache_size notes each original's last read in memory, within a bound: at
// the bound the older half is forgotten at once (not a scan per new read).
Test(cache_budget, the_reads_noted_stay_bounded_and_the_newest_are_kept) {
  auto store = open_store();
  CacheBudget budget(*store, open_schema(), 1u << 20, {});
  const size_t total = CacheBudget::kMaxNoted + CacheBudget::kMaxNoted / 4;
  for (size_t i = 0; i < total; ++i) {
    budget.used(sha256_of(bytes_of("blob " + std::to_string(i))));
    cr_assert_leq(budget.noted(), CacheBudget::kMaxNoted);
  }
  cr_expect_geq(budget.noted(), CacheBudget::kMaxNoted / 2);
  size_t before = budget.noted();
  budget.used(sha256_of(bytes_of("blob " + std::to_string(total - 1))));
  cr_expect_eq(budget.noted(), before, "the newest read is still noted");
}
