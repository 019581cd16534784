// Unit tests of the derived state a snapshot holds (Store::dump_derived,
// load_derived): the same bytes from every host at one cursor, whatever it
// caches; a load that gives back that state; malformed streams refused whole.
#include <criterion/criterion.h>

#include <string>
#include <vector>

#include "log_stores.h"
#include "store/keys.h"

using namespace iafs;
using namespace iafs::test;

namespace {

// A few entries of every kind of op: attaches (two sets sharing one
// original), a move, a removal, mtimes, a focus and a directory mtime.
void apply_history(Store& store) {
  std::vector<uint8_t> a = bytes_of("original a"), b = bytes_of("original b");
  apply(store, entry_after(store,
                           {attach_op(set_of(1), a), attach_op(set_of(2), b),
                            attach_op(set_of(3), a, "png")},
                           1000));
  apply(store, entry_after(store,
                           {LoggedOp{Op{MoveSet{set_of(2), set_of(4)}, 0}, ""},
                            LoggedOp{Op{SetMtime{set_of(1), 777}, 0}, "jpg"}},
                           2000));
  apply(store, entry_after(store,
                           {LoggedOp{Op{SetFocus{set_of(3), FocalPoint{1, 2}}, 0}, "png"},
                            LoggedOp{Op{SetDirMtime{"/posts/1", 555}, 0}, ""},
                            attach_op(set_of(5), bytes_of("original c"))},
                           3000));
  apply(store,
        entry_after(
            store,
            {LoggedOp{Op{RemoveSet{set_of(5), "jpg"}, 0}, "jpg"},
             LoggedOp{Op{DropThumb{sha256_of(a), std::string(16, 'f'), "300.jpg", set_of(1)}, 0},
                      ""}},
            4000));
}

std::string joined(const DerivedDump& dump) {
  std::string out;
  for (const std::string& part : dump.parts) out += part;
  return out;
}

DerivedDump dump_of(Store& store, size_t part_bytes = size_t{64} << 20) {
  auto dump = store.dump_derived(part_bytes);
  cr_assert(dump.ok(), "dump: %s", dump.ok() ? "" : dump.error().message.c_str());
  return std::move(dump).value();
}

}  // namespace

Test(store_dump, two_hosts_at_one_cursor_dump_the_same_bytes_whatever_they_cache) {
  auto a = log_store();
  auto b = log_store();
  apply_history(*a);
  apply_history(*b);
  std::vector<uint8_t> bytes = bytes_of("original a");
  cr_assert(a->cache_blob(sha256_of(bytes), xxh3_of(bytes), SpanSource(bytes)).ok());
  DerivedDump one = dump_of(*a), two = dump_of(*b);
  cr_assert(one.at.seq == 4 && one.at.seq == two.at.seq && one.at.time_ns == 4000);
  cr_assert(joined(one) == joined(two), "identical streams");
  // Directory mtime, a thumbnail generation, sets 1, 3 and 4, and the
  // blobs of originals a and b.
  cr_assert_eq(one.records, 1u + 1u + 3u + 2u);
}

Test(store_dump, a_load_gives_back_the_state_at_the_snapshots_cursor) {
  auto source = log_store();
  apply_history(*source);
  DerivedDump dump = dump_of(*source, 64);  // many small parts
  cr_assert(dump.parts.size() > 2);
  auto target = log_store();
  apply(*target, entry_after(*target, {attach_op(set_of(9), bytes_of("elsewhere"))}, 1));
  cr_assert(target->load_derived(dump.at, dump.parts).ok());
  auto cursor = target->log_cursor();
  cr_assert(cursor.ok() && cursor->seq == 4 && cursor->sha256_hex == dump.at.sha256_hex &&
            cursor->time_ns == 4000);
  cr_assert(joined(dump_of(*target)) == joined(dump), "the same state");
  auto moved = target->get_set(set_of(4));
  cr_assert(moved.ok() && moved->has_value() && (*moved)->created_ns == 1000);
  auto gone = target->get_set(set_of(9));
  cr_assert(gone.ok() && !gone->has_value(), "what the store held before is dropped");
  auto mtime = target->get_dir_mtime("/posts/1");
  cr_assert(mtime.ok() && mtime->value_or(0) == 555);
  auto gen = target->thumb_gen(sha256_of(bytes_of("original a")), std::string(16, 'f'), "300.jpg");
  cr_assert(gen.ok() && *gen == 4, "the thumbnail generation of the drop_thumb at seq 4");
  auto totals = target->totals();
  cr_assert(totals.ok() && totals->originals == 3 && totals->thumbnails == 0);
  auto cached = target->cached_bytes();
  cr_assert(cached.ok() && cached->value_or(1) == 0, "no bytes cached after a load");
  auto blob = target->blob_cached(sha256_of(bytes_of("original a")));
  cr_assert(blob.ok() && !*blob, "recorded, not cached: a read fetches it");
  // The log goes on from there.
  apply(*target, entry_after(*target, {attach_op(set_of(6), bytes_of("next"))}, 5000));
  auto next = target->get_set(set_of(6));
  cr_assert(next.ok() && next->has_value());
}

Test(store_dump, malformed_or_inconsistent_streams_change_nothing) {
  auto source = log_store();
  apply_history(*source);
  DerivedDump dump = dump_of(*source);
  std::string stream = joined(dump);
  auto target = log_store();
  apply(*target, entry_after(*target, {attach_op(set_of(9), bytes_of("kept"))}, 1));
  std::string before = joined(dump_of(*target));
  std::vector<std::vector<std::string>> bad = {
      {stream.substr(0, stream.size() - 1)},           // cut short
      {stream + stream},                               // keys out of order
      {stream.substr(0, 4) + "x" + stream.substr(5)},  // an unknown table
  };
  // A set whose original's blob record is missing: drop the last record (a blob).
  size_t at = 0, last = 0;
  while (at < stream.size()) {
    last = at;
    at += 4 + get_u32_be(reinterpret_cast<const uint8_t*>(stream.data()) + at);
  }
  bad.push_back({stream.substr(0, last)});
  for (const auto& parts : bad) {
    Status s = target->load_derived(dump.at, parts);
    cr_assert(!s.ok() && s.error().code == ErrorCode::kInvalid);
    cr_assert(joined(dump_of(*target)) == before, "nothing changed");
  }
}

Test(store_dump, no_load_while_a_blob_is_pinned) {
  auto store = log_store();
  std::vector<uint8_t> bytes = bytes_of("open file");
  apply(*store, entry_after(*store, {attach_op(set_of(1), bytes)}, 1));
  cr_assert(store->cache_blob(sha256_of(bytes), xxh3_of(bytes), SpanSource(bytes)).ok());
  cr_assert(store->pin(sha256_of(bytes)).ok());
  DerivedDump dump = dump_of(*store);
  Status s = store->load_derived(dump.at, dump.parts);
  cr_assert(!s.ok() && s.error().code == ErrorCode::kBusy);
  store->unpin(sha256_of(bytes));
  cr_assert(store->load_derived(dump.at, dump.parts).ok());
}

Test(store_dump, an_empty_load_starts_the_log_again) {
  auto store = log_store();
  apply_history(*store);
  cr_assert(store->load_derived(LogCursor{0, kOrigin, 0}, {}).ok());
  auto cursor = store->log_cursor();
  cr_assert(cursor.ok() && cursor->seq == 0 && cursor->sha256_hex == kOrigin);
  cr_assert_eq(dump_of(*store).records, 0u);
}
