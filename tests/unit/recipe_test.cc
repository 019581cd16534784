// Thumbnail recipes: names and aliases (imageattachfs/recipe.h), their keys
// (store/keys.h), their plans (image/image.h) and their schema settings.
#include <criterion/criterion.h>

#include <string>
#include <vector>

#include "config/schema_parser.h"
#include "image/image.h"
#include "imageattachfs/recipe.h"
#include "store/keys.h"

using namespace iafs;

namespace {

ThumbnailSpec spec(ThumbFit fit, uint32_t w, uint32_t h, ImageFormat f = ImageFormat::kJpeg) {
  return ThumbnailSpec{fit, w, h, f};
}

const std::vector<Preset> kPresets = {{"avatar", spec(ThumbFit::kCover, 96, 96)},
                                      {"hero", spec(ThumbFit::kWidth, 1200, 0)}};

ThumbnailSpec named(const std::string& name) {
  auto parsed = parse_thumbnail_name(name, kPresets);
  cr_assert(parsed.ok(), "%s: %s", name.c_str(), parsed.ok() ? "" : parsed.error().message.c_str());
  return *parsed;
}

Schema schema_of(const std::string& text) {
  auto parsed = parse_schema(text, "t.conf");
  cr_assert(parsed.ok(), "%s", parsed.ok() ? "" : parsed.error().message.c_str());
  return *parsed;
}

std::string schema_error(const std::string& text) {
  auto parsed = parse_schema(text, "t.conf");
  cr_assert_not(parsed.ok(), "parsed: %s", text.c_str());
  return parsed.error().message;
}

Dimensions size_of(uint32_t w, uint32_t h, const ThumbnailSpec& s, Enlarge e = Enlarge::kNo) {
  auto plan = plan_thumbnail(w, h, s, e, std::nullopt);
  cr_assert(plan.has_value(), "%s of %ux%u", thumbnail_name(s).c_str(), w, h);
  return plan->size;
}

}  // namespace

Test(recipe, names_parse_to_their_canonical_recipe_and_back) {
  struct Case {
    const char* name;
    ThumbnailSpec spec;
  };
  const Case cases[] = {
      {"300.jpg", spec(ThumbFit::kWidth, 300, 0)},
      {"x200.png", spec(ThumbFit::kHeight, 0, 200, ImageFormat::kPng)},
      {"300x200.webp", spec(ThumbFit::kBox, 300, 200, ImageFormat::kWebp)},
      {"300x300-cover.jpg", spec(ThumbFit::kCover, 300, 300)},
      {"300x300-cover-attention.webp", spec(ThumbFit::kCoverAttention, 300, 300, ImageFormat::kWebp)},
      {"64x32-cover-entropy.avif", spec(ThumbFit::kCoverEntropy, 64, 32, ImageFormat::kAvif)},
      {"lqip.webp", spec(ThumbFit::kLqip, 0, 0, ImageFormat::kWebp)},
  };
  for (const Case& c : cases) {
    cr_assert(named(c.name) == c.spec, "%s", c.name);
    cr_assert_eq(thumbnail_name(c.spec), c.name);
  }
}

Test(recipe, aliases_name_the_canonical_recipe) {
  cr_assert(named("300@2x.jpg") == named("600.jpg"));
  cr_assert(named("x100@3x.png") == named("x300.png"));
  cr_assert(named("300x200@2x.webp") == named("600x400.webp"));
  cr_assert(named("300x300-cover@2x.jpg") == named("600x600-cover.jpg"));
  cr_assert(named("300.jpeg") == named("300.jpg"));
  cr_assert(named("avatar.webp") == named("96x96-cover.webp"));
  cr_assert(named("avatar@2x.webp") == named("192x192-cover.webp"));
  cr_assert(named("hero.jpg") == named("1200.jpg"));
  cr_assert_eq(thumbnail_name(named("avatar@2x.jpeg")), "192x192-cover.jpg");
}

