// Unit tests of attach (ImageSets), driven directly, without mounting.
#include <criterion/criterion.h>
#include <stdlib.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <string>

#include "attach/image_sets.h"
#include "config/schema_parser.h"
#include "path/path.h"
#include "paths.h"
#include "temp_dirs.h"
#include "test_images.h"

using namespace iafs;

namespace {

struct Fixture {
  std::string dir;
  std::unique_ptr<Store> store;
  std::unique_ptr<StagingArea> staging;
  std::unique_ptr<ImageSets> sets;

  Fixture() : dir(test::temp_dir("attach-test")) { open(false); }

  // (Re)opens the store in `dir`, read-only as a -o ro mount does.
  void open(bool read_only) {
    test::ensure_vips();
    sets.reset();
    staging.reset();
    store.reset();
    StoreOptions options;
    options.map_size = 1ull << 30;
    options.read_only = read_only;
    auto opened = Store::open(dir, options);
    cr_assert(opened.ok());
    store = std::move(opened).value();
    if (read_only) {
      staging = StagingArea::open_read_only(dir + "/staging");
    } else {
      auto area = StagingArea::open(dir + "/staging");
      cr_assert(area.ok());
      staging = std::move(area).value();
    }
    sets = std::make_unique<ImageSets>(*store, open_schema(), *staging, 2);
  }

  // Commits `bytes` as the original at `path`; the test fails if refused.
  void commit(const std::string& path, const std::vector<uint8_t>& bytes);
};


void Fixture::commit(const std::string& path, const std::vector<uint8_t>& bytes) {
  auto outcome = sets->commit_original(at(path), bytes, 0);
  cr_assert(outcome.ok(), "commit %s: %s", path.c_str(),
            outcome.ok() ? "" : outcome.error().message.c_str());
}

Result<FileVersion> make_and_wait(ImageSets& sets, const ImagePath& path) {
  std::mutex m;
  std::condition_variable cv;
  std::optional<Result<FileVersion>> out;
  sets.make_thumbnail(path, [&](const Result<FileVersion>& r) {
    std::lock_guard lock(m);
    out = r;
    cv.notify_one();
  });
  std::unique_lock lock(m);
  cv.wait(lock, [&] { return out.has_value(); });
  return *out;
}

}  // namespace

Test(attach, commits_an_original_and_measures_it_as_displayed) {
  Fixture f;
  auto bytes = test::make_image(300, 200, ".jpg", false, 6);
  auto outcome = f.sets->commit_original(at("/posts/1/photos/0/original.jpg"), bytes, 0);
  cr_assert(outcome.ok(), "%s", outcome.ok() ? "" : outcome.error().message.c_str());
  auto found = f.sets->find_original(at("/posts/1/photos/0/original.jpg"));
  cr_assert(found.ok());
  cr_expect_eq(found->width, 200u);
  cr_expect_eq(found->height, 300u);
  cr_expect_eq(found->size, bytes.size());
}

Test(attach, a_refused_upload_leaves_the_previous_original) {
  Fixture f;
  auto good = test::make_image(64, 64, ".png");
  f.commit("/users/7/picture/original.png", good);
  std::vector<uint8_t> junk{'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'};
  auto refused = f.sets->commit_original(at("/users/7/picture/original.png"), junk, 0);
  cr_assert(!refused.ok());
  cr_expect_eq(refused.error().code, ErrorCode::kInvalid);
  auto kept = f.sets->find_original(at("/users/7/picture/original.png"));
  cr_assert(kept.ok());
  cr_expect_eq(kept->size, good.size());
}

Test(attach, refuses_an_empty_upload) {
  Fixture f;
  auto refused = f.sets->commit_original(at("/posts/1/photos/0/original.jpg"), {}, 0);
  cr_assert(!refused.ok());
  cr_expect_eq(refused.error().code, ErrorCode::kInvalid);
}

