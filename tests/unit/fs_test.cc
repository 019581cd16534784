// Unit tests of fs: the inode table and the one errno mapping.
#include <criterion/criterion.h>

#include <cerrno>
#include <memory>

#include "config/schema_parser.h"
#include "fs/filesystem.h"
#include "fs/inode_table.h"
#include "path/path.h"
#include "paths.h"

using namespace iafs;

namespace {


FileVersion version(uint64_t revision) {
  FileVersion v;
  v.revision = revision;
  v.size = 10;
  return v;
}

}  // namespace

Test(inode_table, one_nodeid_per_directory_path_counted_by_lookups) {
  InodeTable table;
  fuse_ino_t a = table.ref_directory(at("/posts/1"));
  cr_expect_eq(table.ref_directory(at("/posts/1")), a);
  cr_expect_neq(table.ref_directory(at("/posts/2")), a);
  cr_expect(!table.forget(a, 1).has_value(), "one lookup left");
  auto gone = table.forget(a, 1);
  cr_assert(gone.has_value());
  cr_expect(gone->path == at("/posts/1"));
  cr_expect(!table.get(a).has_value());
  cr_expect_neq(table.ref_directory(at("/posts/1")), a, "nodeids are never reused");
}

Test(inode_table, each_version_of_a_file_has_its_own_nodeid) {
  InodeTable table;
  ImagePath original = at("/posts/1/photos/0/original.jpg");
  fuse_ino_t first = table.ref_version(original, version(1)).value();
  fuse_ino_t second = table.ref_version(original, version(2)).value();
  cr_expect_neq(first, second);
  cr_expect_eq(table.ref_version(original, version(1)).value(), first);
  cr_expect_eq(table.find_files(original).size(), 2u);
  table.forget(first, 2);
  cr_expect_eq(table.find_files(original).size(), 1u);
}

// A version's node is pinned before any other lookup finds it: a lookup that
// shares the node never sees one whose pin failed (its bytes freed).
Test(inode_table, a_version_node_is_found_only_once_its_pin_held) {
  InodeTable table;
  ImagePath original = at("/posts/1/photos/0/original.jpg");
  int pins = 0;
  auto refused = [&] {
    ++pins;
    return Status(make_error(ErrorCode::kNotFound, "the file was replaced or removed"));
  };
  auto ref = table.ref_version(original, version(1), refused);
  cr_expect(!ref && ref.error().code == ErrorCode::kNotFound);
  cr_expect(table.find_files(original).empty(), "a failed pin adds no node");
  auto held = [&] {
    ++pins;
    return Status::Ok();
  };
  fuse_ino_t first = table.ref_version(original, version(1), held).value();
  cr_expect_eq(table.ref_version(original, version(1), held).value(), first);
  cr_expect_eq(pins, 2, "only a new node pins");
  cr_expect(!table.forget(first, 1).has_value());
  cr_expect(table.forget(first, 1).has_value());
}

Test(inode_table, the_root_is_never_forgotten) {
  InodeTable table;
  cr_expect(!table.forget(FUSE_ROOT_ID, 100).has_value());
  cr_expect(table.get(FUSE_ROOT_ID).has_value());
  cr_expect_eq(table.find_directory(ImagePath()).value(), FUSE_ROOT_ID);
}

Test(inode_table, a_retargeted_scratch_node_names_its_new_path) {
  InodeTable table;
  ImagePath scratch = at("/posts/1/photos/0/.original.jpg.X");
  ImagePath renamed = at("/posts/1/photos/0/original.jpg~");
  fuse_ino_t node = table.ref_scratch(scratch, 7);
  table.retarget_file(node, renamed);
  cr_expect(table.get(node)->path == renamed);
  cr_expect(table.find_files(scratch).empty());
  cr_expect_eq(table.find_files(renamed).size(), 1u);
  cr_expect_eq(table.ref_scratch(renamed, 7), node, "the same scratch file under its new name");
  cr_expect_neq(table.ref_scratch(scratch, 7), node);
}

Test(inode_table, a_scratch_node_committed_onto_an_original_has_no_version) {
  InodeTable table;
  fuse_ino_t node = table.ref_scratch(at("/posts/1/photos/0/.x"), 3);
  table.retarget_file(node, at("/posts/1/photos/0/original.jpg"));
  auto moved = table.get(node);
  cr_expect(moved->path == at("/posts/1/photos/0/original.jpg"));
  cr_expect(!moved->version.has_value());
  cr_expect_eq(moved->scratch_id, 0u);
}

