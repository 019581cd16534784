// The path grammar (DESIGN §1): src/path/path.h and imageattachfs/format.h.
#include "path/path.h"

#include <criterion/criterion.h>

#include <string>

#include "config/schema_parser.h"
#include "imageattachfs/format.h"
#include "paths.h"

using namespace iafs;

namespace {

// posts.photos (multiple, widths multiples of 100 up to 1000, heights 32/64,
// no heic) and users.picture (single, defaults).
const Schema& policy_schema() {
  static const Schema schema = [] {
    Result<Schema> parsed = parse_schema(
        "[posts.photos]\n"
        "multiple = true\n"
        "thumbnail_widths = 100-1000/100\n"
        "thumbnail_heights = 32, 64\n"
        "formats = jpg png webp gif avif\n"
        "[users.picture]\n",
        "test.conf");
    cr_assert(parsed.ok(), "%s", parsed.ok() ? "" : parsed.error().message.c_str());
    return parsed.value();
  }();
  return schema;
}

Result<ImagePath> parse(const std::string& path) { return parse_path(path, open_schema()); }

ImagePath parsed(const std::string& path) {
  Result<ImagePath> result = parse(path);
  cr_assert(result.ok(), "%s: %s", path.c_str(), result.ok() ? "" : result.error().message.c_str());
  return result.value();
}

void expect_not_found(const std::string& path, const Schema& schema = open_schema()) {
  Result<ImagePath> result = parse_path(path, schema);
  cr_assert_not(result.ok(), "%s parsed", path.c_str());
  cr_assert_eq(result.error().code, ErrorCode::kNotFound, "%s: %s", path.c_str(),
               result.error().message.c_str());
  cr_assert_not(result.error().message.empty());
}

ImageSetKey set_key(const std::string& type, const std::string& id, const std::string& attachment,
                    uint32_t index) {
  ImageSetKey key;
  key.type = type;
  key.id = parse_entity_id(id).value();
  key.attachment = attachment;
  key.index = index;
  return key;
}

}  // namespace

// Formats.

Test(format, maps_every_original_extension) {
  cr_assert(format_from_extension("jpg") == ImageFormat::kJpeg);
  cr_assert(format_from_extension("jpeg") == ImageFormat::kJpeg);
  cr_assert(format_from_extension("png") == ImageFormat::kPng);
  cr_assert(format_from_extension("webp") == ImageFormat::kWebp);
  cr_assert(format_from_extension("gif") == ImageFormat::kGif);
  cr_assert(format_from_extension("avif") == ImageFormat::kAvif);
  cr_assert(format_from_extension("heic") == ImageFormat::kHeif);
  cr_assert(format_from_extension("heif") == ImageFormat::kHeif);
}

Test(format, rejects_unknown_and_uppercase_extensions) {
  cr_assert_not(format_from_extension("JPG").has_value());
  cr_assert_not(format_from_extension("bmp").has_value());
  cr_assert_not(format_from_extension("").has_value());
  cr_assert_not(format_from_extension("jpg ").has_value());
}

Test(format, names_canonical_extensions_and_mime_types) {
  cr_assert(canonical_extension(ImageFormat::kJpeg) == "jpg");
  cr_assert(canonical_extension(ImageFormat::kHeif) == "heic");
  cr_assert(canonical_extension(ImageFormat::kAvif) == "avif");
  cr_assert(mime_type(ImageFormat::kJpeg) == "image/jpeg");
  cr_assert(mime_type(ImageFormat::kPng) == "image/png");
  cr_assert(mime_type(ImageFormat::kWebp) == "image/webp");
  cr_assert(mime_type(ImageFormat::kGif) == "image/gif");
  cr_assert(mime_type(ImageFormat::kAvif) == "image/avif");
  cr_assert(mime_type(ImageFormat::kHeif) == "image/heif");
}

Test(format, heif_is_not_a_thumbnail_format) {
  cr_assert(is_thumbnail_format(ImageFormat::kJpeg));
  cr_assert(is_thumbnail_format(ImageFormat::kPng));
  cr_assert(is_thumbnail_format(ImageFormat::kWebp));
  cr_assert(is_thumbnail_format(ImageFormat::kGif));
  cr_assert(is_thumbnail_format(ImageFormat::kAvif));
  cr_assert_not(is_thumbnail_format(ImageFormat::kHeif));
}