Test(attach, finds_an_original_only_under_its_extension_as_written) {
  Fixture f;
  auto bytes = test::make_image(40, 30, ".jpg");
  f.commit("/posts/1/photos/0/original.jpeg", bytes);
  cr_expect(f.sets->find_original(at("/posts/1/photos/0/original.jpeg")).ok());
  cr_expect(!f.sets->find_original(at("/posts/1/photos/0/original.jpg")).ok());
}

Test(attach, makes_a_thumbnail_of_the_exact_size_and_stores_it) {
  Fixture f;
  f.commit("/posts/1/photos/0/original.jpg", test::make_image(2560, 1600, ".jpg"));
  auto made = make_and_wait(*f.sets, at("/posts/1/photos/0/thumb/300.jpg"));
  cr_assert(made.ok(), "%s", made.ok() ? "" : made.error().message.c_str());
  cr_expect_eq(made->width, 300u);
  cr_expect_eq(made->height, 187u);
  auto stored = f.sets->find_thumbnail(at("/posts/1/photos/0/thumb/300.jpg"));
  cr_assert(stored.ok() && stored->stored.has_value());
  cr_expect_eq(stored->stored->revision, made->revision);
}

Test(attach, concurrent_requests_for_one_thumbnail_make_it_once) {
  Fixture f;
  f.commit("/posts/1/photos/0/original.jpg", test::make_image(1200, 800, ".jpg"));
  std::mutex m;
  std::condition_variable cv;
  int done = 0;
  std::set<uint64_t> revisions;
  for (int i = 0; i < 16; ++i) {
    f.sets->make_thumbnail(at("/posts/1/photos/0/thumb/100.webp"),
                           [&](const Result<FileVersion>& r) {
                             std::lock_guard lock(m);
                             if (r.ok()) revisions.insert(r->revision);
                             ++done;
                             cv.notify_one();
                           });
  }
  std::unique_lock lock(m);
  cv.wait(lock, [&] { return done == 16; });
  cr_expect_eq(revisions.size(), 1u, "all callers got one stored thumbnail");
  cr_expect_eq(f.sets->resizes(), 1u);
}

Test(attach, thumbnails_of_two_sets_come_from_their_own_originals) {
  Fixture f;
  f.commit("/posts/1/photos/0/original.jpg", test::make_image(400, 100, ".jpg"));
  f.commit("/posts/1/photos/1/original.jpg", test::make_image(100, 400, ".jpg"));
  auto wide = make_and_wait(*f.sets, at("/posts/1/photos/0/thumb/50.png"));
  auto tall = make_and_wait(*f.sets, at("/posts/1/photos/1/thumb/50.png"));
  cr_assert(wide.ok() && tall.ok());
  cr_expect_eq(wide->height, 12u);
  cr_expect_eq(tall->height, 200u);
  cr_expect(wide->blob != tall->blob);
}

Test(attach, a_thumbnail_wider_than_the_original_is_not_found) {
  Fixture f;
  f.commit("/posts/1/photos/0/original.jpg", test::make_image(200, 100, ".jpg"));
  auto wider = f.sets->find_thumbnail(at("/posts/1/photos/0/thumb/201.jpg"));
  cr_assert(!wider.ok());
  cr_expect_eq(wider.error().code, ErrorCode::kNotFound);
  cr_expect(f.sets->find_thumbnail(at("/posts/1/photos/0/thumb/200.jpg")).ok());
}

Test(attach, a_removed_thumbnail_is_gone_once_for_its_remover_only) {
  Fixture f;
  f.commit("/posts/1/photos/0/original.jpg", test::make_image(400, 300, ".jpg"));
  auto thumb = at("/posts/1/photos/0/thumb/100.jpg");
  cr_assert(make_and_wait(*f.sets, thumb).ok());
  cr_assert(f.sets->remove_thumbnail(thumb, 500).ok());
  cr_expect(f.sets->find_thumbnail(thumb, 501).ok(), "another thread finds it (to make)");
  auto remover = f.sets->find_thumbnail(thumb, 500);
  cr_assert(!remover.ok());
  cr_expect_eq(remover.error().code, ErrorCode::kNotFound);
  cr_expect(f.sets->find_thumbnail(thumb, 500).ok(), "the remover's next lookup makes it");
}

