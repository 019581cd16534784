// The kernel's side of another host's changes (SCALEOUT.md §7): once the
// log thread has applied them to the store, the names whose lookup answers
// changed are invalidated, as a peer mount's changes are, on a notifier
// thread of their own: the log thread never waits for the kernel (a lookup
// waiting for a catch-up holds its directory's lock, which inval_entry needs).
#include <variant>

#include "fs/filesystem.h"
#include "imageattachfs/recipe.h"
#include "path/path.h"

namespace iafs {
namespace {

class RemoteChanges {
 public:
  explicit RemoteChanges(const Schema& schema) : schema_(schema) {}

  void add(const Op& op, const ApplyOutcome& outcome) {
    std::visit([&](const auto& change) { add_change(change, outcome); }, op.change);
  }
  PeerChanges take() { return std::move(changes_); }

 private:
  bool multiple(const ImageSetKey& set) const {
    const AttachmentSchema* attachment = schema_.find_attachment(set.type, set.attachment);
    return attachment != nullptr && attachment->multiple;
  }
  // The original's names before and after, and the thumbnails dropped.
  void add_set(const ImageSetKey& set, const ApplyOutcome& outcome) {
    bool many = multiple(set);
    ImagePath dir = image_set_path(set, many);
    for (const auto* record : {&outcome.before, &outcome.after}) {
      if (!*record) continue;
      changes_.names.emplace_back(dir, "original." + (*record)->ext);
      changes_.attributes.push_back(original_path(set, many, (*record)->ext));
    }
    ImagePath thumbs = thumb_dir_path(set, many);
    for (const ThumbnailSpec& spec : outcome.dropped_thumbnails) {
      changes_.names.emplace_back(thumbs, thumbnail_name(spec));
    }
    // A set directory that appeared or emptied: its attachment's listing;
    // and with it maybe the attachment in its entity's, the entity in its
    // type's (the first set, or the last one gone).
    ImagePath up = dir;
    for (int level = 0; level < (many ? 3 : 2); ++level) {
      up = parent_path(up);
      changes_.attributes.push_back(up);
    }
  }
  void add_change(const AttachOriginal& c, const ApplyOutcome& o) { add_set(c.set, o); }
  void add_change(const RemoveSet& c, const ApplyOutcome& o) { add_set(c.set, o); }
  void add_change(const SetMtime& c, const ApplyOutcome& o) { add_set(c.set, o); }
  void add_change(const SetCreated& c, const ApplyOutcome& o) { add_set(c.set, o); }
  void add_change(const SetFocus& c, const ApplyOutcome& o) { add_set(c.set, o); }
  void add_change(const MoveSet& c, const ApplyOutcome& /*outcome*/) {
    changes_.moved_dirs.push_back(image_set_path(c.from, multiple(c.from)));
    changes_.moved_dirs.push_back(image_set_path(c.to, multiple(c.to)));
  }
  void add_change(const DropThumb& c, const ApplyOutcome& o) {
    if (!c.set) return;
    ImagePath thumbs = thumb_dir_path(*c.set, multiple(*c.set));
    for (const ThumbnailSpec& spec : o.dropped_thumbnails) {
      changes_.names.emplace_back(thumbs, thumbnail_name(spec));
    }
  }
  void add_change(const SetDirMtime& c, const ApplyOutcome& /*outcome*/) {
    if (auto dir = parse_path(c.dir, schema_)) changes_.attributes.push_back(*dir);
  }

  const Schema& schema_;
  PeerChanges changes_;
};

}  // namespace

void Filesystem::forget_remote(const std::vector<std::pair<Op, ApplyOutcome>>& changes) {
  if (session_ == nullptr || sets_ == nullptr) return;
  RemoteChanges remote(sets_->schema());
  for (const auto& [op, outcome] : changes) remote.add(op, outcome);
  notifier_.submit([this, peer = remote.take()] { apply_peer_changes(peer); });
}

}  // namespace iafs
