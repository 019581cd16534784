// Unit tests of RemovedThumbnails: what a thread that removed a thumbnail
// sees on its next lookup.
#include "attach/removed_thumbnails.h"

#include <criterion/criterion.h>

#include "config/schema_parser.h"
#include "path/path.h"
#include "paths.h"

using namespace iafs;

namespace {


const char* const kThumb = "/posts/1/photos/0/thumb/300.jpg";

}  // namespace

Test(removed_thumbnails, hides_a_name_from_its_remover_once) {
  RemovedThumbnails removed;
  removed.removed(100, at(kThumb));
  cr_expect(removed.hides(100, at(kThumb)));
  cr_expect(!removed.hides(100, at(kThumb)), "the next lookup makes it again");
  cr_expect_eq(removed.size(), 0u);
}

Test(removed_thumbnails, hides_nothing_from_other_threads) {
  RemovedThumbnails removed;
  removed.removed(100, at(kThumb));
  cr_expect(!removed.hides(101, at(kThumb)));
  cr_expect(removed.hides(100, at(kThumb)), "another thread's lookup leaves the remover's record");
}

Test(removed_thumbnails, a_lookup_of_another_thumbnail_ends_the_record) {
  RemovedThumbnails removed;
  removed.removed(100, at(kThumb));
  cr_expect(!removed.hides(100, at("/posts/1/photos/0/thumb/100.jpg")));
  cr_expect(!removed.hides(100, at(kThumb)));
}

Test(removed_thumbnails, a_later_removal_by_the_thread_replaces_the_earlier) {
  RemovedThumbnails removed;
  removed.removed(100, at("/posts/1/photos/0/thumb/100.jpg"));
  removed.removed(100, at(kThumb));
  cr_expect_eq(removed.size(), 1u);
  cr_expect(removed.hides(100, at(kThumb)));
}

Test(removed_thumbnails, an_unknown_thread_is_not_remembered) {
  RemovedThumbnails removed;
  removed.removed(0, at(kThumb));
  cr_expect_eq(removed.size(), 0u);
  cr_expect(!removed.hides(0, at(kThumb)));
}

Test(removed_thumbnails, remembers_at_most_kMaxThreads_forgetting_the_oldest) {
  RemovedThumbnails removed;
  for (pid_t thread = 1; thread <= static_cast<pid_t>(RemovedThumbnails::kMaxThreads) + 10;
       ++thread) {
    removed.removed(thread, at(kThumb));
  }
  cr_expect_eq(removed.size(), RemovedThumbnails::kMaxThreads);
  cr_expect(!removed.hides(1, at(kThumb)), "the oldest was forgotten");
  cr_expect(removed.hides(static_cast<pid_t>(RemovedThumbnails::kMaxThreads) + 10, at(kThumb)));
}
