// ImageSets: what a backup tool's restore does to the mount (rsync -aAX,
// cp -a, tar -x): extended attributes set to what they show (or a restored
// created_at), thumbnails written over (their bytes dropped: the mount's
// thumbnail is always the one made from the original, so a restore cannot
// inject bytes) and directory mtimes (kept in the store).
#include <time.h>

#include "attach/image_sets.h"
#include "base/clock.h"
#include "log/log.h"
#include "path/path.h"

namespace iafs {
namespace {

constexpr std::string_view kXattrPrefix = "user.image.";
constexpr std::string_view kCreatedAt = "user.image.created_at";

// "2026-12-01T16:26:21Z" (as xattrs_of shows it): ns since the epoch.
std::optional<int64_t> parse_rfc3339(std::string_view value) {
  std::string text(value);
  tm utc{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &utc);
  if (end == nullptr || *end != '\0') return std::nullopt;
  time_t seconds = timegm(&utc);
  if (seconds < 0) return std::nullopt;
  return int64_t{seconds} * 1000000000;
}

}  // namespace

Status ImageSets::set_xattr(const ImagePath& path, const std::optional<FileVersion>& shown,
                            const std::string& name, std::string_view value) {
  if (!name.starts_with(kXattrPrefix)) {
    return make_error(ErrorCode::kNotSupported, "only user.image.* attributes");
  }
  bool known = false;
  if (shown) {
    for (const auto& [key, current] : xattrs_of(*shown)) {
      if (key != name) continue;
      known = true;
      if (current == value) return Status::Ok();  // a restore of what it shows
    }
  } else {
    known = name == kCreatedAt || name == "user.image.width" || name == "user.image.height" ||
            name == "user.image.mimetype" || name == "user.image.sha256" ||
            name == "user.image.blurhash" || name == "user.image.color";
  }
  if (!known) return make_error(ErrorCode::kNotSupported, "no such attribute: " + name);
  if (Status s = writable("set an attribute"); !s) return s;
  std::optional<int64_t> created;
  if (name == kCreatedAt) {
    created = parse_rfc3339(value);
    if (!created) return make_error(ErrorCode::kInvalid, "created_at is not RFC 3339 (UTC)");
  }
  switch (path.kind) {
    case NodeKind::kThumbnail:
      return Status::Ok();  // the mount's own thumbnail: nothing to restore
    case NodeKind::kStaging:
      if (created) return staging_.set_scratch_created(path.set, path.staging_name, *created);
      return Status::Ok();  // computed from the bytes when it is committed
    case NodeKind::kOriginal: {
      bool uploading = for_each_upload_of(path, [&](StagedFile& upload) {
        if (created) upload.set_commit_created(*created);
      });
      if (created) {
        auto applied = committer_.commit(Op{SetCreated{path.set, *created}, now_ns()},
                                         SpanSource({}), path.original_ext);
        // Not committed yet: the upload's commit sets it.
        if (!applied && !(uploading && applied.error().code == ErrorCode::kNotFound)) {
          return applied.error();
        }
        return Status::Ok();
      }
      if (uploading) return Status::Ok();  // judged from the bytes at the commit
      return make_error(ErrorCode::kPermission, name + " is computed from the bytes");
    }
    default:
      return make_error(ErrorCode::kNotSupported, "directories have no attributes");
  }
}

bool ImageSets::for_each_upload_of(const ImagePath& path,
                                   const std::function<void(StagedFile&)>& fn) {
  bool any = false;
  std::lock_guard lock(uploads_mutex_);
  auto [begin, end] = uploads_.equal_range(path.set);
  for (auto it = begin; it != end; ++it) {
    if (it->second->path() != path) continue;
    any = true;
    fn(*it->second);
  }
  return any;
}

Result<std::optional<FileVersion>> ImageSets::keep_own_thumbnail(const ImagePath& scratch,
                                                                 const ImagePath& to) {
  auto file = find_scratch(scratch);
  if (!file) return make_error(ErrorCode::kNotFound, "no such file");
  if (Status s = staging_.remove_scratch(scratch.set, scratch.staging_name); !s) return s.error();
  log_info("restore of " + path_string(to) + ": its bytes dropped, the mount keeps its own");
  // The kernel shows the renamed inode under the thumbnail's name at once:
  // it must be the mount's thumbnail, made now if need be.
  std::optional<FileVersion> own;
  auto found = find_thumbnail(to);
  if (found && found->stored) {
    own = found->stored;
  } else if (found) {
    auto made = make_now(to.set, to.thumbnail);
    if (made) own = *made;
  }
  return own;
}

std::optional<int64_t> ImageSets::directory_mtime(const ImagePath& dir) {
  auto stored = store_.get_dir_mtime(path_string(dir));
  if (!stored) {
    log_warning("mtime of " + path_string(dir) + ": " + stored.error().message);
    return std::nullopt;
  }
  return *stored;
}

Status ImageSets::set_directory_mtime(const ImagePath& dir, int64_t mtime_ns) {
  if (Status s = writable("set the mtime"); !s) return s;
  if (dir.kind == NodeKind::kControlDir) {
    return make_error(ErrorCode::kPermission, "the daemon's own directory is read-only");
  }
  if (directory_mtime(dir) == mtime_ns) return Status::Ok();
  return status_of(committer_.commit(Op{SetDirMtime{path_string(dir), mtime_ns}, now_ns()}));
}

void ImageSets::refresh_thumbnail(const ImagePath& thumbnail, FileVersion& version) {
  auto record = store_.get_set(thumbnail.set);
  if (!record || !record->has_value()) return;  // removed since: what it showed
  version.mtime_ns = (*record)->mtime_ns;
  version.created_ns = (*record)->created_ns;
}

}  // namespace iafs
