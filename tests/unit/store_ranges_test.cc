// Unit tests of a large blob fetched in ranges (SCALEOUT.md §10): each range
// stored on its own and readable at once, the bytes held counted, the whole
// checked when its last range lands, and ranges dropped like whole blobs.
#include <criterion/criterion.h>

#include <condition_variable>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "log_stores.h"
#include "store/records.h"

using namespace iafs;
using namespace iafs::test;

namespace {

constexpr uint64_t kRange = Store::kRangeBytes;

// Two whole ranges and a short third one.
std::vector<uint8_t> large_bytes(unsigned seed) {
  std::vector<uint8_t> bytes(2 * kRange + 12345);
  std::mt19937 rng(seed);
  for (auto& b : bytes) b = static_cast<uint8_t>(rng());
  return bytes;
}

std::span<const uint8_t> range_of(const std::vector<uint8_t>& bytes, uint64_t at) {
  return std::span<const uint8_t>(bytes).subspan(at, std::min(kRange, bytes.size() - at));
}

uint64_t cached(Store& store) {
  auto total = store.cached_bytes();
  cr_assert(total.ok() && total->has_value());
  return **total;
}

// Bytes [offset, offset + length) as the store serves them, or nullopt.
std::optional<std::vector<uint8_t>> read(Store& store, const std::vector<uint8_t>& bytes,
                                         uint64_t offset, uint64_t length) {
  std::vector<uint8_t> got;
  Status s = store.read_blob(sha256_of(bytes), bytes.size(), offset, length, [&](auto pieces) {
    for (auto piece : pieces) got.insert(got.end(), piece.begin(), piece.end());
  });
  if (!s.ok()) return std::nullopt;
  return got;
}

std::vector<uint64_t> missing(Store& store, const BlobId& id, uint64_t offset, uint64_t length) {
  auto found = store.missing_ranges(id, offset, length);
  cr_assert(found.ok(), "missing_ranges: %s", found.ok() ? "" : found.error().message.c_str());
  return *found;
}

// A store where another host committed `bytes` to set 1 (recorded, not cached).
std::unique_ptr<Store> store_with_theirs(const std::vector<uint8_t>& bytes) {
  auto store = log_store();
  apply(*store, entry_after(*store, {attach_op(set_of(1), bytes)}, 5));
  cr_assert(*store->blob_cached(sha256_of(bytes)) == false);
  return store;
}

}  // namespace

Test(store_ranges, a_range_is_readable_as_soon_as_it_is_stored) {
  std::vector<uint8_t> bytes = large_bytes(1);
  auto store = store_with_theirs(bytes);
  BlobId id = sha256_of(bytes);
  cr_assert(missing(*store, id, kRange + 10, 100) == std::vector<uint64_t>{kRange});
  cr_assert(missing(*store, id, kRange - 1, 2) == (std::vector<uint64_t>{0, kRange}));
  cr_assert(missing(*store, id, 0, bytes.size()).size() == 3);
  cr_assert(store->cache_blob_range(id, kRange, range_of(bytes, kRange)).ok());
  cr_assert(cached(*store) == kRange, "the range's bytes count");
  cr_assert(*store->blob_cached(id) == false, "not all of it");
  auto got = read(*store, bytes, kRange + 10, 100);
  cr_assert(got && *got == std::vector<uint8_t>(bytes.begin() + kRange + 10,
                                                bytes.begin() + kRange + 110));
  cr_assert(!read(*store, bytes, kRange - 1, 2), "a read into a range not stored fails");
  cr_assert(missing(*store, id, kRange + 10, 100).empty());
  cr_assert(store->cache_blob_range(id, kRange, range_of(bytes, kRange)).ok(), "again: nothing");
  cr_assert(cached(*store) == kRange);

  cr_assert(store->cache_blob_range(id, 2 * kRange, range_of(bytes, 2 * kRange)).ok());
  cr_assert(store->cache_blob_range(id, 0, range_of(bytes, 0)).ok());
  cr_assert(*store->blob_cached(id) == true, "whole and checked: cached");
  cr_assert(cached(*store) == bytes.size());
  cr_assert(missing(*store, id, 0, bytes.size()).empty());
  got = read(*store, bytes, 0, bytes.size());
  cr_assert(got && *got == bytes);
}