// Entity ids.

Test(entity_id, parses_canonical_decimal_as_integer) {
  EntityId id = parse_entity_id("42").value();
  cr_assert(id.is_integer);
  cr_assert_eq(id.number, 42u);
  cr_assert_eq(id.text, "42");
}

Test(entity_id, parses_zero_as_integer) {
  EntityId id = parse_entity_id("0").value();
  cr_assert(id.is_integer);
  cr_assert_eq(id.number, 0u);
}

Test(entity_id, treats_leading_zero_as_string_id) {
  EntityId id = parse_entity_id("007").value();
  cr_assert_not(id.is_integer);
  cr_assert_eq(id.text, "007");
  cr_assert_neq(id, parse_entity_id("7").value());
}

Test(entity_id, accepts_int64_max_as_integer) {
  EntityId id = parse_entity_id("9223372036854775807").value();
  cr_assert(id.is_integer);
  cr_assert_eq(id.number, 9223372036854775807ull);
}

Test(entity_id, treats_numbers_over_int64_max_as_string_ids) {
  EntityId id = parse_entity_id("9223372036854775808").value();
  cr_assert_not(id.is_integer);
  cr_assert_not(parse_entity_id("99999999999999999999999").value().is_integer);
}

Test(entity_id, accepts_string_ids_of_allowed_characters) {
  EntityId id = parse_entity_id("My_user-1.x").value();
  cr_assert_not(id.is_integer);
  cr_assert_eq(id.text, "My_user-1.x");
  cr_assert_not(parse_entity_id("-1").value().is_integer);
  cr_assert_not(parse_entity_id("+1").ok());
}

Test(entity_id, accepts_128_bytes_and_rejects_129) {
  cr_assert(parse_entity_id(std::string(128, 'a')).ok());
  Result<EntityId> long_id = parse_entity_id(std::string(129, 'a'));
  cr_assert_not(long_id.ok());
  cr_assert_eq(long_id.error().code, ErrorCode::kNotFound);
}

Test(entity_id, rejects_empty_dot_and_dotdot) {
  cr_assert_not(parse_entity_id("").ok());
  cr_assert_not(parse_entity_id(".").ok());
  cr_assert_not(parse_entity_id("..").ok());
  cr_assert(parse_entity_id("...").ok());
}

Test(entity_id, rejects_disallowed_characters) {
  for (const char* bad : {"a b", "a/b", "caf\xc3\xa9", "a~", "a:b", "a+b"}) {
    Result<EntityId> id = parse_entity_id(bad);
    cr_assert_not(id.ok(), "%s", bad);
    cr_assert_eq(id.error().code, ErrorCode::kNotFound);
  }
}

// Indexes.

Test(index, parses_zero_and_the_maximum) {
  cr_assert_eq(parse_index("0").value(), 0u);
  cr_assert_eq(parse_index("17").value(), 17u);
  cr_assert_eq(parse_index("4294967295").value(), 4294967295u);
}

Test(index, rejects_index_with_leading_zero) {
  cr_assert_not(parse_index("007").ok());
  cr_assert_not(parse_index("00").ok());
}

Test(index, rejects_signs_empty_and_non_digits) {
  for (const char* bad : {"-1", "+1", "", " 1", "1a", "x", "1.0"}) {
    Result<uint32_t> index = parse_index(bad);
    cr_assert_not(index.ok(), "'%s'", bad);
    cr_assert_eq(index.error().code, ErrorCode::kNotFound);
  }
}

Test(index, rejects_index_over_uint32) {
  cr_assert_not(parse_index("4294967296").ok());
  cr_assert_not(parse_index("99999999999999999999999").ok());
}

// Staging names.

Test(staging, recognizes_dot_prefix_and_tilde_suffix) {
  cr_assert(is_staging_name(".original.jpg.Xy12ab"));
  cr_assert(is_staging_name("original.jpg~"));
  cr_assert(is_staging_name(".x"));
  cr_assert(is_staging_name("~"));
}

Test(staging, excludes_dot_dotdot_and_plain_names) {
  cr_assert_not(is_staging_name("."));
  cr_assert_not(is_staging_name(".."));
  cr_assert_not(is_staging_name(""));
  cr_assert_not(is_staging_name("original.jpg"));
  cr_assert_not(is_staging_name("a~b"));
}

