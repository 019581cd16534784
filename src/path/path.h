// The path grammar (DESIGN §1): names <-> ImagePath. Parsing happens here and
// nowhere else; every other module works with ImagePath values.
#pragma once

#include <string>
#include <string_view>

#include "imageattachfs/image_path.h"
#include "imageattachfs/recipe.h"
#include "imageattachfs/result.h"
#include "imageattachfs/schema.h"

namespace iafs {

// The path named `name` inside the directory `parent`.
// The root also holds `.imageattachfs` (kControlDir), which holds `metrics`
// (kMetrics); no other dot name is in the grammar. A multiple attachment
// holds `index.json` (kIndexFile), a set directory `meta.json` (kMetaFile).
// Returns kNotFound for a name outside the grammar (unknown type or
// attachment, bad id, `007` index, width `0`, `300.bmp`, a thumbnail size the
// schema's policy refuses), and
// kNotDirectory when `parent` is not a directory.
// Does not look at the store: what it returns may hold nothing.
Result<ImagePath> child_path(const ImagePath& parent, std::string_view name, const Schema& schema);

// Parses an absolute path ("/posts/42/photos/0/thumb/300.jpg"); "/" is the root.
// Same errors as child_path.
Result<ImagePath> parse_path(std::string_view path, const Schema& schema);

// The absolute path text of `path` ("/users/7/picture/original.png").
std::string path_string(const ImagePath& path);

// The last component of `path` ("0", "original.jpeg", "x200.webp"); "/" for the root.
std::string base_name(const ImagePath& path);

// The directory holding `path`. REQUIRES: path is not the root.
ImagePath parent_path(const ImagePath& path);

// Whether `path` is a metadata file (index.json, meta.json): read-only.
inline bool is_metadata_file(const ImagePath& path) {
  return path.kind == NodeKind::kIndexFile || path.kind == NodeKind::kMetaFile;
}

// Whether `name` is a staging name: starts with '.' or ends with '~' (and is
// not "." or ".."). Such names are scratch files in a set directory.
bool is_staging_name(std::string_view name);

// An entity id: 1-128 bytes of [A-Za-z0-9_.-], not "." or "..".
Result<EntityId> parse_entity_id(std::string_view text);

// An order index: canonical decimal 0..4294967295.
Result<uint32_t> parse_index(std::string_view text);

// Paths built from their parts (names are then base_name of these).
ImagePath type_path(std::string_view type);
ImagePath entity_path(std::string_view type, const EntityId& id);
// The directory of an attachment: kAttachment when multiple, else its one set.
ImagePath attachment_path(std::string_view type, const EntityId& id, std::string_view attachment,
                          bool multiple);
ImagePath image_set_path(const ImageSetKey& set, bool multiple);
ImagePath original_path(const ImageSetKey& set, bool multiple, std::string_view ext);
ImagePath thumb_dir_path(const ImageSetKey& set, bool multiple);
ImagePath thumbnail_path(const ImageSetKey& set, bool multiple, const ThumbnailSpec& spec);
ImagePath staging_path(const ImageSetKey& set, bool multiple, std::string_view name);
// A scratch file in a set's thumb/ (rsync's temporary `.300.jpg.Xy12ab` of a
// restored thumbnail): a kStaging path whose staging_name is
// kThumbScratchPrefix + `name` (a name holds no '/', so the set directory's
// scratch names never collide with these); its base_name is `name`.
inline constexpr std::string_view kThumbScratchPrefix = "thumb/";
ImagePath thumb_staging_path(const ImageSetKey& set, bool multiple, std::string_view name);
bool is_thumb_scratch(const ImagePath& path);
// The daemon's own names: kControlDir (/.imageattachfs) or kMetrics
// (/.imageattachfs/metrics). REQUIRES: one of those kinds.
ImagePath control_path(NodeKind kind);

// Whether `path` is the set directory `set` or inside it (original, thumb/,
// thumbnails, scratch files).
bool is_in_set(const ImagePath& path, const ImageSetKey& set);

// The same place as `path` (a set directory or anything in it) in the set
// `to`: what mv -T of the set makes of it.
ImagePath moved_to_set(const ImagePath& path, const ImageSetKey& to);

}  // namespace iafs