Test(attach, replacing_an_original_drops_its_thumbnails) {
  Fixture f;
  auto original = at("/posts/1/photos/0/original.jpg");
  cr_assert(f.sets->commit_original(original, test::make_image(300, 300, ".jpg"), 0).ok());
  cr_assert(make_and_wait(*f.sets, at("/posts/1/photos/0/thumb/100.jpg")).ok());
  auto replaced = f.sets->commit_original(original, test::make_image(300, 150, ".jpg"), 0);
  cr_assert(replaced.ok());
  cr_expect_eq(replaced->dropped_thumbnails.size(), 1u);
  auto lookup = f.sets->find_thumbnail(at("/posts/1/photos/0/thumb/100.jpg"));
  cr_assert(lookup.ok());
  cr_expect(!lookup->stored.has_value());
}

Test(attach, lists_only_sets_holding_an_original) {
  Fixture f;
  for (const char* path : {"/posts/10/photos/3/original.png", "/posts/2/photos/0/original.png",
                           "/posts/abc/photos/1/original.png"}) {
    f.commit(path, test::make_image(8, 8, ".png"));
  }
  std::vector<std::string> names;
  auto collect = [&](DirEntry&& e) {
    names.push_back(base_name(e.path));
    return true;
  };
  cr_assert(f.sets->list(at("/posts"), std::nullopt, collect).ok());
  cr_expect(names == (std::vector<std::string>{"2", "10", "abc"}));
  names.clear();
  cr_assert(f.sets->list(at("/posts/10/photos/3"), std::nullopt, collect).ok());
  cr_expect(names == (std::vector<std::string>{"original.png", "thumb"}));
  names.clear();
  cr_assert(f.sets->list(at("/posts/11/photos"), std::nullopt, collect).ok());
  cr_expect(names.empty());
}

Test(attach, rmdir_of_a_set_holding_an_original_is_not_empty) {
  Fixture f;
  f.commit("/posts/1/photos/0/original.png", test::make_image(8, 8, ".png"));
  Status s = f.sets->remove_directory(at("/posts/1/photos/0"));
  cr_assert(!s.ok());
  cr_expect_eq(s.error().code, ErrorCode::kNotEmpty);
  cr_expect(f.sets->remove_directory(at("/posts/1/photos/1")).ok());
}

Test(attach, moves_a_set_only_within_its_type_and_attachment) {
  Fixture f;
  f.commit("/posts/1/photos/3/original.png", test::make_image(8, 8, ".png"));
  auto elsewhere = f.sets->rename(at("/posts/1/photos/3"), at("/users/1/picture"), false);
  cr_assert(!elsewhere.ok());
  cr_expect_eq(elsewhere.error().code, ErrorCode::kCrossDevice);
  auto moved = f.sets->rename(at("/posts/1/photos/3"), at("/posts/2/photos/1"), false);
  cr_assert(moved.ok());
  cr_expect(moved->kind == RenameOutcome::Kind::kSetMoved);
  cr_expect(f.sets->find_original(at("/posts/2/photos/1/original.png")).ok());
  cr_expect(!f.sets->find_original(at("/posts/1/photos/3/original.png")).ok());
}

// The rename policy.

namespace {

// Writes `bytes` into a new scratch file at `path` with mtime `mtime_ns`.
void write_scratch(ImageSets& sets, const std::string& path, const std::vector<uint8_t>& bytes,
                   int64_t mtime_ns = 0) {
  auto created = sets.create_scratch(at(path));
  cr_assert(created.ok(), "create %s", path.c_str());
  cr_assert(created->second->write(bytes, 0).ok());
  if (mtime_ns != 0) cr_assert(sets.set_scratch_mtime(at(path), mtime_ns).ok());
}

}  // namespace

