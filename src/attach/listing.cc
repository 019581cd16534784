// ImageSets: directory listings, rmdir, and extended attributes. Entries are
// built from typed values; their names are base_name() of their paths.
#include <time.h>

#include "attach/image_sets.h"
#include "base/clock.h"
#include "image/placeholders.h"
#include "path/path.h"

namespace iafs {
namespace {

DirEntry dir_entry(ImagePath path) { return DirEntry{std::move(path), {}, {}, {}}; }

std::string rfc3339(int64_t ns) {
  time_t seconds = to_timespec(ns).tv_sec;
  tm utc;
  gmtime_r(&seconds, &utc);
  char text[40];
  strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

template <typename T>
std::optional<T> cursor_as(const std::optional<ListCursor>& cursor) {
  if (!cursor || !std::holds_alternative<T>(*cursor)) return std::nullopt;
  return std::get<T>(*cursor);
}

}  // namespace

Status ImageSets::list(const ImagePath& dir, const std::optional<ListCursor>& after,
                       const std::function<bool(DirEntry&&)>& fn) {
  switch (dir.kind) {
    case NodeKind::kRoot:
      for (const TypeSchema& type : schema_.types) {
        if (!fn(dir_entry(type_path(type.name)))) break;
      }
      return Status::Ok();
    case NodeKind::kType:
      return store_.list_entities(dir.set.type, cursor_as<EntityId>(after),
                                  [&](const EntityId& id) {
                                    DirEntry entry = dir_entry(entity_path(dir.set.type, id));
                                    entry.cursor = id;
                                    return fn(std::move(entry));
                                  });
    case NodeKind::kEntity:
      return list_entity(dir, fn);
    case NodeKind::kAttachment:
      return store_.list_sets(dir.set.type, dir.set.id, dir.set.attachment,
                              cursor_as<uint32_t>(after), [&](uint32_t index) {
                                ImageSetKey set = dir.set;
                                set.index = index;
                                DirEntry entry = dir_entry(image_set_path(set, true));
                                entry.cursor = index;
                                return fn(std::move(entry));
                              });
    case NodeKind::kImageSet:
      return list_set_directory(dir, fn);
    case NodeKind::kThumbDir: {
      bool more = true;
      Status listed =
          list_thumbnails(dir, [&](DirEntry&& entry) { return more = fn(std::move(entry)); });
      if (!listed || !more) return listed;
      return list_scratch_files(dir, fn);
    }
    case NodeKind::kControlDir:
      fn(dir_entry(control_path(NodeKind::kMetrics)));
      return Status::Ok();
    default:
      return make_error(ErrorCode::kNotDirectory, "not a directory");
  }
}

Status ImageSets::list_entity(const ImagePath& dir, const std::function<bool(DirEntry&&)>& fn) {
  const TypeSchema* type = schema_.find_type(dir.set.type);
  if (type == nullptr) return Status::Ok();
  for (const AttachmentSchema& attachment : type->attachments) {
    auto any = store_.has_sets(dir.set.type, dir.set.id, attachment.name);
    if (!any) return any.error();
    if (!*any) continue;
    if (!fn(dir_entry(
            attachment_path(dir.set.type, dir.set.id, attachment.name, attachment.multiple)))) {
      break;
    }
  }
  return Status::Ok();
}

Status ImageSets::list_set_directory(const ImagePath& dir,
                                     const std::function<bool(DirEntry&&)>& fn) {
  auto record = store_.get_set(dir.set);
  if (!record) return record.error();
  if (record->has_value()) {
    DirEntry original = dir_entry(original_path(dir.set, dir.multiple, (*record)->ext));
    original.version = version_of(**record);
    if (!fn(std::move(original))) return Status::Ok();
    if (!fn(dir_entry(thumb_dir_path(dir.set, dir.multiple)))) return Status::Ok();
  }
  return list_scratch_files(dir, fn);
}

// The scratch files listed in `dir`: a set directory's own, or its thumb/'s.
Status ImageSets::list_scratch_files(const ImagePath& dir,
                                     const std::function<bool(DirEntry&&)>& fn) {
  bool thumb_dir = dir.kind == NodeKind::kThumbDir;
  for (ScratchFile& file : staging_.list_scratch(dir.set)) {
    // Staging keys thumb/'s scratch files under kThumbScratchPrefix + name.
    DirEntry entry = dir_entry(staging_path(dir.set, dir.multiple, file.name));
    if (is_thumb_scratch(entry.path) != thumb_dir) continue;
    entry.scratch = std::move(file);
    if (!fn(std::move(entry))) break;
  }
  return Status::Ok();
}

Status ImageSets::list_thumbnails(const ImagePath& dir, const std::function<bool(DirEntry&&)>& fn) {
  auto record = store_.get_set(dir.set);
  if (!record) return record.error();
  if (!record->has_value()) return Status::Ok();
  const BlobId source = (*record)->blob;
  const SetRecord original = **record;
  const AttachmentSchema* attachment = attachment_of(dir.set);
  if (attachment == nullptr) return Status::Ok();
  const ThumbnailPolicy& policy = attachment->thumbnails;
  return store_.list_thumbnails(dir.set, [&](const ThumbnailSpec& spec, const ThumbRecord& thumb) {
    if (thumb.source != source) return true;
    // The schema may have changed since it was made: list only what resolves.
    if (!policy.allows(spec)) return true;
    DirEntry entry = dir_entry(thumbnail_path(dir.set, dir.multiple, spec));
    entry.version = version_of(thumb, spec.format, original);
    return fn(std::move(entry));
  });
}

Status ImageSets::remove_directory(const ImagePath& dir) {
  if (Status s = writable("rmdir"); !s) return s;
  if (dir.kind == NodeKind::kControlDir) {
    return make_error(ErrorCode::kPermission, "the daemon's own directory stays");
  }
  bool empty = true;
  Status listed = list(dir, std::nullopt, [&](DirEntry&&) {
    empty = false;
    return false;
  });
  if (!listed) return listed;
  if (!empty) return make_error(ErrorCode::kNotEmpty, "the directory holds images");
  return Status::Ok();
}

std::vector<std::pair<std::string, std::string>> ImageSets::xattrs_of(
    const FileVersion& version) const {
  std::vector<std::pair<std::string, std::string>> xattrs = {
      {"user.image.width", std::to_string(version.width)},
      {"user.image.height", std::to_string(version.height)},
      {"user.image.mimetype", std::string(mime_type(version.format))},
      {"user.image.created_at", rfc3339(version.created_ns)},
      {"user.image.sha256", blob_id_hex(version.blob)},
  };
  if (!version.blurhash.empty()) xattrs.emplace_back("user.image.blurhash", version.blurhash);
  if (version.color) xattrs.emplace_back("user.image.color", color_hex(*version.color));
  return xattrs;
}

}  // namespace iafs
