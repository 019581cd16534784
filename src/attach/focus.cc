// ImageSets: a set's focal point, user.image.focus (README "Focal point").
// On a committed original it is one SetFocus op (which drops the set's
// -cover thumbnails in the same transaction); on a scratch file or an open
// upload it is kept for the commit, as a restored created_at is: rsync -X
// sets it on its scratch file before the rename, cp -a on the open file.
#include "attach/focus_text.h"
#include "attach/image_sets.h"
#include "base/clock.h"
#include "path/path.h"

namespace iafs {

Result<ApplyOutcome> ImageSets::set_focus(const ImagePath& path,
                                          std::optional<std::string_view> text) {
  if (path.kind != NodeKind::kOriginal && path.kind != NodeKind::kStaging) {
    return make_error(ErrorCode::kNotSupported, "only an original has a focal point");
  }
  std::optional<FocalPoint> focus;
  if (text) {
    focus = parse_focus(*text);
    if (!focus) {
      return make_error(ErrorCode::kInvalid,
                        "user.image.focus is not x,y with each in 0 to 1 (as 0.35,0.2)");
    }
  }
  if (Status s = writable("set the focus"); !s) return s.error();
  if (path.kind == NodeKind::kStaging) {
    if (Status s = staging_.set_scratch_focus(path.set, path.staging_name, focus); !s) {
      return s.error();
    }
    return ApplyOutcome{};
  }
  bool uploading =
      for_each_upload_of(path, [&](StagedFile& upload) { upload.set_commit_focus(focus); });
  // The set's original must be this one (not original.<other ext>).
  if (auto held = find_original(path); !held) {
    if (uploading && held.error().code == ErrorCode::kNotFound) return ApplyOutcome{};
    return held.error();
  }
  auto applied =
      committer_.commit(Op{SetFocus{path.set, focus}, now_ns()}, SpanSource({}), path.original_ext);
  // Removed meanwhile, but an upload of it is open: its commit sets it.
  if (!applied && uploading && applied.error().code == ErrorCode::kNotFound) return ApplyOutcome{};
  // removexattr of an attribute it does not have: ENODATA, as on any file.
  if (applied && !applied->changed && !focus && !uploading) {
    return make_error(ErrorCode::kNoAttribute, "the set has no focal point");
  }
  return applied;
}

std::vector<std::pair<std::string, std::string>> ImageSets::attributes_of(
    const ImagePath& path, const FileVersion& version) {
  auto attributes = xattrs_of(version);
  if (path.kind != NodeKind::kOriginal || version.is_thumbnail) return attributes;
  auto record = store_.get_set(path.set);
  // The focus of the set as it is now, if this node still shows its original.
  if (record && record->has_value() && (*record)->blob == version.blob && (*record)->focus) {
    attributes.emplace_back(std::string(kFocusAttribute), focus_text(*(*record)->focus));
  }
  return attributes;
}

}  // namespace iafs
