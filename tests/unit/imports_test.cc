// ImageSets' bulk import (src/attach/imports.cc): plan_import judges an
// original as commit_original does, and skips what the store holds already.
#include <criterion/criterion.h>

#include <string>
#include <vector>

#include "attach/image_sets.h"
#include "config/schema_parser.h"
#include "paths.h"
#include "temp_dirs.h"
#include "test_images.h"

using namespace iafs;

namespace {

struct Fixture {
  std::unique_ptr<Store> store;
  std::unique_ptr<StagingArea> staging;
  std::unique_ptr<ImageSets> sets;

  Fixture() {
    test::ensure_vips();
    std::string dir = test::temp_dir("imports-test");
    StoreOptions options;
    options.map_size = 1ull << 30;
    store = std::move(Store::open(dir, options)).value();
    staging = std::move(StagingArea::open(dir + "/staging")).value();
    sets = std::make_unique<ImageSets>(*store, open_schema(), *staging, 2);
  }

  ImportPlan plan(const std::string& path, const std::vector<uint8_t>& bytes, int64_t mtime) {
    auto planned = sets->plan_import(at(path), bytes, mtime);
    cr_assert(planned.ok(), "%s", planned.ok() ? "" : planned.error().message.c_str());
    return std::move(planned).value();
  }

  void commit(const ImportPlan& plan, const std::vector<uint8_t>& bytes) {
    std::vector<Op> ops = {*plan.op};
    std::vector<std::span<const uint8_t>> blobs = {bytes};
    auto committed = sets->commit_imports(ops, blobs);
    cr_assert(committed.ok(), "%s", committed.ok() ? "" : committed.error().message.c_str());
  }
};

const char* const kPath = "/posts/1/photos/0/original.jpg";

}  // namespace

Test(imports, refuses_what_an_upload_is_refused_with_the_same_error) {
  Fixture f;
  std::vector<uint8_t> png = test::make_image(40, 30, ".png");
  auto planned = f.sets->plan_import(at(kPath), png, 5);
  auto uploaded = f.sets->commit_original(at(kPath), png, 5);
  cr_assert(!planned.ok() && !uploaded.ok());
  cr_assert_eq(planned.error().code, ErrorCode::kInvalid);
  cr_assert_eq(planned.error().message, uploaded.error().message);
  std::vector<uint8_t> empty;
  cr_assert_eq(f.sets->plan_import(at(kPath), empty, 5).error().code, ErrorCode::kInvalid);
  cr_assert(!f.store->get_set(at(kPath).set)->has_value());
}

Test(imports, refuses_sizes_over_the_schema_before_reading) {
  Fixture f;
  auto refused = f.sets->check_original_size(at(kPath), 100'000'001);
  cr_assert(!refused.ok());
  cr_assert_eq(refused.error().code, ErrorCode::kTooBig);
  cr_assert(f.sets->check_original_size(at(kPath), 100'000'000).ok());
}

Test(imports, plans_attach_then_skip_then_only_the_mtime_then_a_replacement) {
  Fixture f;
  std::vector<uint8_t> jpeg = test::make_image(64, 48, ".jpg");
  ImportPlan first = f.plan(kPath, jpeg, 111);
  cr_assert(first.kind == ImportPlan::Kind::kAttach && !first.replaces);
  cr_assert(!f.store->get_set(at(kPath).set)->has_value());  // planning stores nothing
  f.commit(first, jpeg);
  cr_assert_eq((*f.store->get_set(at(kPath).set))->mtime_ns, 111);
  cr_assert(f.plan(kPath, jpeg, 111).kind == ImportPlan::Kind::kSkip);
  ImportPlan touched = f.plan(kPath, jpeg, 222);
  cr_assert(touched.kind == ImportPlan::Kind::kSetMtime);
  f.commit(touched, {});
  cr_assert_eq((*f.store->get_set(at(kPath).set))->mtime_ns, 222);
  // Another name for the same bytes, and other bytes: both attach again.
  cr_assert(f.plan("/posts/1/photos/0/original.jpeg", jpeg, 222).kind == ImportPlan::Kind::kAttach);
  ImportPlan other = f.plan(kPath, test::make_image(32, 24, ".jpg"), 222);
  cr_assert(other.kind == ImportPlan::Kind::kAttach && other.replaces);
}
