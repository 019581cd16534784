#include "path/path.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/numbers.h"

namespace iafs {
namespace {

constexpr std::string_view kThumbDirName = "thumb";
constexpr std::string_view kOriginalStem = "original.";
constexpr std::string_view kReservedAttachmentFile = "index.json";
constexpr std::string_view kReservedSetFile = "meta.json";
constexpr std::string_view kControlDirName = ".imageattachfs";
constexpr std::string_view kMetricsName = "metrics";
constexpr size_t kMaxIdBytes = 128;
constexpr size_t kMaxNameBytes = 255;  // statfs's f_namemax
constexpr uint64_t kMaxIntegerId = INT64_MAX;

Error not_found(std::string_view name, std::string_view why) { return name_not_found(name, why); }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '.' ||
         c == '-';
}

// An ImagePath of `kind` holding only the fields that kind implies.
ImagePath make_node(NodeKind kind, const ImageSetKey& set, bool multiple) {
  ImagePath path;
  path.kind = kind;
  if (kind == NodeKind::kRoot) return path;
  path.set.type = set.type;
  if (kind == NodeKind::kType) return path;
  path.set.id = set.id;
  if (kind == NodeKind::kEntity) return path;
  path.set.attachment = set.attachment;
  path.multiple = multiple;
  if (kind == NodeKind::kAttachment || kind == NodeKind::kIndexFile) return path;
  path.set.index = multiple ? set.index : 0;
  return path;
}

const AttachmentSchema* attachment_of(const ImagePath& path, const Schema& schema) {
  return schema.find_attachment(path.set.type, path.set.attachment);
}

Result<ImagePath> type_child(std::string_view name, const Schema& schema) {
  // The one dot name of the root (types start with a letter).
  if (name == kControlDirName) return control_path(NodeKind::kControlDir);
  if (schema.find_type(name) == nullptr) return not_found(name, "no such type in the schema");
  return type_path(name);
}

Result<ImagePath> entity_child(const ImagePath& parent, std::string_view name) {
  Result<EntityId> id = parse_entity_id(name);
  if (!id) return id.error();
  ImagePath path = make_node(NodeKind::kType, parent.set, false);
  path.kind = NodeKind::kEntity;
  path.set.id = std::move(id).value();
  return path;
}

Result<ImagePath> attachment_child(const ImagePath& parent, std::string_view name,
                                   const Schema& schema) {
  const AttachmentSchema* attachment = schema.find_attachment(parent.set.type, name);
  if (attachment == nullptr) {
    return not_found(name, "no such attachment of type '" + parent.set.type + "'");
  }
  ImageSetKey set = parent.set;
  set.attachment = std::string(name);
  set.index = 0;
  NodeKind kind = attachment->multiple ? NodeKind::kAttachment : NodeKind::kImageSet;
  return make_node(kind, set, attachment->multiple);
}

Result<ImagePath> index_child(const ImagePath& parent, std::string_view name) {
  if (name == kReservedAttachmentFile) return make_node(NodeKind::kIndexFile, parent.set, true);
  Result<uint32_t> index = parse_index(name);
  if (!index) return index.error();
  ImageSetKey set = parent.set;
  set.index = index.value();
  return make_node(NodeKind::kImageSet, set, true);
}

Result<ImagePath> original_child(const ImagePath& parent, std::string_view name,
                                 const Schema& schema) {
  std::string_view ext = name.substr(kOriginalStem.size());
  std::optional<ImageFormat> format = format_from_extension(ext);
  if (!format) return not_found(name, "not an image extension of an original");
  const AttachmentSchema* attachment = attachment_of(parent, schema);
  if (attachment == nullptr) return not_found(name, "attachment not in the schema");
  if (!attachment->originals.accepts(*format)) {
    return not_found(name,
                     "format not accepted by " + parent.set.type + "." + parent.set.attachment);
  }
  ImagePath path = make_node(NodeKind::kOriginal, parent.set, parent.multiple);
  path.original_ext = std::string(ext);
  path.original_format = *format;
  return path;
}

Result<ImagePath> set_child(const ImagePath& parent, std::string_view name, const Schema& schema) {
  if (name == kReservedSetFile) return make_node(NodeKind::kMetaFile, parent.set, parent.multiple);
  if (name == kThumbDirName) return make_node(NodeKind::kThumbDir, parent.set, parent.multiple);
  if (is_staging_name(name)) {
    ImagePath path = make_node(NodeKind::kStaging, parent.set, parent.multiple);
    path.staging_name = std::string(name);
    return path;
  }
  if (name.starts_with(kOriginalStem)) return original_child(parent, name, schema);
  return not_found(name, "not original.<ext>, thumb or a staging name");
}

Result<ImagePath> thumbnail_child(const ImagePath& parent, std::string_view name,
                                  const Schema& schema) {
  const AttachmentSchema* attachment = attachment_of(parent, schema);
  if (attachment == nullptr) return not_found(name, "attachment not in the schema");
  const ThumbnailPolicy& policy = attachment->thumbnails;
  Result<ThumbnailSpec> spec = parse_thumbnail_name(name, policy.presets);
  if (!spec) return spec.error();
  if (!policy.allows(*spec)) {
    return not_found(name, "recipe " + thumbnail_name(*spec) + " not allowed by the policy of " +
                               parent.set.type + "." + parent.set.attachment);
  }
  ImagePath path = make_node(NodeKind::kThumbnail, parent.set, parent.multiple);
  path.thumbnail = spec.value();
  return path;
}

}  // namespace

