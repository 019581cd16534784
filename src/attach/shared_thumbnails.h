// Thumbnails shared by the hosts of a bucket (SCALEOUT.md §3, §6): each at a
// key that every host computes alike from the original's bytes and the
// recipe, so that the first host's bytes are every host's.
#pragma once

#include <cstdint>
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

// The parts of a thumbnail object's key: the original's bytes, 16 hex
// digits of the recipe text's SHA-256, and the canonical name.
struct SharedThumbnailName {
  BlobId original{};
  std::string recipe;
  std::string name;
};
SharedThumbnailName shared_thumbnail_name(const BlobId& original, const ThumbnailSpec& spec,
                                          int quality, const std::optional<FocalPoint>& focus);
// "t/<original's sha256>/<recipe>/<name>", and "~<gen:020>" after it once a
// drop_thumb at seq `gen` gave the object a new generation.
std::string shared_thumbnail_key(const SharedThumbnailName& name, uint64_t gen = 0);
std::string shared_thumbnail_key(const BlobId& original, const ThumbnailSpec& spec, int quality,
                                 const std::optional<FocalPoint>& focus);

}  // namespace iafs