Test(inode_table, moving_a_set_renames_its_nodes_and_detaches_the_target) {
  InodeTable table;
  fuse_ino_t set = table.ref_directory(at("/posts/1/photos/3"));
  fuse_ino_t thumb = table.ref_directory(at("/posts/1/photos/3/thumb"));
  fuse_ino_t file = table.ref_version(at("/posts/1/photos/3/thumb/300.jpg"), version(5)).value();
  fuse_ino_t old_target = table.ref_directory(at("/posts/2/photos/1"));
  table.move_set_nodes(at("/posts/1/photos/3").set, at("/posts/2/photos/1").set);
  cr_expect(table.get(set)->path == at("/posts/2/photos/1"));
  cr_expect(table.get(thumb)->path == at("/posts/2/photos/1/thumb"));
  cr_expect(table.get(file)->path == at("/posts/2/photos/1/thumb/300.jpg"));
  cr_expect_eq(table.find_directory(at("/posts/2/photos/1")).value(), set);
  cr_expect(!table.find_directory(at("/posts/1/photos/3")).has_value());
  cr_expect_eq(table.find_files(at("/posts/2/photos/1/thumb/300.jpg")).size(), 1u);
  cr_expect(table.get(old_target).has_value(), "the kernel still holds it until FORGET");
  cr_expect_neq(table.ref_directory(at("/posts/1/photos/3")), set);
}

Test(inode_table, an_rmdired_set_gets_fresh_nodeids) {
  InodeTable table;
  fuse_ino_t set = table.ref_directory(at("/posts/1/photos/3"));
  fuse_ino_t thumb = table.ref_directory(at("/posts/1/photos/3/thumb"));
  table.detach_directory(at("/posts/1/photos/3"));
  cr_expect_neq(table.ref_directory(at("/posts/1/photos/3")), set);
  cr_expect_neq(table.ref_directory(at("/posts/1/photos/3/thumb")), thumb);
}

Test(inode_table, each_snapshot_gets_a_fresh_node_freed_at_its_forget) {
  InodeTable table;
  ImagePath metrics = at("/.imageattachfs/metrics");
  auto first = std::make_shared<const Snapshot>(Snapshot{"a 1\n", 1});
  auto second = std::make_shared<const Snapshot>(Snapshot{"a 2\n", 2});
  fuse_ino_t one = table.ref_snapshot(metrics, first);
  fuse_ino_t two = table.ref_snapshot(metrics, second);
  cr_expect_neq(one, two, "every lookup of the name is a new node");
  cr_expect_eq(table.get(one)->snapshot->bytes, "a 1\n");
  cr_expect_eq(table.get(two)->snapshot->bytes, "a 2\n");
  cr_expect(table.ref_existing(one));
  cr_expect(!table.forget(one, 1).has_value(), "one lookup left");
  cr_expect(table.forget(one, 1).has_value());
  cr_expect_eq(first.use_count(), 1, "the table let go of its snapshot");
  cr_expect_eq(second.use_count(), 2);
}

Test(errors, each_error_code_has_its_errno) {
  struct {
    ErrorCode code;
    int errno_value;
  } expected[] = {
      {ErrorCode::kNotFound, ENOENT},
      {ErrorCode::kInvalid, EINVAL},
      {ErrorCode::kTooBig, EFBIG},
      {ErrorCode::kPermission, EPERM},
      {ErrorCode::kNotSupported, ENOTSUP},
      {ErrorCode::kNoAttribute, ENODATA},
      {ErrorCode::kExists, EEXIST},
      {ErrorCode::kNotEmpty, ENOTEMPTY},
      {ErrorCode::kCrossDevice, EXDEV},
      {ErrorCode::kNoSpace, ENOSPC},
      {ErrorCode::kIo, EIO},
      {ErrorCode::kIsDirectory, EISDIR},
      {ErrorCode::kNotDirectory, ENOTDIR},
      {ErrorCode::kRange, ERANGE},
      {ErrorCode::kBusy, EBUSY},
      {ErrorCode::kStale, ESTALE},
      {ErrorCode::kNameTooLong, ENAMETOOLONG},
      {ErrorCode::kTooMany, EMFILE},
      {ErrorCode::kReadOnly, EROFS},
      {ErrorCode::kNotAsked, ENOSYS},
  };
  for (const auto& e : expected) {
    cr_expect_eq(errno_of(make_error(e.code, "")), e.errno_value, "code %d",
                 static_cast<int>(e.code));
  }
}