// Whole paths.

Test(parse, parses_root) {
  ImagePath root = parsed("/");
  cr_assert(root.kind == NodeKind::kRoot);
  cr_assert(root == ImagePath());
}

Test(parse, parses_type_and_entity) {
  ImagePath type = parsed("/posts");
  cr_assert(type.kind == NodeKind::kType);
  cr_assert_eq(type.set.type, "posts");
  ImagePath entity = parsed("/posts/42");
  cr_assert(entity.kind == NodeKind::kEntity);
  cr_assert(entity.set.id.is_integer);
  cr_assert_eq(entity.set.id.number, 42u);
  cr_assert(entity.set.attachment.empty());
}

Test(parse, parses_multiple_attachment_and_its_sets) {
  ImagePath attachment = parsed("/posts/42/photos");
  cr_assert(attachment.kind == NodeKind::kAttachment);
  cr_assert(attachment.multiple);
  ImagePath set = parsed("/posts/42/photos/3");
  cr_assert(set.kind == NodeKind::kImageSet);
  cr_assert(set.multiple);
  cr_assert_eq(set.set, set_key("posts", "42", "photos", 3));
}

Test(parse, parses_single_attachment_as_image_set) {
  ImagePath set = parsed("/users/7/picture");
  cr_assert(set.kind == NodeKind::kImageSet);
  cr_assert_not(set.multiple);
  cr_assert_eq(set.set, set_key("users", "7", "picture", 0));
}

Test(parse, parses_original_of_multiple_attachment) {
  ImagePath original = parsed("/posts/42/photos/0/original.jpg");
  cr_assert(original.kind == NodeKind::kOriginal);
  cr_assert_eq(original.original_ext, "jpg");
  cr_assert(original.original_format == ImageFormat::kJpeg);
  cr_assert_eq(original.set, set_key("posts", "42", "photos", 0));
}

Test(parse, keeps_original_extension_as_written) {
  ImagePath original = parsed("/users/7/picture/original.jpeg");
  cr_assert_eq(original.original_ext, "jpeg");
  cr_assert(original.original_format == ImageFormat::kJpeg);
  cr_assert_eq(parsed("/users/7/picture/original.heif").original_ext, "heif");
  cr_assert(parsed("/users/7/picture/original.heic").original_format == ImageFormat::kHeif);
}

Test(parse, accepts_every_original_extension) {
  for (const char* ext : {"jpg", "jpeg", "png", "webp", "gif", "avif", "heic", "heif"}) {
    ImagePath original = parsed(std::string("/posts/1/photos/0/original.") + ext);
    cr_assert(original.kind == NodeKind::kOriginal, "%s", ext);
  }
}

Test(parse, rejects_unknown_or_uppercase_original_extension) {
  expect_not_found("/posts/1/photos/0/original.bmp");
  expect_not_found("/posts/1/photos/0/original.JPG");
  expect_not_found("/posts/1/photos/0/original.");
  expect_not_found("/posts/1/photos/0/original");
  expect_not_found("/posts/1/photos/0/Original.jpg");
}

Test(parse, rejects_original_format_the_attachment_refuses) {
  expect_not_found("/posts/1/photos/0/original.heic", policy_schema());
  cr_assert(parse_path("/posts/1/photos/0/original.png", policy_schema()).ok());
}

Test(parse, parses_thumb_dir_and_thumbnails) {
  ImagePath dir = parsed("/posts/42/photos/0/thumb");
  cr_assert(dir.kind == NodeKind::kThumbDir);
  ImagePath width = parsed("/posts/42/photos/0/thumb/300.jpg");
  cr_assert(width.kind == NodeKind::kThumbnail);
  cr_assert(width.thumbnail.fit == ThumbFit::kWidth);
  cr_assert_eq(width.thumbnail.width, 300u);
  cr_assert(width.thumbnail.format == ImageFormat::kJpeg);
  ImagePath height = parsed("/users/7/picture/thumb/x200.webp");
  cr_assert(height.thumbnail.fit == ThumbFit::kHeight);
  cr_assert_eq(height.thumbnail.height, 200u);
  cr_assert(height.thumbnail.format == ImageFormat::kWebp);
}

