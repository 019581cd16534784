// Unit tests of how a bucket's log entries become the store's.
#include "sync/bucket_committer.h"

#include <criterion/criterion.h>

using namespace iafs;
using namespace iafs::sync;

namespace {

ImageSetKey set_of(uint64_t id) {
  return ImageSetKey{"posts", EntityId{true, id, std::to_string(id)}, "photos", 0};
}

}  // namespace

Test(bucket_committer, entries_become_the_stores_with_their_time_and_guards) {
  Entry entry;
  entry.seq = 7;
  entry.prev = std::string(64, 'a');
  entry.time_ns = 123456789;
  LogOp mtime;
  mtime.change = SetMtime{set_of(1), 42};
  mtime.ext = "png";
  LogOp move;
  move.change = MoveSet{set_of(1), set_of(2)};
  entry.ops = {mtime, move};
  auto logged = logged_entry(entry, std::string(64, 'b'));
  cr_assert(logged.ok());
  cr_assert(logged->seq == 7 && logged->prev_sha256 == entry.prev &&
            logged->sha256 == std::string(64, 'b') && logged->time_ns == 123456789);
  cr_assert(logged->ops.size() == 2);
  cr_assert(logged->ops[0].original_ext == "png");
  cr_assert(logged->ops[0].op.time_ns == 123456789 && logged->ops[1].op.time_ns == 123456789);
  cr_assert(std::get<SetMtime>(logged->ops[0].op.change).mtime_ns == 42);
  cr_assert(std::holds_alternative<MoveSet>(logged->ops[1].op.change));
}

Test(bucket_committer, a_drop_thumb_reaches_the_store_as_it_is) {
  Entry entry;
  entry.seq = 3;
  LogOp drop;
  ImageSetKey set{"posts", EntityId{true, 1, "1"}, "photos", 0};
  drop.change = DropThumb{BlobId{}, std::string(16, '0'), "300.jpg", set};
  entry.ops = {drop};
  auto logged = logged_entry(entry, std::string(64, 'c'));
  cr_assert(logged.ok());
  const auto* got = std::get_if<DropThumb>(&logged->ops.at(0).op.change);
  cr_assert(got != nullptr && got->name == "300.jpg" && got->set == set);
}

Test(bucket_committer, gc_steps_and_an_attachs_checked_reach_the_store) {
  Entry entry;
  entry.seq = 4;
  LogOp sweep;
  sweep.change = GcStep{GcStep::Kind::kSweep, {BlobId{1}}, 5000};
  LogOp attach;
  attach.change = AttachOriginal{};
  attach.checked = 3;
  entry.ops = {sweep, attach};
  auto logged = logged_entry(entry, std::string(64, 'c'));
  cr_assert(logged.ok());
  const auto& gc = logged->ops[0].gc;
  cr_assert(gc.has_value() && gc->kind == GcOp::Kind::kSweep && gc->grace_ns == 5000 &&
            gc->shas.size() == 1 && gc->shas[0][0] == 1);
  cr_assert(!logged->ops[1].gc.has_value() && logged->ops[1].checked == 3);
}
