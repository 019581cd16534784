// ImageSets: the rename policy (DESIGN §2: staging names, mv -T of sets).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach/image_sets.h"
#include "base/clock.h"
#include "path/path.h"

namespace iafs {

// Renaming a scratch file onto original.<ext> commits it: the only replacement
// that is atomic for concurrent readers. Its mtime becomes the original's.
Result<ApplyOutcome> ImageSets::commit_scratch(const ImagePath& from, const ImagePath& to) {
  auto scratch = find_scratch(from);
  if (!scratch) return make_error(ErrorCode::kNotFound, "no such file");
  auto file = open_scratch(from, scratch->id, O_RDONLY);
  if (!file) return file.error();
  auto st = (*file)->stat();
  if (!st) return st.error();
  // Judged as an upload of `to` whose bytes are the scratch file's.
  StagedFile upload(StagedFile::Kind::kUpload, to, UniqueFd(dup((*file)->fd())), max_bytes_of(to));
  upload.set_commit_mtime(to_ns(st->st_mtim));
  upload.set_commit_created(scratch->created_ns);
  upload.set_commit_focus(scratch->focus);
  auto committed = commit_upload(upload);
  if (!committed) {
    count_refusal(committed.error());
    return committed.error();
  }
  (void)staging_.remove_scratch(from.set, from.staging_name);
  return committed;
}

Result<ApplyOutcome> ImageSets::move_set(const ImagePath& from, const ImagePath& to) {
  if (from.set.type != to.set.type || from.set.attachment != to.set.attachment) {
    return make_error(ErrorCode::kCrossDevice, "a set moves only within its type and attachment");
  }
  if (staging_.has_scratch(to.set)) {
    return make_error(ErrorCode::kNotEmpty, "the target holds scratch files");
  }
  auto outcome = committer_.commit(Op{MoveSet{from.set, to.set}, now_ns()});
  if (outcome) staging_.move_set(from.set, to.set);
  return outcome;
}

// Whether a rename onto `to` would replace something (RENAME_NOREPLACE): an
// original, a scratch file, or a set directory holding an original.
bool ImageSets::target_exists(const ImagePath& to) {
  switch (to.kind) {
    case NodeKind::kOriginal:
      return find_original(to).ok();
    case NodeKind::kStaging:
      return find_scratch(to).has_value();
    case NodeKind::kImageSet: {
      auto held = store_.get_set(to.set);
      return held.ok() && held->has_value();
    }
    default:
      return false;
  }
}

Result<RenameOutcome> ImageSets::rename(const ImagePath& from, const ImagePath& to,
                                        bool no_replace) {
  if (Status s = writable("rename"); !s) return s.error();
  for (const ImagePath* path : {&from, &to}) {
    if (path->kind == NodeKind::kControlDir || path->kind == NodeKind::kMetrics) {
      return make_error(ErrorCode::kPermission, "the daemon's own files are read-only");
    }
    if (is_metadata_file(*path)) {
      return make_error(ErrorCode::kPermission, "metadata files are read-only");
    }
  }
  if (no_replace && target_exists(to)) return make_error(ErrorCode::kExists, "the target exists");
  RenameOutcome outcome;
  switch (from.kind) {
    case NodeKind::kImageSet: {
      if (to.kind != NodeKind::kImageSet) {
        return make_error(to.kind == NodeKind::kThumbDir || !to.is_directory()
                              ? ErrorCode::kInvalid
                              : ErrorCode::kCrossDevice,
                          "a set moves onto another set directory (use mv -T)");
      }
      if (from.set == to.set) return outcome;
      auto moved = move_set(from, to);
      if (!moved) return moved.error();
      outcome.kind = RenameOutcome::Kind::kSetMoved;
      outcome.applied = std::move(moved).value();
      return outcome;
    }
    case NodeKind::kStaging:
      if (to.kind == NodeKind::kOriginal) {
        auto committed = commit_scratch(from, to);
        if (!committed) return committed.error();
        outcome.kind = RenameOutcome::Kind::kCommitted;
        outcome.applied = std::move(committed).value();
        return outcome;
      }
      if (to.kind == NodeKind::kThumbnail && is_thumb_scratch(from) && to.set == from.set) {
        auto kept = keep_own_thumbnail(from, to);
        if (!kept) return kept.error();
        outcome.kind = RenameOutcome::Kind::kThumbnailKept;
        outcome.thumbnail = *kept;
        return outcome;
      }
      if (to.kind == NodeKind::kStaging) {
        if (from == to) return outcome;
        Status renamed =
            staging_.rename_scratch(from.set, from.staging_name, to.set, to.staging_name);
        if (!renamed) return renamed.error();
        outcome.kind = RenameOutcome::Kind::kScratchRenamed;
        return outcome;
      }
      return make_error(ErrorCode::kInvalid,
                        "a scratch file renames to a scratch or original name");
    case NodeKind::kOriginal:
      return make_error(ErrorCode::kPermission, "a committed original cannot be renamed");
    case NodeKind::kThumbnail:
      return make_error(ErrorCode::kPermission, "thumbnails cannot be renamed");
    default:
      return make_error(ErrorCode::kCrossDevice, "only image sets move (use mv -T on a set)");
  }
}

}  // namespace iafs
