// Unit tests of the resize pool's two priorities (readers' jobs before
// background ones, promotion, the background bound) and of the thumbnails
// ImageSets makes at upload (eager.cc).
#include <criterion/criterion.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "attach/image_sets.h"
#include "attach/thumbnail_pool.h"
#include "config/schema_parser.h"
#include "path/path.h"
#include "temp_dirs.h"
#include "test_images.h"

using namespace iafs;

namespace {

// Records the order in which jobs ran, and waits for a number of them.
struct Journal {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> ran;
  int done = 0;

  ThumbnailPool::Make make(const std::string& name) {
    return [this, name]() -> Result<FileVersion> {
      std::lock_guard lock(mutex);
      ran.push_back(name);
      return FileVersion{};
    };
  }
  ThumbnailPool::Done finished() {
    return [this](const Result<FileVersion>&) {
      std::lock_guard lock(mutex);
      ++done;
      changed.notify_all();
    };
  }
  void wait_done(int n) {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return done >= n; });
  }
  std::vector<std::string> order() {
    std::lock_guard lock(mutex);
    return ran;
  }
};

// A job that runs until opened (holding a pool thread meanwhile).
struct Gate {
  std::promise<void> open_promise;
  std::shared_future<void> opened = open_promise.get_future().share();
  std::promise<void> entered_promise;
  std::future<void> entered = entered_promise.get_future();

  ThumbnailPool::Make make() {
    return [this]() -> Result<FileVersion> {
      entered_promise.set_value();
      opened.wait();
      return FileVersion{};
    };
  }
  void open() { open_promise.set_value(); }
};

}  // namespace

Test(thumbnail_pool, a_readers_job_runs_before_every_queued_background_job) {
  Journal journal;
  Gate gate;
  ThumbnailPool pool(1);
  pool.submit("busy", gate.make(), journal.finished());
  gate.entered.wait();  // the only thread is busy: what follows is queued
  for (const char* name : {"b1", "b2", "b3"}) {
    cr_expect(pool.submit_background(name, journal.make(name), journal.finished()) ==
              ThumbnailPool::Queued::kQueued);
  }
  pool.submit("r1", journal.make("r1"), journal.finished());
  pool.submit("r2", journal.make("r2"), journal.finished());
  gate.open();
  journal.wait_done(6);
  std::vector<std::string> expected{"r1", "r2", "b1", "b2", "b3"};
  cr_expect(journal.order() == expected, "readers first, then background in order");
}

Test(thumbnail_pool, a_reader_of_a_queued_background_job_promotes_it_and_shares_it) {
  Journal journal;
  Gate gate;
  ThumbnailPool pool(1);
  pool.submit("busy", gate.make(), journal.finished());
  gate.entered.wait();
  for (const char* name : {"a", "b", "c"}) {
    pool.submit_background(name, journal.make(name), journal.finished());
  }
  // The reader's own make is not run: the queued job's is, once, first.
  pool.submit("c", journal.make("c (reader's)"), journal.finished());
  gate.open();
  journal.wait_done(5);  // busy, a, b, and c's two waiters
  std::vector<std::string> expected{"c", "a", "b"};
  cr_expect(journal.order() == expected);
}

Test(thumbnail_pool, the_background_queue_is_bounded_and_single_flight) {
  Journal journal;
  Gate gate;
  ThumbnailPool pool(1, 2);
  pool.submit("busy", gate.make(), journal.finished());
  gate.entered.wait();
  cr_expect(pool.submit_background("a", journal.make("a"), journal.finished()) ==
            ThumbnailPool::Queued::kQueued);
  cr_expect(pool.submit_background("a", journal.make("a again")) ==
            ThumbnailPool::Queued::kAlready);
  // Running: what it read may be what changed (an original replaced), so it
  // runs once more after, behind the background jobs; asked twice, once.
  cr_expect(pool.submit_background("busy", journal.make("busy again"), journal.finished()) ==
            ThumbnailPool::Queued::kQueued, "running: queued to run again");
  cr_expect(pool.submit_background("busy", journal.make("busy thrice"), journal.finished()) ==
            ThumbnailPool::Queued::kQueued);
  cr_expect(pool.submit_background("b", journal.make("b"), journal.finished()) ==
            ThumbnailPool::Queued::kQueued);
  cr_expect(pool.submit_background("c", journal.make("c"), journal.finished()) ==
            ThumbnailPool::Queued::kDropped);
  cr_expect_eq(pool.background_queued(), 2u);
  // A reader's job is never dropped.
  pool.submit("r", journal.make("r"), journal.finished());
  gate.open();
  journal.wait_done(6);  // busy, r, a, b and the rerun's two waiters: room again
  cr_expect(pool.submit_background("last", journal.make("last"), journal.finished()) ==
            ThumbnailPool::Queued::kQueued);
  journal.wait_done(7);
  std::vector<std::string> expected{"r", "a", "b", "busy again", "last"};
  cr_expect(journal.order() == expected);
}