Test(parse, accepts_every_thumbnail_extension) {
  for (const char* ext : {"jpg", "png", "webp", "gif", "avif"}) {
    ImagePath thumb = parsed(std::string("/posts/1/photos/0/thumb/64.") + ext);
    cr_assert(thumb.kind == NodeKind::kThumbnail, "%s", ext);
  }
}

Test(parse, rejects_thumbnail_extensions_that_are_not_outputs) {
  for (const char* name :
       {"64.heic", "64.heif", "64.bmp", "64.JPG", "64", "64.", "64.jpg.bak", "64.JPEG"}) {
    expect_not_found(std::string("/posts/1/photos/0/thumb/") + name);
  }
}

Test(parse, rejects_width_zero_and_non_canonical_sizes) {
  for (const char* name : {"0.jpg", "x0.jpg", "0300.jpg", "x0300.jpg", "-1.jpg", "+1.jpg",
                           "abc.jpg", "x.jpg", "X200.jpg", "xx200.jpg", "1e3.jpg"}) {
    expect_not_found(std::string("/posts/1/photos/0/thumb/") + name);
  }
}

Test(parse, rejects_thumbnail_over_default_policy) {
  cr_assert(parse("/posts/1/photos/0/thumb/4096.jpg").ok());
  expect_not_found("/posts/1/photos/0/thumb/4097.jpg");
  expect_not_found("/posts/1/photos/0/thumb/x4097.jpg");
  expect_not_found("/posts/1/photos/0/thumb/4294967296.jpg");
}

Test(parse, applies_width_step_policy) {
  cr_assert(parse_path("/posts/1/photos/0/thumb/300.jpg", policy_schema()).ok());
  cr_assert(parse_path("/posts/1/photos/0/thumb/1000.jpg", policy_schema()).ok());
  expect_not_found("/posts/1/photos/0/thumb/250.jpg", policy_schema());
  expect_not_found("/posts/1/photos/0/thumb/1100.jpg", policy_schema());
}

Test(parse, applies_height_list_policy) {
  cr_assert(parse_path("/posts/1/photos/0/thumb/x32.png", policy_schema()).ok());
  cr_assert(parse_path("/posts/1/photos/0/thumb/x64.png", policy_schema()).ok());
  expect_not_found("/posts/1/photos/0/thumb/x48.png", policy_schema());
  expect_not_found("/posts/1/photos/0/thumb/x100.png", policy_schema());
}

Test(parse, parses_staging_names_in_set_directories) {
  ImagePath dot = parsed("/posts/1/photos/0/.original.jpg.Xy12ab");
  cr_assert(dot.kind == NodeKind::kStaging);
  cr_assert_eq(dot.staging_name, ".original.jpg.Xy12ab");
  cr_assert_eq(dot.set, set_key("posts", "1", "photos", 0));
  ImagePath tilde = parsed("/users/7/picture/original.jpg~");
  cr_assert(tilde.kind == NodeKind::kStaging);
  cr_assert_eq(tilde.staging_name, "original.jpg~");
}

Test(parse, rejects_staging_names_outside_set_directories_and_thumb) {
  expect_not_found("/.hidden");
  expect_not_found("/posts/1/.x");
  expect_not_found("/posts/1/photos/.x");
}

Test(parse, parses_staging_names_in_thumb_as_its_scratch_files) {
  for (const char* name : {".300.jpg.Xy12ab", "300.jpg~", ".jpg"}) {
    std::string text = std::string("/posts/1/photos/0/thumb/") + name;
    auto path = parse(text);
    cr_assert(path.ok(), "%s", text.c_str());
    cr_assert(path->kind == NodeKind::kStaging);
    cr_assert(is_thumb_scratch(*path));
    cr_assert_eq(base_name(*path), name);
    cr_assert(parent_path(*path) == thumb_dir_path(path->set, true));
    cr_assert_eq(path_string(*path), text);
  }
  auto in_set = parse("/posts/1/photos/0/.300.jpg.Xy12ab");
  cr_assert(in_set.ok() && !is_thumb_scratch(*in_set));
  cr_assert(*in_set != *parse("/posts/1/photos/0/thumb/.300.jpg.Xy12ab"));
}

