// Thumbnails shared by the hosts of a bucket (SCALEOUT.md §3, §6): each at a
// key that every host computes alike from the original's bytes and the
// recipe, so that the first host's bytes are every host's.
#pragma once

#include <optional>
#include <string>

#include "imageattachfs/blob_store.h"
#include "imageattachfs/image_path.h"

namespace iafs {

// What the bytes of a thumbnail depend on beside its name and the
// original's bytes, as canonical text: "r1;fmt=jpg;q=85", with
// ";focus=X,Y" (millionths) for a -cover crop around a focal point.
std::string thumbnail_recipe_text(const ThumbnailSpec& spec, int quality,
                                  const std::optional<FocalPoint>& focus);

// "t/<original's sha256>/<16 hex of the recipe text's sha256>/<canonical name>".
std::string shared_thumbnail_key(const BlobId& original, const ThumbnailSpec& spec, int quality,
                                 const std::optional<FocalPoint>& focus);

}  // namespace iafs