Test(thumbnail_pool, background_work_leaves_a_thread_free_for_readers) {
  Journal journal;
  Gate gate;
  ThumbnailPool pool(2);
  pool.submit_background("slow", gate.make(), journal.finished());
  gate.entered.wait();
  pool.submit_background("next", journal.make("next"), journal.finished());
  pool.submit("r", journal.make("r"), journal.finished());
  journal.wait_done(1);  // r, on the other thread, while "slow" still runs
  cr_expect(journal.order() == std::vector<std::string>{"r"},
            "the second background job waits for the first (one thread stays free)");
  cr_expect_eq(pool.background_queued(), 1u);
  gate.open();
  journal.wait_done(3);
  cr_expect(journal.order() == (std::vector<std::string>{"r", "next"}));
}

namespace {

const char kEagerSchema[] =
    "[posts.photos]\nmultiple = true\nthumbnail_widths = 1-4096\nthumbnail_heights = 1-4096\n"
    "preset.avatar = 96x96-cover\neager = 320.webp 64.jpg avatar.webp\n";

struct EagerFixture {
  std::string dir = test::temp_dir("eager-test");
  Schema schema;
  std::unique_ptr<Store> store;
  std::unique_ptr<StagingArea> staging;
  std::unique_ptr<ImageSets> sets;

  EagerFixture() {
    test::ensure_vips();
    auto parsed = parse_schema(kEagerSchema, "eager.conf");
    cr_assert(parsed.ok(), "%s", parsed.ok() ? "" : parsed.error().message.c_str());
    schema = std::move(parsed).value();
    open(false);
  }
  void open(bool read_only) {
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
    sets = std::make_unique<ImageSets>(*store, schema, *staging, 2);
    sets->set_eager_thumbnails(true);
  }
  ImagePath at(const std::string& text) {
    auto path = parse_path(text, schema);
    cr_assert(path.ok(), "parse %s", text.c_str());
    return *path;
  }
  bool stored(const std::string& text) {
    auto found = sets->find_thumbnail(at(text));
    return found.ok() && found->stored.has_value();
  }
  // Waits until `n` eager thumbnails were made (no deadline: ctest's applies).
  void wait_made(uint64_t n) {
    while (sets->eager_thumbnails_made() < n) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
};

}  // namespace

Test(eager, a_commit_makes_lqip_and_the_eager_list_without_a_read) {
  EagerFixture f;
  auto outcome =
      f.sets->commit_original(f.at("/posts/1/photos/0/original.jpg"), test::make_image(800, 600, ".jpg"), 0);
  cr_assert(outcome.ok());
  f.wait_made(4);
  for (const char* name : {"lqip.webp", "320.webp", "64.jpg", "96x96-cover.webp"}) {
    cr_expect(f.stored(std::string("/posts/1/photos/0/thumb/") + name), "%s stored", name);
  }
  auto lqip = f.sets->find_thumbnail(f.at("/posts/1/photos/0/thumb/lqip.webp"));
  cr_assert(lqip.ok() && lqip->stored);
  cr_expect_eq(lqip->stored->width, 32u);
  cr_expect_eq(lqip->stored->height, 24u);
  cr_expect(!f.stored("/posts/1/photos/0/thumb/100.webp"), "nothing else is made");
  cr_expect_eq(f.sets->resizes(), 4u);
}

Test(eager, committing_the_same_bytes_again_queues_nothing) {
  EagerFixture f;
  auto bytes = test::make_image(400, 300, ".png");
  cr_assert(f.sets->commit_original(f.at("/posts/1/photos/0/original.png"), bytes, 0).ok());
  f.wait_made(4);
  auto again = f.sets->commit_original(f.at("/posts/1/photos/0/original.png"), bytes, 0);
  cr_assert(again.ok());
  cr_expect(!again->changed);
  cr_assert(f.sets->commit_original(f.at("/posts/1/photos/1/original.png"), bytes, 0).ok());
  f.wait_made(8);  // the second set's: made after any work for the first one
  cr_expect_eq(f.sets->resizes(), 8u);
}

Test(eager, a_removed_set_makes_nothing_and_a_read_only_store_queues_nothing) {
  EagerFixture f;
  // Off while committing: the jobs are queued by hand once the set is gone.
  f.sets->set_eager_thumbnails(false);
  cr_assert(f.sets->commit_original(f.at("/posts/1/photos/0/original.jpg"),
                                    test::make_image(300, 200, ".jpg"), 0).ok());
  cr_assert(f.sets->remove_original(f.at("/posts/1/photos/0/original.jpg")).ok());
  f.sets->queue_eager_thumbnails(f.at("/posts/1/photos/0/original.jpg").set);
  // Another set's jobs, queued after those: once they are made, those ran.
  f.sets->set_eager_thumbnails(true);
  cr_assert(f.sets->commit_original(f.at("/posts/1/photos/1/original.jpg"),
                                    test::make_image(300, 200, ".jpg"), 0).ok());
  f.wait_made(4);
  cr_expect_eq(f.sets->resizes(), 4u, "nothing made for the removed set");
  auto text = f.sets->metrics_text();
  cr_assert(text.ok());
  cr_expect(text->find("imageattachfs_thumbnail_failures_total 0\n") != std::string::npos);
  f.open(true);
  f.sets->queue_eager_thumbnails(f.at("/posts/1/photos/1/original.jpg").set);
  text = f.sets->metrics_text();
  cr_assert(text.ok());
  cr_expect(text->find("imageattachfs_eager_thumbnails_pending 0\n") != std::string::npos, "%s",
            text->c_str());
}
