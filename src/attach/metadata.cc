// The metadata files' JSON (attach/metadata.h), and ImageSets::metadata_text.
#include "attach/metadata.h"

#include <time.h>

#include <cstdio>

#include "attach/focus_text.h"
#include "attach/image_sets.h"
#include "base/clock.h"
#include "base/json.h"
#include "image/placeholders.h"
#include "path/path.h"

namespace iafs {
namespace {

void append_key(std::string& out, std::string_view key) {
  append_json_string(out, key);
  out.push_back(':');
}

void append_number(std::string& out, std::string_view key, uint64_t value) {
  append_key(out, key);
  out.append(std::to_string(value));
}

void append_set(std::string& out, const SetMetadata& set) {
  out.push_back('{');
  append_number(out, "index", set.index);
  out.push_back(',');
  append_key(out, "name");
  append_json_string(out, set.name);
  out.push_back(',');
  append_number(out, "width", set.width);
  out.push_back(',');
  append_number(out, "height", set.height);
  out.push_back(',');
  append_key(out, "mimetype");
  append_json_string(out, set.mimetype);
  out.push_back(',');
  append_number(out, "bytes", set.bytes);
  out.push_back(',');
  append_key(out, "sha256");
  append_json_string(out, blob_id_hex(set.sha256));
  out.push_back(',');
  append_key(out, "mtime");
  append_json_string(out, rfc3339_ns(set.mtime_ns));
  out.push_back(',');
  if (set.focus) {
    append_key(out, "focus");
    out.append("[" + focus_text(*set.focus) + "],");  // "0.35,0.2": two JSON numbers
  }
  if (!set.blurhash.empty()) {
    append_key(out, "blurhash");
    append_json_string(out, set.blurhash);
    out.push_back(',');
  }
  if (set.color) {
    append_key(out, "color");
    append_json_string(out, color_hex(*set.color));
    out.push_back(',');
  }
  append_key(out, "lqip");
  append_json_string(out, set.lqip);
  out.push_back(',');
  append_key(out, "srcset");
  out.push_back('{');
  for (size_t i = 0; i < set.srcset.size(); ++i) {
    if (i > 0) out.push_back(',');
    append_key(out, canonical_extension(set.srcset[i].first));
    append_json_string(out, set.srcset[i].second);
  }
  out.append("},");
  append_key(out, "thumbnails");
  out.push_back('[');
  for (size_t i = 0; i < set.thumbnails.size(); ++i) {
    const ThumbnailMetadata& thumb = set.thumbnails[i];
    if (i > 0) out.push_back(',');
    out.push_back('{');
    append_key(out, "name");
    append_json_string(out, thumb.name);
    out.push_back(',');
    append_number(out, "width", thumb.width);
    out.push_back(',');
    append_number(out, "height", thumb.height);
    out.push_back(',');
    append_number(out, "bytes", thumb.bytes);
    out.push_back('}');
  }
  out.append("]}");
}

// Per allowed format, "PATH 16w, PATH 32w, ..." of the allowed widths up to
// the original's.
std::vector<std::pair<ImageFormat, std::string>> srcset_of(const ImageSetKey& key,
                                                           const AttachmentSchema& attachment,
                                                           uint32_t original_width) {
  const ThumbnailPolicy& policy = attachment.thumbnails;
  std::span<const uint32_t> widths = policy.widths.sizes;
  if (widths.empty()) widths = kSrcsetWidths;
  std::vector<std::pair<ImageFormat, std::string>> srcset;
  for (const FormatInfo& info : all_formats()) {
    std::string text;
    for (uint32_t width : widths) {
      ThumbnailSpec spec{ThumbFit::kWidth, width, 0, info.format};
      if (width > original_width || !policy.allows(spec)) continue;
      if (!text.empty()) text += ", ";
      text += path_string(thumbnail_path(key, attachment.multiple, spec));
      text += ' ';
      text += std::to_string(width);
      text += 'w';
    }
    if (!text.empty()) srcset.emplace_back(info.format, std::move(text));
  }
  return srcset;
}

}  // namespace

std::string rfc3339_ns(int64_t ns) {
  timespec ts = to_timespec(ns);
  time_t seconds = ts.tv_sec;
  tm utc{};
  gmtime_r(&seconds, &utc);
  char date[32];
  strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &utc);
  char text[48];
  std::snprintf(text, sizeof(text), "%s.%09ldZ", date, static_cast<long>(ts.tv_nsec));
  return text;
}

SetMetadata set_metadata(const StoredSet& set, const AttachmentSchema& attachment) {
  const SetRecord& original = set.record;
  SetMetadata out;
  out.index = set.key.index;
  out.name = "original." + original.ext;
  out.width = original.width;
  out.height = original.height;
  out.mimetype = std::string(mime_type(original.format));
  out.bytes = original.size;
  out.sha256 = original.blob;
  out.mtime_ns = original.mtime_ns;
  out.focus = original.focus;
  out.blurhash = original.blurhash;
  out.color = original.color;
  const ThumbnailPolicy& policy = attachment.thumbnails;
  out.lqip = path_string(thumbnail_path(
      set.key, attachment.multiple, ThumbnailSpec{ThumbFit::kLqip, 0, 0, ImageFormat::kWebp}));
  out.srcset = srcset_of(set.key, attachment, original.width);
  for (const auto& [spec, thumb] : set.thumbnails) {
    // As listed in thumb/: made from this original, and allowed now.
    if (thumb.source != original.blob) continue;
    if (!policy.allows(spec)) continue;
    out.thumbnails.push_back({thumbnail_name(spec), thumb.width, thumb.height, thumb.size});
  }
  return out;
}

std::string meta_json(const SetMetadata& set) {
  std::string out;
  append_set(out, set);
  out.push_back('\n');
  return out;
}

std::string index_json(std::span<const SetMetadata> sets) {
  std::string out = "{\"sets\":[";
  for (size_t i = 0; i < sets.size(); ++i) {
    if (i > 0) out.push_back(',');
    append_set(out, sets[i]);
  }
  out.append("]}\n");
  return out;
}

Result<std::string> ImageSets::metadata_text(const ImagePath& path) {
  bool index = path.kind == NodeKind::kIndexFile;
  if (!index && path.kind != NodeKind::kMetaFile) {
    return make_error(ErrorCode::kNotFound, "not a metadata file");
  }
  const AttachmentSchema* attachment = attachment_of(path.set);
  if (attachment == nullptr)
    return make_error(ErrorCode::kNotFound, "attachment not in the schema");
  auto stored = store_.read_sets(path.set, index);
  if (!stored) return stored.error();
  if (stored->empty()) {
    return make_error(ErrorCode::kNotFound,
                      index ? "the attachment holds no original" : "the set holds no original");
  }
  std::vector<SetMetadata> sets;
  sets.reserve(stored->size());
  for (const StoredSet& set : *stored) sets.push_back(set_metadata(set, *attachment));
  return index ? index_json(sets) : meta_json(sets.front());
}

}  // namespace iafs
