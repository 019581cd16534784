// ImageSets: thumbnails made at upload (README "Made at upload"). After a
// commit, the set's lqip.webp and its attachment's `eager` thumbnails are
// queued as background jobs of the resize pool: they run off the FUSE
// threads, after every thumbnail a reader waits for, and the commit (FLUSH,
// close) does not wait for them. Each job makes the thumbnail of whatever
// original the set holds when it runs (make_now reads the record again), or
// nothing when the set is gone or the original too small for it.
#include <algorithm>
#include <vector>

#include "attach/image_sets.h"
#include "log/log.h"
#include "path/path.h"

namespace iafs {

void ImageSets::queue_eager_thumbnails(const ImageSetKey& set) {
  if (store_.read_only()) return;  // a read-only mount makes none
  const AttachmentSchema* attachment = attachment_of(set);
  if (attachment == nullptr) return;
  // lqip.webp first, for every attachment; then the schema's list, in order.
  std::vector<ThumbnailSpec> specs{ThumbnailSpec{ThumbFit::kLqip, 0, 0, ImageFormat::kWebp}};
  for (const ThumbnailSpec& spec : attachment->thumbnails.eager) {
    if (std::find(specs.begin(), specs.end(), spec) == specs.end()) specs.push_back(spec);
  }
  for (const ThumbnailSpec& spec : specs) {
    std::string name = path_string(thumbnail_path(set, attachment->multiple, spec));
    auto make = [this, set, spec, name] {
      bool stored_now = false;
      Result<FileVersion> made = make_now(set, spec, &stored_now);
      if (made && stored_now) eager_made_.add();
      if (!made && made.error().code == ErrorCode::kNotFound) {
        // Removed, or replaced by an original too small for it: nothing to make.
        log_debug("thumbnail " + name + ": not made at upload: " + made.error().message);
      } else if (!made) {
        thumbnail_failures_.add();
        log_warning("thumbnail " + name + ": not made at upload: " + made.error().message);
      }
      return made;
    };
    if (pool_.submit_background(name, std::move(make)) == ThumbnailPool::Queued::kDropped) {
      eager_dropped_.add();
      log_debug("thumbnail " + name + ": not made at upload: " +
                std::to_string(ThumbnailPool::kMaxBackgroundQueued) +
                " background thumbnails queued already (made at its first read instead)");
    }
  }
}

void ImageSets::another_host_changed(const Op& op, const ApplyOutcome& outcome) {
  const auto* attach = std::get_if<AttachOriginal>(&op.change);
  if (attach == nullptr || !eager_on_) return;
  if (!outcome.before || outcome.before->blob != attach->blob) queue_eager_thumbnails(attach->set);
}

}  // namespace iafs