Test(parse, metadata_names_are_index_json_of_multiple_and_meta_json_of_sets) {
  ImagePath index = parsed("/posts/1/photos/index.json");
  cr_assert(index.kind == NodeKind::kIndexFile);
  cr_assert_eq(index.set, set_key("posts", "1", "photos", 0));
  cr_assert(index.multiple);
  cr_assert_eq(path_string(index), "/posts/1/photos/index.json");
  cr_assert(parent_path(index).kind == NodeKind::kAttachment);
  ImagePath meta = parsed("/posts/1/photos/3/meta.json");
  cr_assert(meta.kind == NodeKind::kMetaFile);
  cr_assert_eq(meta.set, set_key("posts", "1", "photos", 3));
  cr_assert_eq(path_string(parent_path(meta)), "/posts/1/photos/3");
  ImagePath single = parsed("/users/7/picture/meta.json");
  cr_assert(single.kind == NodeKind::kMetaFile);
  cr_assert(!single.multiple);
  cr_assert_eq(path_string(single), "/users/7/picture/meta.json");
  cr_assert(!index.is_directory() && !meta.is_directory());
  // Not elsewhere: a single attachment has no index.json, a set none.
  expect_not_found("/users/7/picture/index.json");
  expect_not_found("/posts/1/photos/0/index.json");
  expect_not_found("/posts/1/photos/meta.json");
  expect_not_found("/posts/1/photos/0/thumb/meta.json");
}

Test(parse, rejects_other_names_in_set_directory) {
  expect_not_found("/posts/1/photos/0/foo.jpg");
  expect_not_found("/posts/1/photos/0/thumbs");
  expect_not_found("/users/7/picture/0");
}

Test(parse, rejects_unknown_type_and_attachment) {
  expect_not_found("/pages");
  expect_not_found("/Posts");
  expect_not_found("/posts/1/picture");
  expect_not_found("/users/1/photos");
}

Test(parse, rejects_bad_ids_and_indexes) {
  expect_not_found("/posts/a b");
  expect_not_found("/posts/..");
  expect_not_found("/posts/" + std::string(129, '1'));
  expect_not_found("/posts/1/photos/007");
  expect_not_found("/posts/1/photos/-1");
  expect_not_found("/posts/1/photos/4294967296");
}

Test(parse, names_the_name_and_reason_in_errors) {
  Result<ImagePath> result = parse("/posts/1/photos/007");
  cr_assert_not(result.ok());
  cr_assert(result.error().message.find("'007'") != std::string::npos, "%s",
            result.error().message.c_str());
  cr_assert(result.error().message.find("index") != std::string::npos);
}

Test(parse, rejects_relative_and_empty_paths) {
  expect_not_found("posts/1");
  expect_not_found("");
}

Test(parse, rejects_empty_components) {
  expect_not_found("//");
  expect_not_found("/posts//1");
  expect_not_found("/posts/1//");
}

Test(parse, tolerates_one_trailing_slash_after_directory) {
  cr_assert_eq(parsed("/posts/"), parsed("/posts"));
  cr_assert_eq(parsed("/posts/42/photos/0/thumb/"), parsed("/posts/42/photos/0/thumb"));
}

Test(parse, rejects_trailing_slash_after_file) {
  Result<ImagePath> result = parse("/posts/42/photos/0/original.jpg/");
  cr_assert_not(result.ok());
  cr_assert_eq(result.error().code, ErrorCode::kNotDirectory);
}

Test(parse, rejects_components_below_files) {
  Result<ImagePath> below_original = parse("/posts/42/photos/0/original.jpg/x");
  cr_assert_eq(below_original.error().code, ErrorCode::kNotDirectory);
  Result<ImagePath> below_thumb = parse("/posts/42/photos/0/thumb/300.jpg/x");
  cr_assert_eq(below_thumb.error().code, ErrorCode::kNotDirectory);
  Result<ImagePath> below_staging = parse("/posts/42/photos/0/.tmp/x");
  cr_assert_eq(below_staging.error().code, ErrorCode::kNotDirectory);
}

Test(parse, is_case_sensitive) {
  expect_not_found("/posts/1/PHOTOS");
  expect_not_found("/posts/1/photos/0/THUMB");
  cr_assert_neq(parsed("/posts/Abc").set.id, parsed("/posts/abc").set.id);
}

// child_path.