Test(recipe, other_names_are_not_found) {
  for (const char* name :
       {"0.jpg", "x0.jpg", "0x10.jpg", "10x0.jpg", "300x.jpg", "x300x200.jpg", "300x200x1.jpg",
        "300-cover.jpg", "x300-cover.jpg", "300x300-COVER.jpg", "300x300-cover-smart.jpg",
        "300x300-fill.jpg", "300@1x.jpg", "300@4x.jpg", "300@2x@2x.jpg", "@2x.jpg", "lqip.jpg",
        "lqip@2x.webp", "avatar", "nosuch.webp", "300.heic", "300.bmp", "300.JPG", "65536x1.jpg",
        "40000x40000@2x.jpg", "2147483648@2x.jpg", "0300.jpg", "300x0200.jpg", " 300.jpg",
        "300.jpg.", ".jpg", "300..jpg"}) {
    auto parsed = parse_thumbnail_name(name, kPresets);
    cr_assert_not(parsed.ok(), "%s parsed", name);
    cr_assert_eq(parsed.error().code, ErrorCode::kNotFound, "%s", name);
  }
}

Test(recipe, keys_keep_every_recipe_apart_and_decode_to_it) {
  ImageSetKey set{"posts", EntityId{true, 1, "1"}, "photos", 0};
  std::vector<ThumbnailSpec> specs = {
      spec(ThumbFit::kWidth, 300, 0),       spec(ThumbFit::kHeight, 0, 300),
      spec(ThumbFit::kBox, 300, 300),       spec(ThumbFit::kCover, 300, 300),
      spec(ThumbFit::kCoverAttention, 300, 300), spec(ThumbFit::kCoverEntropy, 300, 300),
      spec(ThumbFit::kBox, 65535, 1),       spec(ThumbFit::kBox, 1, 65535),
      spec(ThumbFit::kLqip, 0, 0, ImageFormat::kWebp), spec(ThumbFit::kWidth, 4000000000u, 0)};
  std::vector<Key> keys;
  for (const ThumbnailSpec& s : specs) {
    Key key = thumbnail_key(set, s);
    auto back = decode_thumbnail_spec(key);
    cr_assert(back.has_value() && *back == s, "%s", thumbnail_name(s).c_str());
    auto owner = decode_set_key(key, true);
    cr_assert(owner.has_value() && *owner == set);
    for (const Key& other : keys) cr_assert(other != key);
    keys.push_back(key);
  }
  // A width key is as stores before recipes wrote it: fit 0, the width, the format.
  Key width = thumbnail_key(set, spec(ThumbFit::kWidth, 300, 0));
  std::vector<uint8_t> tail(width.end() - 6, width.end());
  cr_assert(tail == (std::vector<uint8_t>{0, 0, 0, 1, 44, uint8_t(ImageFormat::kJpeg)}));
  Key bad = width;
  bad[bad.size() - 6] = 7;  // no such fit
  cr_assert_not(decode_thumbnail_spec(bad).has_value());
}

Test(plan, a_box_fits_inside_with_the_other_side_floored) {
  cr_assert(size_of(2560, 1600, spec(ThumbFit::kBox, 300, 200)) == (Dimensions{300, 187}));
  cr_assert(size_of(1600, 2560, spec(ThumbFit::kBox, 300, 200)) == (Dimensions{125, 200}));
  cr_assert(size_of(300, 200, spec(ThumbFit::kBox, 300, 200)) == (Dimensions{300, 200}));
  // The larger that fits once floored: 300 x floor(200.2) = 200 fits, so not 299 x 200.
  cr_assert(size_of(640, 427, spec(ThumbFit::kBox, 300, 200)) == (Dimensions{300, 200}));
  cr_assert(size_of(427, 640, spec(ThumbFit::kBox, 200, 300)) == (Dimensions{200, 300}));
  cr_assert(size_of(10000, 10, spec(ThumbFit::kBox, 50, 50)) == (Dimensions{50, 1}));
  cr_assert(size_of(7, 5000, spec(ThumbFit::kBox, 50, 50)) == (Dimensions{1, 50}));
  // Many originals and boxes: inside the box, one side the box's, in proportion.
  for (uint32_t w : {1u, 2u, 3u, 17u, 640u, 1001u, 4096u}) {
    for (uint32_t h : {1u, 5u, 480u, 999u, 3000u}) {
      for (auto [bw, bh] : {std::pair{1u, 1u}, {100u, 100u}, {300u, 200u}, {7u, 900u}}) {
        auto plan = plan_thumbnail(w, h, spec(ThumbFit::kBox, bw, bh), Enlarge::kClamp, {});
        cr_assert(plan.has_value());
        Dimensions d = plan->size;
        cr_assert(d.width <= std::max(bw, std::min(w, bw)) && d.height <= std::max(bh, 1u));
        cr_assert(d.width == bw || d.height == bh || (d.width == w && d.height == h),
                  "%ux%u in %ux%u: %ux%u", w, h, bw, bh, d.width, d.height);
        cr_assert(plan->crop == Crop::kNone);
      }
    }
  }
}

