// Unit tests of the keys of thumbnails shared through a bucket.
#include "attach/shared_thumbnails.h"

#include <criterion/criterion.h>

#include <string>

#include "imageattachfs/recipe.h"
#include "store/hashing.h"

using namespace iafs;

namespace {

BlobId original() {
  std::string text = "original bytes";
  return sha256_of(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

ThumbnailSpec spec_of(const std::string& name) {
  auto spec = parse_thumbnail_name(name, {});
  cr_assert(spec.ok(), "%s", name.c_str());
  return *spec;
}

}  // namespace

Test(shared_thumbnails, recipe_texts_are_canonical) {
  cr_assert(thumbnail_recipe_text(spec_of("300.jpeg"), 85, std::nullopt) == "r1;fmt=jpg;q=85");
  cr_assert(thumbnail_recipe_text(spec_of("300x300-cover.webp"), 80, FocalPoint{250000, 750000}) ==
            "r1;fmt=webp;q=80;focus=250000,750000");
  // A focal point is no part of a recipe that does not crop around it.
  cr_assert(thumbnail_recipe_text(spec_of("300.png"), 90, FocalPoint{1, 2}) == "r1;fmt=png;q=90");
}

Test(shared_thumbnails, keys_name_the_original_the_recipe_and_the_canonical_name) {
  std::string key = shared_thumbnail_key(original(), spec_of("300.jpg"), 85, std::nullopt);
  std::string prefix = "t/" + blob_id_hex(original()) + "/";
  cr_assert(key.starts_with(prefix), "%s", key.c_str());
  std::string rest = key.substr(prefix.size());
  cr_assert_eq(rest.size(), 16 + 1 + std::string("300.jpg").size(), "%s", rest.c_str());
  cr_assert(rest.ends_with("/300.jpg"));
  cr_assert(rest.substr(0, 16).find_first_not_of("0123456789abcdef") == std::string::npos);
}

Test(shared_thumbnails, aliases_share_a_key_and_what_changes_the_bytes_changes_it) {
  auto key = [](const std::string& name, int quality, std::optional<FocalPoint> focus) {
    return shared_thumbnail_key(original(), spec_of(name), quality, focus);
  };
  cr_assert(key("150@2x.jpg", 85, {}) == key("300.jpeg", 85, {}));
  cr_assert(key("300.jpg", 85, {}) != key("300.jpg", 86, {}));
  cr_assert(key("300.jpg", 85, {}) != key("300.webp", 85, {}));
  cr_assert(key("96x96-cover.jpg", 85, FocalPoint{1, 2}) !=
            key("96x96-cover.jpg", 85, FocalPoint{2, 1}));
  cr_assert(key("96x96-cover.jpg", 85, {}) != key("96x96-cover.jpg", 85, FocalPoint{500000, 500000}));
  // Attention and entropy crops do not look at the focus: neither does their key.
  cr_assert(key("96x96-cover-attention.jpg", 85, {}) ==
            key("96x96-cover-attention.jpg", 85, FocalPoint{1, 2}));
}