Test(child, finds_children_step_by_step) {
  ImagePath path;
  for (const char* name : {"posts", "9", "photos", "2", "thumb", "x50.png"}) {
    Result<ImagePath> child = child_path(path, name, open_schema());
    cr_assert(child.ok(), "%s", name);
    path = child.value();
  }
  cr_assert_eq(path, parsed("/posts/9/photos/2/thumb/x50.png"));
}

Test(child, refuses_non_directory_parent) {
  for (const char* file : {"/posts/1/photos/0/original.jpg", "/posts/1/photos/0/thumb/64.jpg",
                           "/posts/1/photos/0/.staging"}) {
    Result<ImagePath> child = child_path(parsed(file), "x", open_schema());
    cr_assert_not(child.ok());
    cr_assert_eq(child.error().code, ErrorCode::kNotDirectory, "%s", file);
  }
}

Test(child, rejects_names_with_slash_or_nul) {
  ImagePath set = parsed("/posts/1/photos/0");
  cr_assert_eq(child_path(set, ".a/b", open_schema()).error().code, ErrorCode::kNotFound);
  cr_assert_eq(child_path(set, std::string_view(".a\0b", 4), open_schema()).error().code,
               ErrorCode::kNotFound);
  cr_assert_eq(child_path(set, "", open_schema()).error().code, ErrorCode::kNotFound);
}

Test(child, rejects_dot_and_dotdot) {
  for (const char* dir : {"/", "/posts", "/posts/1", "/posts/1/photos", "/posts/1/photos/0",
                          "/posts/1/photos/0/thumb"}) {
    cr_assert_not(child_path(parsed(dir), ".", open_schema()).ok(), "%s", dir);
    cr_assert_not(child_path(parsed(dir), "..", open_schema()).ok(), "%s", dir);
  }
}

// Printing and navigation.

Test(print, round_trips_every_kind) {
  for (const char* text :
       {"/", "/posts", "/posts/42", "/posts/007", "/posts/42/photos", "/posts/42/photos/0",
        "/posts/42/photos/4294967295", "/posts/42/photos/0/original.jpeg",
        "/posts/42/photos/0/thumb", "/posts/42/photos/0/thumb/300.webp",
        "/posts/42/photos/0/thumb/x200.png", "/posts/42/photos/0/.original.jpg.Xy12ab",
        "/users/7/picture", "/users/7/picture/original.png", "/users/7/picture/thumb",
        "/users/7/picture/thumb/64.png", "/users/a.b-c_d/picture/original.jpg~"}) {
    ImagePath path = parsed(text);
    cr_assert_eq(path_string(path), text);
    cr_assert_eq(parsed(path_string(path)), path, "%s", text);
  }
}

Test(print, names_base_names) {
  cr_assert_eq(base_name(ImagePath()), "/");
  cr_assert_eq(base_name(parsed("/posts")), "posts");
  cr_assert_eq(base_name(parsed("/posts/42")), "42");
  cr_assert_eq(base_name(parsed("/posts/42/photos")), "photos");
  cr_assert_eq(base_name(parsed("/posts/42/photos/0")), "0");
  cr_assert_eq(base_name(parsed("/users/7/picture")), "picture");
  cr_assert_eq(base_name(parsed("/posts/42/photos/0/original.jpeg")), "original.jpeg");
  cr_assert_eq(base_name(parsed("/posts/42/photos/0/thumb")), "thumb");
  cr_assert_eq(base_name(parsed("/posts/42/photos/0/thumb/x200.webp")), "x200.webp");
  cr_assert_eq(base_name(parsed("/posts/42/photos/0/~")), "~");
}

Test(print, finds_parents_equal_to_parsed_directories) {
  cr_assert_eq(parent_path(parsed("/posts")), parsed("/"));
  cr_assert_eq(parent_path(parsed("/posts/42")), parsed("/posts"));
  cr_assert_eq(parent_path(parsed("/posts/42/photos")), parsed("/posts/42"));
  cr_assert_eq(parent_path(parsed("/posts/42/photos/3")), parsed("/posts/42/photos"));
  cr_assert_eq(parent_path(parsed("/users/7/picture")), parsed("/users/7"));
  cr_assert_eq(parent_path(parsed("/users/7/picture/original.png")), parsed("/users/7/picture"));
  cr_assert_eq(parent_path(parsed("/posts/42/photos/3/thumb")), parsed("/posts/42/photos/3"));
  cr_assert_eq(parent_path(parsed("/posts/42/photos/3/thumb/64.jpg")),
               parsed("/posts/42/photos/3/thumb"));
  cr_assert_eq(parent_path(parsed("/posts/42/photos/3/.x")), parsed("/posts/42/photos/3"));
}

