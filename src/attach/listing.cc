// ImageSets: directory listings, rmdir, and extended attributes.
#include <time.h>

#include <cstdio>

#include "attach/image_sets.h"
#include "path/path.h"

namespace iafs {
namespace {

DirEntry entry_for(const ImagePath& dir, const std::string& name, const Schema& schema) {
  auto path = child_path(dir, name, schema);
  return DirEntry{name, path ? *path : ImagePath{}, std::nullopt, std::nullopt};
}

std::string rfc3339(int64_t ns) {
  time_t seconds = static_cast<time_t>(ns / 1000000000);
  tm utc;
  gmtime_r(&seconds, &utc);
  char text[40];
  strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace

Status ImageSets::list(const ImagePath& dir, const std::optional<std::string>& after,
                       const std::function<bool(DirEntry&&)>& fn) {
  switch (dir.kind) {
    case NodeKind::kRoot:
      for (const TypeSchema& type : schema_.types) {
        if (!fn(entry_for(dir, type.name, schema_))) break;
      }
      return Status::Ok();
    case NodeKind::kType: {
      std::optional<EntityId> from;
      if (after) {
        auto id = parse_entity_id(*after);
        if (id) from = *id;
      }
      return store_.list_entities(dir.set.type, from, [&](const EntityId& id) {
        return fn(entry_for(dir, id.text, schema_));
      });
    }
    case NodeKind::kEntity:
      return list_entity(dir, fn);
    case NodeKind::kAttachment: {
      std::optional<uint32_t> from;
      if (after) {
        auto index = parse_index(*after);
        if (index) from = *index;
      }
      return store_.list_sets(
          dir.set.type, dir.set.id, dir.set.attachment, from,
          [&](uint32_t index) { return fn(entry_for(dir, std::to_string(index), schema_)); });
    }
    case NodeKind::kImageSet:
      return list_set_directory(dir, fn);
    case NodeKind::kThumbDir:
      return list_thumbnails(dir, fn);
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
    if (*any && !fn(entry_for(dir, attachment.name, schema_))) break;
  }
  return Status::Ok();
}

Status ImageSets::list_set_directory(const ImagePath& dir,
                                     const std::function<bool(DirEntry&&)>& fn) {
  auto record = store_.get_set(dir.set);
  if (!record) return record.error();
  if (record->has_value()) {
    DirEntry original = entry_for(dir, "original." + (*record)->ext, schema_);
    original.version = version_of(**record);
    if (!fn(std::move(original))) return Status::Ok();
    if (!fn(entry_for(dir, "thumb", schema_))) return Status::Ok();
  }
  for (ScratchFile& file : staging_.list_scratch(path_string(dir))) {
    DirEntry entry = entry_for(dir, file.name, schema_);
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
  return store_.list_thumbnails(dir.set, [&](const ThumbnailSpec& spec, const ThumbRecord& thumb) {
    if (thumb.source != source) return true;
    DirEntry entry = entry_for(dir, thumbnail_name(spec), schema_);
    if (entry.path.kind != NodeKind::kThumbnail) return true;  // the schema changed since
    entry.version = version_of(thumb, spec.format);
    return fn(std::move(entry));
  });
}

Status ImageSets::remove_directory(const ImagePath& dir) {
  bool empty = true;
  Status listed = list(dir, std::nullopt, [&](DirEntry&&) {
    empty = false;
    return false;
  });
  if (!listed) return listed;
  if (!empty) return make_error(ErrorCode::kNotEmpty, "the directory holds images");
  return Status::Ok();
}

std::vector<std::pair<std::string, std::string>> ImageSets::attributes(
    const FileVersion& version) const {
  return {
      {"user.image.width", std::to_string(version.width)},
      {"user.image.height", std::to_string(version.height)},
      {"user.image.mimetype", std::string(mime_type(version.format))},
      {"user.image.created_at", rfc3339(version.created_ns)},
      {"user.image.sha256", blob_id_hex(version.blob)},
  };
}

}  // namespace iafs