Test(attach, renaming_a_scratch_file_onto_an_original_commits_it_with_its_mtime) {
  Fixture f;
  auto bytes = test::make_image(16, 8, ".png");
  write_scratch(*f.sets, "/posts/1/photos/0/.original.png.Xy12", bytes, 1234500000000000000);
  auto renamed = f.sets->rename(at("/posts/1/photos/0/.original.png.Xy12"),
                                at("/posts/1/photos/0/original.png"), false);
  cr_assert(renamed.ok(), "%s", renamed.ok() ? "" : renamed.error().message.c_str());
  cr_expect(renamed->kind == RenameOutcome::Kind::kCommitted);
  auto original = f.sets->find_original(at("/posts/1/photos/0/original.png"));
  cr_assert(original.ok());
  cr_expect_eq(original->width, 16u);
  cr_expect_eq(original->mtime_ns, 1234500000000000000);
  cr_expect(!f.sets->find_scratch(at("/posts/1/photos/0/.original.png.Xy12")).has_value());
}

Test(attach, a_refused_scratch_rename_keeps_the_original_and_the_scratch_file) {
  Fixture f;
  f.commit("/posts/1/photos/0/original.png", test::make_image(8, 8, ".png"));
  write_scratch(*f.sets, "/posts/1/photos/0/original.png~", {'n', 'o', 't'});
  auto renamed = f.sets->rename(at("/posts/1/photos/0/original.png~"),
                                at("/posts/1/photos/0/original.png"), false);
  cr_assert(!renamed.ok());
  cr_expect_eq(renamed.error().code, ErrorCode::kInvalid);
  cr_expect_eq(f.sets->find_original(at("/posts/1/photos/0/original.png"))->width, 8u);
  cr_expect(f.sets->find_scratch(at("/posts/1/photos/0/original.png~")).has_value());
}

Test(attach, a_scratch_file_renames_to_another_scratch_name_in_another_set) {
  Fixture f;
  write_scratch(*f.sets, "/posts/1/photos/0/.a", {'x'});
  auto renamed = f.sets->rename(at("/posts/1/photos/0/.a"), at("/posts/2/photos/5/b~"), false);
  cr_assert(renamed.ok());
  cr_expect(renamed->kind == RenameOutcome::Kind::kScratchRenamed);
  cr_expect(!f.sets->find_scratch(at("/posts/1/photos/0/.a")).has_value());
  cr_expect(f.sets->find_scratch(at("/posts/2/photos/5/b~")).has_value());
}

Test(attach, committed_originals_and_thumbnails_cannot_be_renamed) {
  Fixture f;
  f.commit("/posts/1/photos/0/original.png", test::make_image(8, 8, ".png"));
  auto original =
      f.sets->rename(at("/posts/1/photos/0/original.png"), at("/posts/1/photos/0/.backup"), false);
  cr_assert(!original.ok());
  cr_expect_eq(original.error().code, ErrorCode::kPermission);
  auto thumb = f.sets->rename(at("/posts/1/photos/0/thumb/4.png"),
                              at("/posts/1/photos/0/thumb/5.png"), false);
  cr_assert(!thumb.ok());
  cr_expect_eq(thumb.error().code, ErrorCode::kPermission);
}

Test(attach, a_set_does_not_move_onto_a_set_holding_an_original_or_scratch_files) {
  Fixture f;
  f.commit("/posts/1/photos/0/original.png", test::make_image(8, 8, ".png"));
  f.commit("/posts/1/photos/1/original.png", test::make_image(8, 8, ".png"));
  write_scratch(*f.sets, "/posts/1/photos/2/.partial", {'x'});
  auto onto_original = f.sets->rename(at("/posts/1/photos/0"), at("/posts/1/photos/1"), false);
  cr_assert(!onto_original.ok());
  cr_expect_eq(onto_original.error().code, ErrorCode::kNotEmpty);
  auto onto_scratch = f.sets->rename(at("/posts/1/photos/0"), at("/posts/1/photos/2"), false);
  cr_assert(!onto_scratch.ok());
  cr_expect_eq(onto_scratch.error().code, ErrorCode::kNotEmpty);
  cr_expect(f.sets->find_original(at("/posts/1/photos/0/original.png")).ok());
}

