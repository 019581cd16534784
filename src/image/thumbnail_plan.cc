// plan_thumbnail: a recipe's exact output size and crop (no pixels here).
#include <algorithm>

#include "image/image.h"

namespace iafs {
namespace {

uint32_t floor_side(uint64_t a, uint64_t b, uint64_t c) {
  return static_cast<uint32_t>(std::max<uint64_t>(1, a * b / c));
}

uint32_t ceil_side(uint64_t a, uint64_t b, uint64_t c) {
  return static_cast<uint32_t>(std::max<uint64_t>(1, (a * b + c - 1) / c));
}

// Fits inside box_w x box_h: the larger of "the box's width, the height
// floored" and "the box's height, the width floored" that fits (at least one
// does: the one of the smaller scale).
std::optional<ThumbnailPlan> fit_inside(uint64_t w, uint64_t h, uint32_t box_w, uint32_t box_h,
                                        Enlarge enlarge) {
  uint32_t height_at_width = floor_side(h, box_w, w);
  uint32_t width_at_height = floor_side(w, box_h, h);
  bool width_fits = height_at_width <= box_h;
  bool height_fits = width_at_height <= box_w;
  bool by_width = width_fits && (!height_fits || uint64_t{box_w} * h >= uint64_t{box_h} * w);
  bool larger = by_width ? box_w > w : box_h > h;
  if (larger) {
    if (enlarge == Enlarge::kNo) return std::nullopt;
    return resize_plan({uint32_t(w), uint32_t(h)});
  }
  if (by_width) return resize_plan({box_w, height_at_width});
  return resize_plan({width_at_height, box_h});
}

std::optional<ThumbnailPlan> cover(uint64_t w, uint64_t h, const ThumbnailSpec& spec,
                                   Enlarge enlarge, const std::optional<FocalPoint>& focus) {
  ThumbnailPlan plan;
  plan.crop = spec.fit == ThumbFit::kCoverAttention ? Crop::kAttention
              : spec.fit == ThumbFit::kCoverEntropy ? Crop::kEntropy
                                                    : Crop::kFocus;
  if (plan.crop == Crop::kFocus && focus) plan.focus = *focus;
  uint64_t box_w = spec.width, box_h = spec.height;
  // The box is wider than the original's proportions: its width covers.
  bool width_covers = box_w * h >= box_h * w;
  bool larger = width_covers ? box_w > w : box_h > h;
  if (larger) {
    if (enlarge == Enlarge::kNo) return std::nullopt;
    plan.scaled = {uint32_t(w), uint32_t(h)};
    plan.size = width_covers ? Dimensions{uint32_t(w), floor_side(w, box_h, box_w)}
                             : Dimensions{floor_side(h, box_w, box_h), uint32_t(h)};
    return plan;
  }
  plan.size = {spec.width, spec.height};
  plan.scaled = width_covers ? Dimensions{spec.width, ceil_side(h, box_w, w)}
                             : Dimensions{ceil_side(w, box_h, h), spec.height};
  return plan;
}

}  // namespace

std::optional<ThumbnailPlan> plan_thumbnail(uint32_t width, uint32_t height,
                                            const ThumbnailSpec& spec, Enlarge enlarge,
                                            const std::optional<FocalPoint>& focus) {
  if (width == 0 || height == 0) return std::nullopt;
  uint64_t w = width, h = height;
  switch (spec.fit) {
    case ThumbFit::kWidth:
      if (spec.width == 0) return std::nullopt;
      if (spec.width > w) {
        if (enlarge == Enlarge::kNo) return std::nullopt;
        return resize_plan({width, height});
      }
      return resize_plan({spec.width, floor_side(h, spec.width, w)});
    case ThumbFit::kHeight:
      if (spec.height == 0) return std::nullopt;
      if (spec.height > h) {
        if (enlarge == Enlarge::kNo) return std::nullopt;
        return resize_plan({width, height});
      }
      return resize_plan({floor_side(w, spec.height, h), spec.height});
    case ThumbFit::kBox:
      if (spec.width == 0 || spec.height == 0) return std::nullopt;
      return fit_inside(w, h, spec.width, spec.height, enlarge);
    case ThumbFit::kLqip:
      if (w >= h) return resize_plan({kLqipSide, floor_side(h, kLqipSide, w)});
      return resize_plan({floor_side(w, kLqipSide, h), kLqipSide});
    case ThumbFit::kCover:
    case ThumbFit::kCoverAttention:
    case ThumbFit::kCoverEntropy:
      if (spec.width == 0 || spec.height == 0) return std::nullopt;
      return cover(w, h, spec, enlarge, focus);
  }
  return std::nullopt;
}

}  // namespace iafs