Test(plan, a_cover_is_exactly_the_box_from_a_covering_scale) {
  auto plan = plan_thumbnail(2560, 1600, spec(ThumbFit::kCover, 300, 300), Enlarge::kNo, {});
  cr_assert(plan.has_value());
  cr_assert(plan->size == (Dimensions{300, 300}));
  cr_assert(plan->scaled == (Dimensions{480, 300}));
  cr_assert(plan->crop == Crop::kFocus);
  cr_assert(plan->focus == FocalPoint{});  // the centre
  plan = plan_thumbnail(1000, 3001, spec(ThumbFit::kCover, 100, 200), Enlarge::kNo,
                        FocalPoint{350000, 200000});
  cr_assert(plan->scaled == (Dimensions{100, 301}));  // 300.1 rounded up: covers
  cr_assert(plan->focus == (FocalPoint{350000, 200000}));
  plan = plan_thumbnail(640, 480, spec(ThumbFit::kCoverAttention, 64, 64), Enlarge::kNo,
                        FocalPoint{0, 0});
  cr_assert(plan->crop == Crop::kAttention);
  cr_assert(plan->scaled == (Dimensions{86, 64}));
}

Test(plan, enlarge_clamps_to_the_original_or_refuses) {
  cr_assert_not(plan_thumbnail(1200, 800, spec(ThumbFit::kWidth, 1600, 0), Enlarge::kNo, {}));
  cr_assert(size_of(1200, 800, spec(ThumbFit::kWidth, 1600, 0), Enlarge::kClamp) ==
            (Dimensions{1200, 800}));
  cr_assert(size_of(1200, 800, spec(ThumbFit::kHeight, 0, 801), Enlarge::kClamp) ==
            (Dimensions{1200, 800}));
  cr_assert(size_of(1200, 800, spec(ThumbFit::kBox, 3000, 2000), Enlarge::kClamp) ==
            (Dimensions{1200, 800}));
  cr_assert_not(plan_thumbnail(1200, 800, spec(ThumbFit::kBox, 3000, 2000), Enlarge::kNo, {}));
  // A cover larger than the original: the box's proportions, unscaled.
  auto plan = plan_thumbnail(1200, 800, spec(ThumbFit::kCover, 1000, 1000), Enlarge::kClamp, {});
  cr_assert(plan->size == (Dimensions{800, 800}));
  cr_assert(plan->scaled == (Dimensions{1200, 800}));
  plan = plan_thumbnail(1200, 800, spec(ThumbFit::kCover, 3000, 1000), Enlarge::kClamp, {});
  cr_assert(plan->size == (Dimensions{1200, 400}));
  cr_assert_not(plan_thumbnail(1200, 800, spec(ThumbFit::kCover, 1000, 1000), Enlarge::kNo, {}));
  // The preview's longer side is always 32.
  cr_assert(size_of(640, 480, spec(ThumbFit::kLqip, 0, 0)) == (Dimensions{32, 24}));
  cr_assert(size_of(10, 20, spec(ThumbFit::kLqip, 0, 0)) == (Dimensions{16, 32}));
}