Result<ImagePath> child_path(const ImagePath& parent, std::string_view name, const Schema& schema) {
  if (!parent.is_directory()) {
    return make_error(ErrorCode::kNotDirectory, path_string(parent) + ": not a directory");
  }
  if (name.empty() || name.find('/') != std::string_view::npos ||
      name.find('\0') != std::string_view::npos) {
    return not_found(name, "not a file name");
  }
  if (name.size() > kMaxNameBytes) {
    return make_error(ErrorCode::kNameTooLong, "a name of " + std::to_string(name.size()) +
                                                   " bytes, over " + std::to_string(kMaxNameBytes));
  }
  switch (parent.kind) {
    case NodeKind::kRoot:
      return type_child(name, schema);
    case NodeKind::kType:
      return entity_child(parent, name);
    case NodeKind::kEntity:
      return attachment_child(parent, name, schema);
    case NodeKind::kAttachment:
      return index_child(parent, name);
    case NodeKind::kImageSet:
      return set_child(parent, name, schema);
    case NodeKind::kThumbDir:
      if (is_staging_name(name)) return thumb_staging_path(parent.set, parent.multiple, name);
      return thumbnail_child(parent, name, schema);
    case NodeKind::kControlDir:
      if (name == kMetricsName) return control_path(NodeKind::kMetrics);
      return not_found(name, "not a file of " + std::string(kControlDirName));
    default:
      break;
  }
  return make_error(ErrorCode::kNotDirectory, path_string(parent) + ": not a directory");
}

Result<ImagePath> parse_path(std::string_view path, const Schema& schema) {
  if (!path.starts_with('/')) return not_found(path, "not an absolute path");
  std::string_view rest = path.substr(1);
  // One trailing slash is tolerated, but it must follow a directory.
  bool trailing_slash = rest.size() >= 2 && rest.ends_with('/') && rest[rest.size() - 2] != '/';
  if (trailing_slash) rest.remove_suffix(1);
  ImagePath current;
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view name = rest.substr(0, slash);
    if (name.empty()) return not_found(path, "empty path component");
    Result<ImagePath> child = child_path(current, name, schema);
    if (!child) return child.error();
    current = std::move(child).value();
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (slash != std::string_view::npos && rest.empty()) {
      return not_found(path, "empty path component");
    }
  }
  if (trailing_slash && !current.is_directory()) {
    return make_error(ErrorCode::kNotDirectory, std::string(path) + ": not a directory");
  }
  return current;
}

std::string path_string(const ImagePath& path) {
  if (path.kind == NodeKind::kRoot) return "/";
  std::string parent = path_string(parent_path(path));
  if (parent != "/") parent += '/';
  return parent + base_name(path);
}

std::string base_name(const ImagePath& path) {
  switch (path.kind) {
    case NodeKind::kRoot:
      return "/";
    case NodeKind::kType:
      return path.set.type;
    case NodeKind::kEntity:
      return path.set.id.text;
    case NodeKind::kAttachment:
      return path.set.attachment;
    case NodeKind::kImageSet:
      return path.multiple ? std::to_string(path.set.index) : path.set.attachment;
    case NodeKind::kOriginal:
      return std::string(kOriginalStem) + path.original_ext;
    case NodeKind::kThumbDir:
      return std::string(kThumbDirName);
    case NodeKind::kThumbnail:
      return thumbnail_name(path.thumbnail);
    case NodeKind::kStaging:
      if (is_thumb_scratch(path)) return path.staging_name.substr(kThumbScratchPrefix.size());
      return path.staging_name;
    case NodeKind::kControlDir:
      return std::string(kControlDirName);
    case NodeKind::kMetrics:
      return std::string(kMetricsName);
    case NodeKind::kIndexFile:
      return std::string(kReservedAttachmentFile);
    case NodeKind::kMetaFile:
      return std::string(kReservedSetFile);
  }
  return "/";
}