Test(attach, a_set_moves_with_its_scratch_files) {
  Fixture f;
  f.commit("/posts/1/photos/0/original.png", test::make_image(8, 8, ".png"));
  write_scratch(*f.sets, "/posts/1/photos/0/.partial", {'x'});
  cr_assert(f.sets->rename(at("/posts/1/photos/0"), at("/posts/1/photos/7"), false).ok());
  cr_expect(f.sets->find_scratch(at("/posts/1/photos/7/.partial")).has_value());
  cr_expect(!f.sets->find_scratch(at("/posts/1/photos/0/.partial")).has_value());
}

Test(attach, no_replace_refuses_an_existing_target) {
  Fixture f;
  f.commit("/posts/1/photos/0/original.png", test::make_image(8, 8, ".png"));
  write_scratch(*f.sets, "/posts/1/photos/0/.new", test::make_image(8, 8, ".png"));
  auto renamed =
      f.sets->rename(at("/posts/1/photos/0/.new"), at("/posts/1/photos/0/original.png"), true);
  cr_assert(!renamed.ok());
  cr_expect_eq(renamed.error().code, ErrorCode::kExists);
}

Test(attach, a_set_renames_only_onto_a_set_directory) {
  Fixture f;
  f.commit("/posts/1/photos/0/original.png", test::make_image(8, 8, ".png"));
  auto into_thumb = f.sets->rename(at("/posts/1/photos/0"), at("/posts/1/photos/1/thumb"), false);
  cr_assert(!into_thumb.ok());
  cr_expect_eq(into_thumb.error().code, ErrorCode::kInvalid);
  auto onto_entity = f.sets->rename(at("/posts/1/photos/0"), at("/posts/9"), false);
  cr_assert(!onto_entity.ok());
  cr_expect_eq(onto_entity.error().code, ErrorCode::kCrossDevice);
}

Test(attach, a_streaming_listing_resumes_after_its_cursor) {
  Fixture f;
  for (const char* path : {"/posts/1/photos/0/original.png", "/posts/1/photos/4/original.png",
                           "/posts/1/photos/9/original.png"}) {
    f.commit(path, test::make_image(8, 8, ".png"));
  }
  std::vector<std::string> names;
  cr_assert(f.sets
                ->list(at("/posts/1/photos"), ListCursor(uint32_t{4}),
                       [&](DirEntry&& e) {
                         names.push_back(base_name(e.path));
                         return true;
                       })
                .ok());
  cr_expect(names == (std::vector<std::string>{"9"}));
}

Test(attach, removing_an_original_names_its_extension) {
  Fixture f;
  f.commit("/posts/1/photos/0/original.png", test::make_image(8, 8, ".png"));
  auto wrong = f.sets->remove_original(at("/posts/1/photos/0/original.jpg"));
  cr_assert(!wrong.ok());
  cr_expect_eq(wrong.error().code, ErrorCode::kNotFound);
  cr_expect(f.sets->find_original(at("/posts/1/photos/0/original.png")).ok());
}

Test(attach, a_set_directory_holds_a_bounded_number_of_scratch_files) {
  Fixture f;
  for (size_t n = 0; n < StagingArea::kMaxScratchPerSet; ++n) {
    cr_assert(f.sets->create_scratch(at("/posts/1/photos/0/.tmp" + std::to_string(n))).ok());
  }
  auto refused = f.sets->create_scratch(at("/posts/1/photos/0/.one-more"));
  cr_assert(!refused.ok());
  cr_expect_eq(refused.error().code, ErrorCode::kNoSpace);
  cr_expect(f.sets->create_scratch(at("/posts/1/photos/0/.tmp0")).ok(), "an existing name opens");
  cr_expect(f.sets->create_scratch(at("/posts/1/photos/1/.tmp0")).ok(), "another set has room");
}