Test(schema, recipe_settings_parse) {
  Schema schema = schema_of(
      "[a.b]\n"
      "thumbnail_widths = 100 200\n"
      "thumbnail_heights = 50\n"
      "thumbnail_boxes = 300x200, 96x96\n"
      "thumbnail_formats = webp jpeg\n"
      "quality = 70\n"
      "quality.webp = 60\n"
      "enlarge = no\n"
      "eager = 100.webp avatar.jpg lqip.webp\n"  // a preset named further down
      "preset.avatar = 48x48-cover\n");
  const ThumbnailPolicy& p = schema.types[0].attachments[0].thumbnails;
  cr_assert(p.enlarge == Enlarge::kNo);
  cr_assert_eq(p.quality_for(ImageFormat::kWebp), 60);
  cr_assert_eq(p.quality_for(ImageFormat::kJpeg), 70);
  cr_assert_eq(p.eager.size(), 3u);
  cr_assert(p.eager[1] == spec(ThumbFit::kCover, 48, 48));
  cr_assert(p.allows(spec(ThumbFit::kBox, 300, 200, ImageFormat::kWebp)));
  cr_assert(p.allows(spec(ThumbFit::kCoverEntropy, 96, 96, ImageFormat::kWebp)));
  cr_assert(p.allows(spec(ThumbFit::kCover, 48, 48)));  // the preset's box
  cr_assert_not(p.allows(spec(ThumbFit::kBox, 100, 50)));  // not listed
  cr_assert_not(p.allows(spec(ThumbFit::kWidth, 100, 0, ImageFormat::kPng)));  // format
  cr_assert_not(p.allows(spec(ThumbFit::kWidth, 300, 0)));
  // any: an allowed width by an allowed height.
  Schema any = schema_of("[a.b]\nthumbnail_widths = 100\nthumbnail_heights = 50\n");
  const ThumbnailPolicy& q = any.types[0].attachments[0].thumbnails;
  cr_assert(q.allows(spec(ThumbFit::kCover, 100, 50)));
  cr_assert_not(q.allows(spec(ThumbFit::kCover, 50, 100)));
  Schema none = schema_of("[a.b]\nthumbnail_boxes = none\n");
  cr_assert_not(none.types[0].attachments[0].thumbnails.allows(spec(ThumbFit::kBox, 1, 1)));
}

Test(schema, bad_recipe_settings_are_one_clear_error) {
  struct Case {
    const char* text;
    const char* says;
  };
  const Case cases[] = {
      {"[a.b]\nthumbnail_formats = jpg heic\n", "unknown format 'heic'"},
      {"[a.b]\nthumbnail_boxes = 300\n", "list of WxH"},
      {"[a.b]\nquality.bmp = 50\n", "quality.<ext>"},
      {"[a.b]\nquality.webp = 0\n", "from 1 to 100"},
      {"[a.b]\nenlarge = yes\n", "clamp or no"},
      {"[a.b]\npreset.x200 = 100\n", "bad preset name 'x200'"},
      {"[a.b]\npreset.lqip = 100\n", "bad preset name 'lqip'"},
      {"[a.b]\npreset.Avatar = 100\n", "bad preset name"},
      {"[a.b]\npreset.a = 100-fill\n", "expected a recipe"},
      {"[a.b]\npreset.a = 100\npreset.a = 200\n", "duplicate key 'preset.a'"},
      {"[a.b]\neager = nosuch.webp\n", "t.conf:2: bad eager"},
      {"[a.b]\nthumbnail_widths = 100\neager = 200.jpg\n", "not allowed"},
      {"[a.b]\neager =\n", "expected thumbnail names"},
  };
  for (const Case& c : cases) {
    std::string message = schema_error(c.text);
    cr_assert(message.find(c.says) != std::string::npos, "%s -> %s", c.text, message.c_str());
  }
}