ImagePath parent_path(const ImagePath& path) {
  switch (path.kind) {
    case NodeKind::kRoot:
    case NodeKind::kType:
    case NodeKind::kControlDir:
      return ImagePath();
    case NodeKind::kMetrics:
      return control_path(NodeKind::kControlDir);
    case NodeKind::kEntity:
      return make_node(NodeKind::kType, path.set, false);
    case NodeKind::kAttachment:
      return make_node(NodeKind::kEntity, path.set, false);
    case NodeKind::kImageSet:
      return path.multiple ? make_node(NodeKind::kAttachment, path.set, true)
                           : make_node(NodeKind::kEntity, path.set, false);
    case NodeKind::kStaging:
      if (is_thumb_scratch(path)) return make_node(NodeKind::kThumbDir, path.set, path.multiple);
      return make_node(NodeKind::kImageSet, path.set, path.multiple);
    case NodeKind::kIndexFile:
      return make_node(NodeKind::kAttachment, path.set, true);
    case NodeKind::kOriginal:
    case NodeKind::kThumbDir:
    case NodeKind::kMetaFile:
      return make_node(NodeKind::kImageSet, path.set, path.multiple);
    case NodeKind::kThumbnail:
      return make_node(NodeKind::kThumbDir, path.set, path.multiple);
  }
  return ImagePath();
}

bool is_staging_name(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return false;
  return name.front() == '.' || name.back() == '~';
}

Result<EntityId> parse_entity_id(std::string_view text) {
  if (text.empty() || text.size() > kMaxIdBytes) {
    return not_found(text, "an entity id is 1 to 128 bytes");
  }
  if (text == "." || text == "..") return not_found(text, "not an entity id");
  for (char c : text) {
    if (!is_id_char(c)) return not_found(text, "an entity id is made of [A-Za-z0-9_.-]");
  }
  EntityId id;
  id.text = std::string(text);
  if (std::optional<uint64_t> number = parse_canonical_decimal(text, kMaxIntegerId)) {
    id.is_integer = true;
    id.number = *number;
  }
  return id;
}

Result<uint32_t> parse_index(std::string_view text) {
  std::optional<uint64_t> index = parse_canonical_decimal(text, UINT32_MAX);
  if (!index) return not_found(text, "an index is canonical decimal from 0 to 4294967295");
  return static_cast<uint32_t>(*index);
}

ImagePath type_path(std::string_view type) {
  ImagePath path;
  path.kind = NodeKind::kType;
  path.set.type = std::string(type);
  return path;
}

ImagePath entity_path(std::string_view type, const EntityId& id) {
  ImagePath path = type_path(type);
  path.kind = NodeKind::kEntity;
  path.set.id = id;
  return path;
}

ImagePath attachment_path(std::string_view type, const EntityId& id, std::string_view attachment,
                          bool multiple) {
  ImageSetKey set{std::string(type), id, std::string(attachment), 0};
  return make_node(multiple ? NodeKind::kAttachment : NodeKind::kImageSet, set, multiple);
}

ImagePath image_set_path(const ImageSetKey& set, bool multiple) {
  return make_node(NodeKind::kImageSet, set, multiple);
}

ImagePath original_path(const ImageSetKey& set, bool multiple, std::string_view ext) {
  ImagePath path = make_node(NodeKind::kOriginal, set, multiple);
  path.original_ext = std::string(ext);
  path.original_format = format_from_extension(ext).value_or(ImageFormat::kJpeg);
  return path;
}

ImagePath thumb_dir_path(const ImageSetKey& set, bool multiple) {
  return make_node(NodeKind::kThumbDir, set, multiple);
}

ImagePath thumbnail_path(const ImageSetKey& set, bool multiple, const ThumbnailSpec& spec) {
  ImagePath path = make_node(NodeKind::kThumbnail, set, multiple);
  path.thumbnail = spec;
  return path;
}

ImagePath control_path(NodeKind kind) {
  ImagePath path;
  path.kind = kind;
  return path;
}

ImagePath staging_path(const ImageSetKey& set, bool multiple, std::string_view name) {
  ImagePath path = make_node(NodeKind::kStaging, set, multiple);
  path.staging_name = std::string(name);
  return path;
}

ImagePath thumb_staging_path(const ImageSetKey& set, bool multiple, std::string_view name) {
  ImagePath path = make_node(NodeKind::kStaging, set, multiple);
  path.staging_name = std::string(kThumbScratchPrefix) + std::string(name);
  return path;
}

bool is_thumb_scratch(const ImagePath& path) {
  return path.kind == NodeKind::kStaging && path.staging_name.starts_with(kThumbScratchPrefix);
}

bool is_in_set(const ImagePath& path, const ImageSetKey& set) {
  switch (path.kind) {
    case NodeKind::kImageSet:
    case NodeKind::kOriginal:
    case NodeKind::kThumbDir:
    case NodeKind::kThumbnail:
    case NodeKind::kStaging:
      return path.set == set;
    default:
      return false;
  }
}

ImagePath moved_to_set(const ImagePath& path, const ImageSetKey& to) {
  ImagePath moved = path;
  moved.set = to;
  if (!moved.multiple) moved.set.index = 0;
  return moved;
}

}  // namespace iafs