// Counters (set_metrics.cc).

namespace {

// The value of sample `name` ("name{labels}") in `sets`' metrics text.
uint64_t sample_of(ImageSets& sets, const std::string& name) {
  auto text = sets.metrics_text();
  cr_assert(text.ok());
  size_t at = text->find("\n" + name + " ");
  cr_assert(at != std::string::npos, "no sample %s in:\n%s", name.c_str(), text->c_str());
  size_t start = at + name.size() + 2;
  return std::stoull(text->substr(start, text->find('\n', start) - start));
}

}  // namespace

Test(attach, a_thumbnail_is_counted_made_once_and_found_after) {
  Fixture f;
  f.commit("/posts/1/photos/0/original.jpg", test::make_image(600, 400, ".jpg"));
  ImagePath thumb = at("/posts/1/photos/0/thumb/100.jpg");
  cr_assert(make_and_wait(*f.sets, thumb).ok());
  cr_expect_eq(sample_of(*f.sets, "imageattachfs_thumbnails_made_total"), 1u);
  cr_expect_eq(sample_of(*f.sets, "imageattachfs_thumbnail_seconds_count"), 1u);
  cr_expect_eq(sample_of(*f.sets, "imageattachfs_thumbnails_stored"), 1u);
  auto found = f.sets->find_thumbnail(thumb);
  cr_assert(found.ok() && found->stored);
  cr_assert(make_and_wait(*f.sets, thumb).ok());  // stored already: no resize
  cr_expect_eq(sample_of(*f.sets, "imageattachfs_thumbnails_made_total"), 1u);
  cr_expect_eq(sample_of(*f.sets, "imageattachfs_thumbnails_found_total"), 2u);
  cr_expect_eq(sample_of(*f.sets, "imageattachfs_thumbnail_bytes"), found->stored->size);
}

Test(attach, a_thumbnail_that_cannot_be_made_counts_as_a_failure) {
  Fixture f;
  f.commit("/posts/1/photos/0/original.jpg", test::make_image(600, 400, ".jpg"));
  // Larger than the original: not found, which is no failure.
  cr_assert_not(make_and_wait(*f.sets, at("/posts/1/photos/0/thumb/900.jpg")).ok());
  cr_expect_eq(sample_of(*f.sets, "imageattachfs_thumbnail_failures_total"), 0u);
  cr_expect_eq(sample_of(*f.sets, "imageattachfs_thumbnails_made_total"), 0u);
}

Test(attach, uploads_are_counted_committed_or_refused_by_reason) {
  Fixture f;
  ImagePath original = at("/posts/1/photos/0/original.jpg");
  auto jpeg = test::make_image(300, 200, ".jpg");
  auto upload = f.sets->begin_upload(original, true, 0);
  cr_assert(upload.ok());
  cr_expect_eq(sample_of(*f.sets, "imageattachfs_uploads_in_progress"), 1u);
  cr_assert((*upload)->write(jpeg, 0).ok());
  cr_assert(f.sets->commit_upload(**upload).ok());
  cr_assert(f.sets->commit_upload(**upload).ok());  // a second flush of the same bytes
  f.sets->end_upload(**upload);
  cr_expect_eq(sample_of(*f.sets, "imageattachfs_uploads_committed_total"), 1u);
  cr_expect_eq(sample_of(*f.sets, "imageattachfs_uploads_in_progress"), 0u);
  cr_expect_eq(sample_of(*f.sets, "imageattachfs_originals_stored"), 1u);
  cr_expect_eq(sample_of(*f.sets, "imageattachfs_original_bytes"), jpeg.size());

  auto junk = f.sets->begin_upload(at("/posts/2/photos/0/original.jpg"), true, 0);
  cr_assert(junk.ok());
  std::vector<uint8_t> bytes = {'n', 'o', 't', ' ', 'a', ' ', 'j', 'p', 'e', 'g'};
  cr_assert((*junk)->write(bytes, 0).ok());
  cr_assert_not(f.sets->commit_upload(**junk).ok());
  cr_assert_not(f.sets->commit_upload(**junk).ok());  // flushed twice: refused once
  f.sets->end_upload(**junk);
  cr_expect_eq(sample_of(*f.sets, "imageattachfs_uploads_refused_total{reason=\"invalid_image\"}"),
               1u);
  cr_expect_eq(sample_of(*f.sets, "imageattachfs_uploads_refused_total{reason=\"too_large\"}"), 0u);
  cr_expect_eq(sample_of(*f.sets, "imageattachfs_uploads_committed_total"), 1u);
}