Test(store_ranges, ranges_that_do_not_hash_to_the_blob_are_all_dropped) {
  std::vector<uint8_t> bytes = large_bytes(2);
  auto store = store_with_theirs(bytes);
  BlobId id = sha256_of(bytes);
  std::vector<uint8_t> tampered = bytes;
  tampered[kRange + 77] ^= 1;
  cr_assert(store->cache_blob_range(id, 0, range_of(bytes, 0)).ok());
  cr_assert(store->cache_blob_range(id, kRange, range_of(tampered, kRange)).ok(),
            "a range alone cannot be checked");
  Status last = store->cache_blob_range(id, 2 * kRange, range_of(bytes, 2 * kRange));
  cr_assert(!last.ok() && last.error().code == ErrorCode::kIo);
  cr_assert(*store->blob_cached(id) == false);
  cr_assert(cached(*store) == 0, "nothing kept: %lu", static_cast<unsigned long>(cached(*store)));
  cr_assert(missing(*store, id, 0, bytes.size()).size() == 3, "to be fetched again");
  cr_assert(!read(*store, bytes, 0, 10));
}

Test(store_ranges, a_range_of_the_wrong_place_or_length_is_refused) {
  std::vector<uint8_t> bytes = large_bytes(3);
  auto store = store_with_theirs(bytes);
  BlobId id = sha256_of(bytes);
  auto refused = [&](uint64_t at, std::span<const uint8_t> piece) {
    Status s = store->cache_blob_range(id, at, piece);
    return !s.ok() && s.error().code == ErrorCode::kInvalid;
  };
  cr_assert(refused(1, range_of(bytes, 1)), "unaligned");
  cr_assert(refused(0, range_of(bytes, 0).first(kRange - 1)), "short");
  cr_assert(refused(2 * kRange, range_of(bytes, kRange)), "the last range is shorter");
  cr_assert(refused(3 * kRange, range_of(bytes, 2 * kRange)), "past the end");
  cr_assert(cached(*store) == 0);
  std::vector<uint8_t> unknown = large_bytes(4);
  Status gone = store->cache_blob_range(sha256_of(unknown), 0, range_of(unknown, 0));
  cr_assert(!gone.ok() && gone.error().code == ErrorCode::kNotFound, "no record: nothing kept");
  cr_assert(!store->missing_ranges(sha256_of(unknown), 0, 1).ok());
}

Test(store_ranges, ranges_are_evicted_and_freed_like_whole_blobs) {
  std::vector<uint8_t> bytes = large_bytes(5);
  auto store = store_with_theirs(bytes);
  BlobId id = sha256_of(bytes);
  cr_assert(store->cache_blob_range(id, kRange, range_of(bytes, kRange)).ok());
  std::vector<std::pair<BlobId, uint64_t>> seen;
  cr_assert(store
                ->scan_cached_originals([&](const BlobId& blob, uint64_t held) {
                  seen.emplace_back(blob, held);
                  return true;
                })
                .ok());
  cr_assert(seen.size() == 1 && seen[0].first == id && seen[0].second == kRange,
            "evictable, with the bytes it holds");
  cr_assert(store->uncache_blob(id).ok());
  cr_assert(cached(*store) == 0);
  cr_assert(!read(*store, bytes, kRange, 10), "its chunks went too");
  cr_assert(missing(*store, id, 0, bytes.size()).size() == 3);

  cr_assert(store->cache_blob_range(id, 0, range_of(bytes, 0)).ok());
  cr_assert(cached(*store) == kRange);
  apply(*store, entry_after(*store, {{Op{RemoveSet{set_of(1), std::string("jpg")}, 0}, ""}}, 6));
  cr_assert(cached(*store) == 0, "the removed original's ranges are freed");
  cr_assert(*store->has_blob(id) == false);
}

Test(store_ranges, bytes_stored_whole_over_ranges_count_once) {
  std::vector<uint8_t> bytes = large_bytes(6);
  auto store = store_with_theirs(bytes);
  BlobId id = sha256_of(bytes);
  cr_assert(store->cache_blob_range(id, kRange, range_of(bytes, kRange)).ok());
  cr_assert(store->cache_blob(id, xxh3_of(bytes), SpanSource(bytes), true).ok());
  cr_assert(*store->blob_cached(id) == true);
  cr_assert(cached(*store) == bytes.size());
  // This host uploads the same bytes to another set over a partial blob.
  std::vector<uint8_t> other = large_bytes(7);
  apply(*store, entry_after(*store, {attach_op(set_of(2), other)}, 7));
  BlobId other_id = sha256_of(other);
  cr_assert(store->cache_blob_range(other_id, 0, range_of(other, 0)).ok());
  AttachOriginal op = std::get<AttachOriginal>(attach_op(set_of(3), other).op.change);
  cr_assert(store->apply(Op{op, 8}, SpanSource(other)).ok());
  cr_assert(*store->blob_cached(other_id) == true);
  cr_assert(cached(*store) == bytes.size() + other.size(), "%lu",
            static_cast<unsigned long>(cached(*store)));
}

