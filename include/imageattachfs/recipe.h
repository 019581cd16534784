// Thumbnail recipes as names (README "Thumbnail names"): `300.jpg`,
// `x200.jpg`, `300x200.jpg`, `300x300-cover.jpg` (and `-cover-attention`,
// `-cover-entropy`), `lqip.webp`; the aliases `@2x`/`@3x`, `.jpeg` and
// presets (`avatar.webp`) each name one canonical recipe.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "imageattachfs/image_path.h"
#include "imageattachfs/result.h"
#include "imageattachfs/schema.h"

namespace iafs {

// kNotFound for a name outside the grammar: "'NAME': why".
Error name_not_found(std::string_view name, std::string_view why);

// The largest side of a box recipe: keys store a box's sides in 16 bits each.
inline constexpr uint32_t kMaxBoxSide = 65535;

// A recipe without its extension ("300", "x200", "300x200",
// "96x96-cover", "300x300-cover-entropy"); sizes canonical decimal >= 1.
// `format` is left as is. nullopt for anything else ("lqip" included).
std::optional<ThumbnailSpec> parse_recipe(std::string_view text);

// The canonical recipe text ("300x300-cover", "lqip").
std::string recipe_text(const ThumbnailSpec& spec);

// The canonical file name of a thumbnail ("300.jpg", "x200.png", "lqip.webp").
std::string thumbnail_name(const ThumbnailSpec& spec);

// The canonical recipe a name in thumb/ stands for: a recipe or one of
// `presets`, optionally with `@2x` or `@3x` (every side multiplied), then
// `.` and a thumbnail extension (`jpeg` for jpg). Does not look at a policy
// beyond the presets. kNotFound (with the reason) for any other name.
Result<ThumbnailSpec> parse_thumbnail_name(std::string_view name,
                                           std::span<const Preset> presets);

}  // namespace iafs