Test(attach, uploads_over_the_per_process_limit_are_refused_as_too_many) {
  Fixture f;
  std::vector<std::unique_ptr<StagedFile>> open;
  for (unsigned i = 0; i < ImageSets::kMaxUploadsPerOpener; ++i) {
    auto upload = f.sets->begin_upload(at("/posts/" + std::to_string(i) + "/photos/0/original.jpg"),
                                       true, 4242);
    cr_assert(upload.ok());
    open.push_back(std::move(upload).value());
  }
  auto refused = f.sets->begin_upload(at("/posts/9999/photos/0/original.jpg"), true, 4242);
  cr_assert_not(refused.ok());
  cr_expect_eq(sample_of(*f.sets, "imageattachfs_uploads_refused_total{reason=\"too_many\"}"), 1u);
  for (auto& upload : open) f.sets->end_upload(*upload);
}

Test(attach, a_read_only_store_serves_what_it_holds_and_refuses_every_change) {
  Fixture f;
  f.commit("/posts/1/photos/0/original.jpg", test::make_image(400, 300, ".jpg"));
  cr_assert(make_and_wait(*f.sets, at("/posts/1/photos/0/thumb/300.jpg")).ok());
  std::string leftover = f.dir + "/staging/leftover";
  { std::ofstream(leftover) << "left"; }
  f.open(true);
  cr_expect(std::filesystem::exists(leftover), "a read-only mount empties no staging");
  cr_expect(f.sets->read_only());
  auto stored = f.sets->find_thumbnail(at("/posts/1/photos/0/thumb/300.jpg"));
  cr_assert(stored.ok() && stored->stored.has_value());
  cr_expect(make_and_wait(*f.sets, at("/posts/1/photos/0/thumb/300.jpg")).ok());
  auto missing = f.sets->find_thumbnail(at("/posts/1/photos/0/thumb/200.jpg"));
  cr_assert(!missing.ok());
  cr_expect_eq(missing.error().code, ErrorCode::kNotFound);
  auto made = make_and_wait(*f.sets, at("/posts/1/photos/0/thumb/200.jpg"));
  cr_assert(!made.ok());
  cr_expect_eq(made.error().code, ErrorCode::kNotFound);
  cr_expect_eq(f.sets->resizes(), 0u);
  auto original = at("/posts/1/photos/0/original.jpg");
  auto expect_read_only = [](const Error& error) {
    cr_expect_eq(error.code, ErrorCode::kReadOnly, "%s", error.message.c_str());
  };
  expect_read_only(f.sets->begin_upload(original, true).error());
  expect_read_only(
      f.sets
          ->commit_original(at("/posts/2/photos/0/original.jpg"), test::make_image(8, 8, ".jpg"), 0)
          .error());
  expect_read_only(f.sets->create_scratch(at("/posts/1/photos/0/.a")).error());
  expect_read_only(f.sets->remove_original(original).error());
  expect_read_only(f.sets->remove_thumbnail(at("/posts/1/photos/0/thumb/300.jpg")).error());
  expect_read_only(f.sets->set_mtime(original, 5).error());
  expect_read_only(f.sets->rename(at("/posts/1/photos/0"), at("/posts/1/photos/1"), false).error());
  expect_read_only(f.sets->remove_directory(at("/posts/9/photos/0")).error());
  cr_expect(f.sets->find_original(original).ok(), "the original stays");
}