Test(store_ranges, a_partial_record_round_trips_and_bad_ones_are_refused) {
  BlobRecord record{100, 7, 1, false, 40};
  auto decoded = decode_record<BlobRecord>(encode_record(record));
  cr_assert(decoded && !decoded->cached && decoded->partial == 40 && decoded->size == 100);
  record.partial = 100;
  decoded = decode_record<BlobRecord>(encode_record(record));
  cr_assert(decoded && decoded->partial == 100, "all ranges, not yet checked");
  record.partial = 101;
  cr_assert(!decode_record<BlobRecord>(encode_record(record)), "more than its size");
  BlobRecord whole{100, 7, 1, true, 0};
  decoded = decode_record<BlobRecord>(encode_record(whole));
  cr_assert(decoded && decoded->cached && decoded->partial == 0);
  cr_assert(held_bytes(BlobRecord{100, 7, 1, false, 40}) == 40);
  cr_assert(held_bytes(whole) == 100);
}

Test(store_ranges, a_check_of_ranges_not_all_held_changes_nothing) {
  std::vector<uint8_t> bytes = large_bytes(7);
  auto store = store_with_theirs(bytes);
  BlobId id = sha256_of(bytes);
  cr_assert(store->check_ranges(id).ok(), "none held");
  cr_assert(store->cache_blob_range(id, 0, range_of(bytes, 0)).ok());
  cr_assert(store->cache_blob_range(id, 2 * kRange, range_of(bytes, 2 * kRange)).ok());
  Status checked = store->check_ranges(id);
  cr_assert(checked.ok(), "two of three held: %s",
            checked.ok() ? "" : checked.error().message.c_str());
  cr_assert(cached(*store) == kRange + 12345 && *store->blob_cached(id) == false);
  cr_assert(store->uncache_blob(id).ok());
  cr_assert(store->check_ranges(id).ok(), "evicted: nothing dropped, no error");
  cr_assert(cached(*store) == 0);
  cr_assert(store->cache_blob_range(id, kRange, range_of(bytes, kRange)).ok());
  cr_assert(store->check_ranges(id).ok() && *store->blob_cached(id) == false);
}

// Eviction and a refetch of other bytes between a check's read and its
// verdict (another check, of the new bytes, under way): the verdict must not
// cache bytes it did not read.
Test(store_ranges, a_check_never_caches_bytes_dropped_and_fetched_anew_meanwhile) {
  std::vector<uint8_t> bytes = large_bytes(8);
  std::vector<uint8_t> tampered = bytes;
  tampered[kRange + 7] ^= 0x5a;
  auto store = store_with_theirs(bytes);
  BlobId id = sha256_of(bytes);
  std::mutex mutex;
  std::condition_variable changed;
  int calls = 0;
  bool second_waiting = false;
  bool released = false;
  bool evicted = false;
  std::thread refetch;
  store->on_range_check_read([&] {
    std::unique_lock lock(mutex);
    int call = ++calls;
    if (call == 1) {
      // The first check read the right bytes: now they are evicted, and
      // other bytes fetched, whose own check waits here until this one ends.
      refetch = std::thread([&] {
        evicted = store->uncache_blob(id).ok();
        for (uint64_t at = 0; at < bytes.size(); at += kRange) {
          (void)store->cache_blob_range(id, at, range_of(tampered, at));
        }
      });
      // Bounded: a check that never comes fails the test below, not hangs it.
      changed.wait_for(lock, std::chrono::seconds(20), [&] { return second_waiting; });
    } else if (call == 2) {
      second_waiting = true;
      changed.notify_all();
      changed.wait_for(lock, std::chrono::seconds(20), [&] { return released; });
    }
  });
  // All three ranges in: the last one's check is the first call above.
  for (uint64_t at = 0; at < bytes.size(); at += kRange) {
    (void)store->cache_blob_range(id, at, range_of(bytes, at));
  }
  {
    std::lock_guard lock(mutex);
    released = true;
  }
  changed.notify_all();
  refetch.join();
  store->on_range_check_read({});
  cr_assert(evicted && second_waiting, "the refetch's own check ran meanwhile");
  if (*store->blob_cached(id)) {
    auto got = read(*store, bytes, 0, bytes.size());
    cr_assert(got && *got == bytes, "cached bytes that are not the blob's");
  }
  cr_assert(*store->blob_cached(id) == false, "the tampered bytes are never cached");
  cr_assert(store->check_ranges(id).ok());
}