Test(print, names_thumbnails) {
  cr_assert_eq(thumbnail_name(ThumbnailSpec{ThumbFit::kWidth, 300, 0, ImageFormat::kJpeg}), "300.jpg");
  cr_assert_eq(thumbnail_name(ThumbnailSpec{ThumbFit::kHeight, 0, 200, ImageFormat::kPng}), "x200.png");
  cr_assert_eq(thumbnail_name(ThumbnailSpec{ThumbFit::kWidth, 1, 0, ImageFormat::kAvif}), "1.avif");
}

Test(build, builds_paths_equal_to_parsed_ones) {
  ImageSetKey multi = set_key("posts", "42", "photos", 3);
  ImageSetKey single = set_key("users", "7", "picture", 0);
  cr_assert_eq(image_set_path(multi, true), parsed("/posts/42/photos/3"));
  cr_assert_eq(image_set_path(single, false), parsed("/users/7/picture"));
  cr_assert_eq(original_path(multi, true, "jpeg"), parsed("/posts/42/photos/3/original.jpeg"));
  cr_assert_eq(original_path(single, false, "heic"), parsed("/users/7/picture/original.heic"));
  cr_assert_eq(thumb_dir_path(multi, true), parsed("/posts/42/photos/3/thumb"));
  cr_assert_eq(thumbnail_path(single, false, ThumbnailSpec{ThumbFit::kHeight, 0, 64, ImageFormat::kGif}),
               parsed("/users/7/picture/thumb/x64.gif"));
}

Test(build, ignores_index_of_single_attachment) {
  ImageSetKey single = set_key("users", "7", "picture", 5);
  ImagePath path = image_set_path(single, false);
  cr_assert_eq(path.set.index, 0u);
  cr_assert_eq(path_string(path), "/users/7/picture");
}

Test(child, a_name_over_255_bytes_is_name_too_long) {
  auto set = parse_path("/posts/1/photos/0", open_schema());
  cr_assert(set.ok());
  std::string name = "." + std::string(255, 'a');
  auto child = child_path(*set, name, open_schema());
  cr_assert(!child.ok());
  cr_expect_eq(child.error().code, ErrorCode::kNameTooLong);
  cr_expect(child_path(*set, name.substr(0, 255), open_schema()).ok(), "255 bytes are fine");
}

// The daemon's own names.

Test(path, the_root_holds_the_control_directory_and_it_holds_metrics) {
  ImagePath dir = parsed("/.imageattachfs");
  cr_assert(dir.kind == NodeKind::kControlDir);
  cr_assert(dir.is_directory());
  ImagePath metrics = parsed("/.imageattachfs/metrics");
  cr_assert(metrics.kind == NodeKind::kMetrics);
  cr_assert_not(metrics.is_directory());
  std::string text = path_string(metrics);
  cr_expect_str_eq(text.c_str(), "/.imageattachfs/metrics");
  cr_expect(parent_path(metrics) == dir);
  cr_expect(parent_path(dir) == ImagePath());
  cr_expect(parse_path(path_string(dir), open_schema()).value() == dir);
}

Test(path, other_dot_names_stay_outside_the_grammar) {
  expect_not_found("/.imageattachfs2");
  expect_not_found("/.Imageattachfs");
  expect_not_found("/.git");
  expect_not_found("/.imageattachfs/metrics2");
  expect_not_found("/.imageattachfs/.metrics");
  Result<ImagePath> under_file = parse("/.imageattachfs/metrics/x");
  cr_assert_not(under_file.ok());
  cr_expect_eq(under_file.error().code, ErrorCode::kNotDirectory);
  // Only at the root: elsewhere the name means what it meant before.
  cr_expect(parsed("/posts/.imageattachfs").kind == NodeKind::kEntity);
  cr_expect(parsed("/posts/1/photos/0/.imageattachfs").kind == NodeKind::kStaging);
}
