// user.image.focus as text (README "Focal point"): "x,y", each a decimal in
// [0, 1] of the oriented image, kept in millionths (FocalPoint).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "imageattachfs/image_path.h"

namespace iafs {

inline constexpr std::string_view kFocusAttribute = "user.image.focus";

// "0.35,0.2" → {350000, 200000}. Each side is "0" or "1", optionally followed
// by '.' and at least one digit; digits past the sixth decimal round to the
// nearest millionth (half up). Nothing else: no sign ("-0"), no spaces, no
// exponent, no ".5", nothing above 1. nullopt for anything refused.
std::optional<FocalPoint> parse_focus(std::string_view text);

// The text getfattr shows: up to six decimals, trailing zeros trimmed
// ("0.35,0.2", "0,1"). parse_focus(focus_text(f)) == f.
std::string focus_text(const FocalPoint& focus);

}  // namespace iafs
