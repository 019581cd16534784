// The schema's recipe settings (README "Thumbnail recipes"):
// thumbnail_formats, thumbnail_boxes, quality.<ext>, enlarge, preset.<name>
// and eager.
#pragma once

#include <string_view>

#include "imageattachfs/result.h"
#include "imageattachfs/schema.h"

namespace iafs {

// Applies `key = value` if `key` is a recipe setting; kNotFound if it is
// not one (the caller tries its own keys), kInvalid for a bad value.
// `eager` is only checked for its form here: see resolve_eager.
Status apply_recipe_setting(AttachmentSchema& attachment, std::string_view key,
                            std::string_view value);

// Resolves the section's `eager = ...` names (thumbnail names, presets
// included) once the whole section is read: each must be allowed by the
// attachment's policy. kInvalid names the first that is not.
Status resolve_eager(AttachmentSchema& attachment, std::string_view value);

}  // namespace iafs
