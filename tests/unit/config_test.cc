// The schema (imageattachfs/schema.h, config/schema_parser.h) and the mount
// options (config/mount_options.h).
#include <criterion/criterion.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/mount_options.h"
#include "config/schema_parser.h"

using namespace iafs;

namespace {

Schema parsed(const std::string& text) {
  Result<Schema> result = parse_schema(text, "test.conf");
  cr_assert(result.ok(), "%s", result.ok() ? "" : result.error().message.c_str());
  return result.value();
}

// Asserts that `text` is refused with a message starting "test.conf:LINE: "
// and containing `words`.
void expect_schema_error(const std::string& text, int line, const std::string& words) {
  Result<Schema> result = parse_schema(text, "test.conf");
  cr_assert_not(result.ok(), "parsed: %s", text.c_str());
  cr_assert_eq(result.error().code, ErrorCode::kInvalid);
  const std::string& message = result.error().message;
  std::string prefix = "test.conf:" + std::to_string(line) + ": ";
  cr_assert_eq(message.rfind(prefix, 0), 0u, "'%s' does not start with '%s'", message.c_str(),
               prefix.c_str());
  cr_assert(message.find(words) != std::string::npos, "'%s' lacks '%s'", message.c_str(),
            words.c_str());
}

AttachmentSchema only_attachment(const Schema& schema) {
  cr_assert_eq(schema.types.size(), 1u);
  cr_assert_eq(schema.types[0].attachments.size(), 1u);
  return schema.types[0].attachments[0];
}

const std::vector<ImageFormat> kAllFormats = {ImageFormat::kJpeg, ImageFormat::kPng,
                                              ImageFormat::kWebp, ImageFormat::kGif,
                                              ImageFormat::kAvif, ImageFormat::kHeif};

Result<MountOptions> parse_args(std::vector<const char*> args) {
  args.insert(args.begin(), "imageattachfs");
  return parse_mount_options(static_cast<int>(args.size()), args.data());
}

MountOptions args_ok(std::vector<const char*> args) {
  Result<MountOptions> result = parse_args(std::move(args));
  cr_assert(result.ok(), "%s", result.ok() ? "" : result.error().message.c_str());
  return result.value();
}

void expect_args_error(std::vector<const char*> args, const std::string& message) {
  Result<MountOptions> result = parse_args(std::move(args));
  cr_assert_not(result.ok());
  cr_assert_eq(result.error().code, ErrorCode::kInvalid);
  cr_assert_eq(result.error().message, message);
}

}  // namespace

// SizePolicy and OriginalLimits.

Test(policy, allows_any_size_up_to_max) {
  SizePolicy policy;
  cr_assert(policy.allows(1));
  cr_assert(policy.allows(4096));
  cr_assert_not(policy.allows(0));
  cr_assert_not(policy.allows(4097));
}

Test(policy, allows_only_listed_sizes) {
  SizePolicy policy{512, {64, 128, 512}, 0};
  cr_assert(policy.allows(64));
  cr_assert(policy.allows(512));
  cr_assert_not(policy.allows(100));
}

Test(policy, allows_only_multiples_of_step) {
  SizePolicy policy{1000, {}, 100};
  cr_assert(policy.allows(100));
  cr_assert(policy.allows(1000));
  cr_assert_not(policy.allows(150));
  cr_assert_not(policy.allows(1100));
}

Test(policy, accepts_listed_formats_and_all_when_empty) {
  OriginalLimits limits;
  cr_assert(limits.accepts(ImageFormat::kHeif));
  limits.formats = {ImageFormat::kPng};
  cr_assert(limits.accepts(ImageFormat::kPng));
  cr_assert_not(limits.accepts(ImageFormat::kJpeg));
}

Test(policy, finds_types_and_attachments) {
  const Schema& schema = default_schema();
  cr_assert_not_null(schema.find_type("posts"));
  cr_assert_null(schema.find_type("pages"));
  cr_assert_not_null(schema.find_attachment("users", "picture"));
  cr_assert_null(schema.find_attachment("users", "photos"));
  cr_assert_null(schema.find_attachment("nobody", "picture"));
  cr_assert_eq(schema.find_type("posts")->find_attachment("photos")->name, "photos");
}

// The default schema.

Test(default_schema, declares_posts_photos_and_users_picture) {
  const Schema& schema = default_schema();
  cr_assert_eq(schema.types.size(), 2u);
  cr_assert_eq(schema.types[0].name, "posts");
  cr_assert_eq(schema.types[1].name, "users");
  cr_assert(schema.find_attachment("posts", "photos")->multiple);
  cr_assert_not(schema.find_attachment("users", "picture")->multiple);
}

Test(default_schema, is_closed_with_the_common_responsive_sizes) {
  const std::vector<uint32_t> next_js = {16,  32,  48,   64,   96,   128,  256,  384,
                                         640, 750, 828, 1080, 1200, 1920, 2048, 3840};
  for (const TypeSchema& type : default_schema().types) {
    for (const AttachmentSchema& attachment : type.attachments) {
      const ThumbnailPolicy& policy = attachment.thumbnails;
      cr_assert_leq(policy.widths.sizes.size(), 32u);
      cr_assert_geq(policy.widths.sizes.size(), 16u);
      cr_assert(policy.widths.allows(300));
      for (uint32_t width : next_js) cr_assert(policy.widths.allows(width), "%u", width);
      cr_assert_not(policy.widths.allows(301));
      cr_assert_not(policy.widths.allows(4000));
      cr_assert_not(policy.heights.sizes.empty());
      cr_assert(policy.boxes.kind == BoxPolicy::Kind::kList);
      cr_assert(policy.formats == (std::vector<ImageFormat>{ImageFormat::kJpeg, ImageFormat::kWebp,
                                                            ImageFormat::kAvif, ImageFormat::kPng}));
      cr_assert(policy.enlarge == Enlarge::kClamp);
      cr_assert_eq(policy.quality, 85);
      cr_assert_eq(policy.quality_for(ImageFormat::kWebp), 80);
      cr_assert_eq(policy.quality_for(ImageFormat::kAvif), 60);
      cr_assert_eq(policy.quality_for(ImageFormat::kJpeg), 85);
      cr_assert_eq(policy.presets.front().name, "avatar");
      cr_assert(attachment.originals.formats == kAllFormats);
      cr_assert_eq(attachment.originals.max_bytes, 100000000u);
      cr_assert_eq(attachment.originals.max_pixels, 50000000u);
    }
  }
  // A schema that does not say: open, as before.
  auto open = parse_schema("[a.b]\n", "t.conf");
  cr_assert(open.ok());
  const ThumbnailPolicy& policy = open->types[0].attachments[0].thumbnails;
  cr_assert_eq(policy.widths.max, 4096u);
  cr_assert(policy.widths.sizes.empty());
  cr_assert(policy.boxes.kind == BoxPolicy::Kind::kAny);
  cr_assert(policy.formats.empty());
  cr_assert(policy.enlarge == Enlarge::kClamp);
}

Test(default_schema, is_the_compiled_in_text) {
  cr_assert(default_schema_text().find("[posts.photos]") != std::string_view::npos);
  cr_assert_eq(&default_schema(), &default_schema());
}

// Parsing: accepted forms.

Test(schema, applies_defaults_to_empty_section) {
  AttachmentSchema a = only_attachment(parsed("[users.picture]\n"));
  cr_assert_eq(a.name, "picture");
  cr_assert_not(a.multiple);
  cr_assert_eq(a.thumbnails.widths.max, 4096u);
  cr_assert_eq(a.thumbnails.quality, 85);
  cr_assert(a.originals.formats == kAllFormats);
  cr_assert_eq(a.originals.max_bytes, 100000000u);
  cr_assert_eq(a.originals.max_pixels, 50000000u);
}

Test(schema, keeps_types_and_attachments_in_file_order) {
  Schema schema = parsed("[zebra.b]\n[apple.x]\n[zebra.a]\n");
  cr_assert_eq(schema.types.size(), 2u);
  cr_assert_eq(schema.types[0].name, "zebra");
  cr_assert_eq(schema.types[1].name, "apple");
  cr_assert_eq(schema.types[0].attachments.size(), 2u);
  cr_assert_eq(schema.types[0].attachments[0].name, "b");
  cr_assert_eq(schema.types[0].attachments[1].name, "a");
}

Test(schema, parses_multiple) {
  Schema schema = parsed("[a.x]\nmultiple = true\n[a.y]\nmultiple = false\n");
  cr_assert(schema.find_attachment("a", "x")->multiple);
  cr_assert_not(schema.find_attachment("a", "y")->multiple);
}

Test(schema, parses_size_range) {
  AttachmentSchema a = only_attachment(parsed("[a.x]\nthumbnail_widths = 1-2048\n"));
  cr_assert_eq(a.thumbnails.widths.max, 2048u);
  cr_assert(a.thumbnails.widths.sizes.empty());
  cr_assert_eq(a.thumbnails.widths.step, 0u);
  cr_assert_eq(a.thumbnails.heights.max, 4096u);
}

Test(schema, parses_size_step) {
  AttachmentSchema a = only_attachment(parsed("[a.x]\nthumbnail_heights = 100 - 2000 / 100\n"));
  cr_assert_eq(a.thumbnails.heights.max, 2000u);
  cr_assert_eq(a.thumbnails.heights.step, 100u);
  cr_assert(a.thumbnails.heights.allows(300));
  cr_assert_not(a.thumbnails.heights.allows(350));
}

Test(schema, parses_size_list_sorted_and_deduplicated) {
  AttachmentSchema a = only_attachment(parsed("[a.x]\nthumbnail_widths = 512, 64 128,64\n"));
  std::vector<uint32_t> expected = {64, 128, 512};
  cr_assert(a.thumbnails.widths.sizes == expected);
  cr_assert_eq(a.thumbnails.widths.max, 512u);
}

Test(schema, parses_quality) {
  cr_assert_eq(only_attachment(parsed("[a.x]\nquality = 1\n")).thumbnails.quality, 1);
  cr_assert_eq(only_attachment(parsed("[a.x]\nquality = 100\n")).thumbnails.quality, 100);
}

Test(schema, parses_formats_with_aliases) {
  AttachmentSchema a = only_attachment(parsed("[a.x]\nformats = jpeg, jpg png heif\n"));
  std::vector<ImageFormat> expected = {ImageFormat::kJpeg, ImageFormat::kPng, ImageFormat::kHeif};
  cr_assert(a.originals.formats == expected);
}

Test(schema, parses_limits_with_decimal_suffixes) {
  AttachmentSchema a = only_attachment(parsed("[a.x]\nmax_bytes = 5K\nmax_pixels = 2G\n"));
  cr_assert_eq(a.originals.max_bytes, 5000u);
  cr_assert_eq(a.originals.max_pixels, 2000000000u);
  cr_assert_eq(only_attachment(parsed("[a.x]\nmax_bytes = 123\n")).originals.max_bytes, 123u);
  cr_assert_eq(only_attachment(parsed("[a.x]\nmax_bytes = 1T\n")).originals.max_bytes,
               1000000000000u);
}

Test(schema, ignores_comments_blank_lines_and_crlf) {
  Schema schema = parsed(
      "# a comment\n\n   \n[a.x]   # trailing comment\r\n  quality=70 # why\r\n\tmultiple = "
      "true\n");
  AttachmentSchema a = only_attachment(schema);
  cr_assert_eq(a.thumbnails.quality, 70);
  cr_assert(a.multiple);
}

Test(schema, accepts_names_of_64_characters) {
  std::string name = "a" + std::string(63, '_');
  Schema schema = parsed("[" + name + ".b9]\n");
  cr_assert_eq(schema.types[0].name, name);
}

// Parsing: errors, each with FILE:LINE.

Test(schema_errors, rejects_file_without_types) {
  expect_schema_error("", 1, "no types");
  expect_schema_error("# only a comment\n\n", 2, "no types");
}

Test(schema_errors, rejects_unknown_key) {
  expect_schema_error("[a.x]\ncolour = red\n", 2, "unknown key 'colour'");
}

Test(schema_errors, rejects_key_outside_section) {
  expect_schema_error("quality = 80\n[a.x]\n", 1, "outside");
}

Test(schema_errors, rejects_duplicate_section) {
  expect_schema_error("[a.x]\n[b.y]\n[a.x]\n", 3, "duplicate section [a.x] (first at line 1)");
}

Test(schema_errors, rejects_duplicate_key) {
  expect_schema_error("[a.x]\nquality = 80\nquality = 90\n", 3, "duplicate key 'quality'");
}

Test(schema_errors, rejects_section_without_attachment) {
  expect_schema_error("[posts]\n", 1, "[type.attachment]");
}

Test(schema_errors, rejects_malformed_section_header) {
  expect_schema_error("[a.x\n", 1, "[type.attachment]");
  expect_schema_error("[a.x] junk\n", 1, "[type.attachment]");
}

Test(schema_errors, rejects_bad_names) {
  for (const char* section : {"[Posts.x]", "[posts.Photos]", "[1posts.x]", "[_a.x]", "[a-b.x]",
                              "[a.]", "[.x]", "[a.b.c]", "[a b.x]"}) {
    expect_schema_error(std::string("[ok.x]\n") + section + "\n", 2, "bad name");
  }
  expect_schema_error("[" + std::string(65, 'a') + ".x]\n", 1, "bad name");
}

Test(schema_errors, rejects_line_without_equals) {
  expect_schema_error("[a.x]\nmultiple\n", 2, "expected key = value");
}

Test(schema_errors, rejects_bad_bool) {
  expect_schema_error("[a.x]\nmultiple = yes\n", 2, "bad multiple 'yes'");
  expect_schema_error("[a.x]\nmultiple =\n", 2, "bad multiple ''");
}

Test(schema_errors, rejects_bad_size_policies) {
  for (const char* value :
       {"", "0", "abc", "0-100", "5-100", "1-", "-100", "100-50/50", "100-2000/0", "100-2000/50",
        "64,0", "64,x", "1-4294967296", "50-10/50"}) {
    expect_schema_error(std::string("[a.x]\nthumbnail_widths = ") + value + "\n", 2,
                        "bad thumbnail_widths");
  }
}

Test(schema_errors, rejects_bad_quality) {
  for (const char* value : {"0", "101", "-5", "high", "85%", ""}) {
    expect_schema_error(std::string("[a.x]\n\nquality = ") + value + "\n", 3, "bad quality");
  }
}

Test(schema_errors, rejects_bad_formats) {
  expect_schema_error("[a.x]\nformats = jpg bmp\n", 2, "unknown format 'bmp'");
  expect_schema_error("[a.x]\nformats = JPG\n", 2, "unknown format 'JPG'");
  expect_schema_error("[a.x]\nformats =\n", 2, "bad formats");
}

Test(schema_errors, rejects_bad_limits) {
  for (const char* value : {"0", "100MB", "1.5M", "M", "-1", "100m", "99999999999999999999"}) {
    expect_schema_error(std::string("[a.x]\nmax_bytes = ") + value + "\n", 2, "bad max_bytes");
  }
  expect_schema_error("[a.x]\nmax_pixels = 20000000T\n", 2, "bad max_pixels");
}

// Loading files.

Test(load, loads_a_schema_file) {
  char path[] = "/tmp/iafs-schema-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  std::string text = "[shops.logo]\nquality = 90\n";
  cr_assert_eq(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  Result<Schema> schema = load_schema(path);
  unlink(path);
  cr_assert(schema.ok());
  cr_assert_eq(schema->find_attachment("shops", "logo")->thumbnails.quality, 90);
}

Test(load, names_the_file_in_parse_errors) {
  char path[] = "/tmp/iafs-schema-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  std::string text = "[a.x]\nbogus = 1\n";
  cr_assert_eq(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  Result<Schema> schema = load_schema(path);
  unlink(path);
  cr_assert_not(schema.ok());
  cr_assert_eq(schema.error().code, ErrorCode::kInvalid);
  cr_assert_eq(schema.error().message, std::string(path) + ":2: unknown key 'bogus'");
}

Test(load, reports_missing_file_as_not_found) {
  Result<Schema> schema = load_schema("/nonexistent/schema.conf");
  cr_assert_not(schema.ok());
  cr_assert_eq(schema.error().code, ErrorCode::kNotFound);
  cr_assert_eq(schema.error().message, "/nonexistent/schema.conf: No such file or directory");
}

Test(load, reports_directory_as_not_found) {
  Result<Schema> schema = load_schema("/tmp");
  cr_assert_not(schema.ok());
  cr_assert_eq(schema.error().code, ErrorCode::kNotFound);
  cr_assert_eq(schema.error().message, "/tmp: Is a directory");
}

// Mount options.

Test(options, parses_store_and_mountpoint) {
  MountOptions options = args_ok({"/srv/store", "/mnt/images"});
  cr_assert_eq(options.store_dir, "/srv/store");
  cr_assert_eq(options.mountpoint, "/mnt/images");
  cr_assert(options.schema_path.empty());
  cr_assert_eq(options.map_size, 1ull << 40);
  cr_assert_not(options.nometasync);
  cr_assert_eq(options.max_threads, 64u);
  cr_assert_eq(options.thumb_threads, 0u);
  cr_assert_not(options.foreground);
  cr_assert(options.fuse_options.empty());
}

Test(options, makes_store_dir_absolute) {
  char cwd[4096];
  cr_assert_not_null(getcwd(cwd, sizeof cwd));
  std::string base = std::string(cwd) == "/" ? "" : cwd;
  cr_assert_eq(args_ok({"store", "mnt"}).store_dir, base + "/store");
  cr_assert_eq(args_ok({"./a/b/", "mnt"}).store_dir, base + "/a/b");
  cr_assert_eq(args_ok({"/srv//store/", "mnt"}).store_dir, "/srv/store");
  // Absolute: the daemon unmounts it at exit, after the kernel stopped
  // resolving names in it (a relative "mnt" then fails with ENOENT).
  cr_assert_eq(args_ok({"store", "mnt"}).mountpoint,
               std::filesystem::current_path().string() + "/mnt");
}

Test(options, parses_schema_option) {
  cr_assert_eq(args_ok({"-o", "schema=/etc/s.conf", "s", "m"}).schema_path, "/etc/s.conf");
}

Test(options, parses_mapsize_option) {
  cr_assert_eq(args_ok({"-o", "mapsize=512G", "s", "m"}).map_size, 512ull * 1000 * 1000 * 1000);
  cr_assert_eq(args_ok({"-o", "mapsize=512Gi", "s", "m"}).map_size, 512ull << 30);
  cr_assert_eq(args_ok({"-o", "mapsize=1M", "s", "m"}).map_size, 1000000u);
}

Test(options, rejects_bad_mapsize) {
  expect_args_error({"-o", "mapsize=abc", "s", "m"},
                    "bad mapsize 'abc': expected a size like 512G or 1Ti");
  expect_args_error({"-o", "mapsize=2g", "s", "m"},
                    "bad mapsize '2g': expected a size like 512G or 1Ti");
  expect_args_error({"-o", "mapsize=999K", "s", "m"}, "bad mapsize '999K': must be at least 1M");
  expect_args_error({"-o", "mapsize", "s", "m"}, "option mapsize needs a value: mapsize=...");
}

Test(options, parses_thumb_budget) {
  cr_assert_eq(args_ok({"s", "m"}).thumb_budget, 0u, "no budget by default");
  cr_assert_eq(args_ok({"-o", "thumb_budget=20G", "s", "m"}).thumb_budget, 20000000000u);
  cr_assert_eq(args_ok({"-o", "thumb_budget=512Mi", "s", "m"}).thumb_budget, 512ull << 20);
  cr_assert_eq(args_ok({"-o", "thumb_budget=1", "s", "m"}).thumb_budget, 1u);
  expect_args_error({"-o", "thumb_budget=0", "s", "m"},
                    "bad thumb_budget '0': expected a size like 20G or 512Mi, at least 1");
  expect_args_error({"-o", "thumb_budget=2g", "s", "m"},
                    "bad thumb_budget '2g': expected a size like 20G or 512Mi, at least 1");
  expect_args_error({"-o", "thumb_budget", "s", "m"},
                    "option thumb_budget needs a value: thumb_budget=...");
}

Test(options, parses_nometasync) {
  cr_assert(args_ok({"-o", "nometasync", "s", "m"}).nometasync);
  expect_args_error({"-o", "nometasync=1", "s", "m"}, "option nometasync takes no value");
}

Test(options, parses_thread_counts) {
  MountOptions options = args_ok({"-o", "max_threads=1024,thumb_threads=256", "s", "m"});
  cr_assert_eq(options.max_threads, 1024u);
  cr_assert_eq(options.thumb_threads, 256u);
  cr_assert_eq(args_ok({"-o", "max_threads=1", "s", "m"}).max_threads, 1u);
  cr_assert_eq(args_ok({"-o", "thumb_threads=1", "s", "m"}).thumb_threads, 1u);
}

Test(options, rejects_thread_counts_out_of_range) {
  expect_args_error({"-o", "max_threads=0", "s", "m"},
                    "bad max_threads '0': expected a number from 1 to 1024");
  expect_args_error({"-o", "max_threads=1025", "s", "m"},
                    "bad max_threads '1025': expected a number from 1 to 1024");
  expect_args_error({"-o", "thumb_threads=257", "s", "m"},
                    "bad thumb_threads '257': expected a number from 1 to 256");
  expect_args_error({"-o", "thumb_threads=x", "s", "m"},
                    "bad thumb_threads 'x': expected a number from 1 to 256");
}

Test(options, passes_other_options_to_fuse) {
  MountOptions options = args_ok(
      {"-o", "allow_other,schema=/s.conf,default_permissions", "-o", "ro,fsname=x=y", "s", "m"});
  std::vector<std::string> expected = {"allow_other", "default_permissions", "ro", "fsname=x=y"};
  cr_assert(options.fuse_options == expected);
  cr_assert_eq(options.schema_path, "/s.conf");
}

Test(options, accepts_options_after_positionals) {
  MountOptions options = args_ok({"/store", "/mnt", "-o", "rw,allow_other,mapsize=2Gi"});
  cr_assert_eq(options.store_dir, "/store");
  cr_assert_eq(options.mountpoint, "/mnt");
  cr_assert_eq(options.map_size, 2ull << 30);
  std::vector<std::string> expected = {"rw", "allow_other", "default_permissions"};
  cr_assert(options.fuse_options == expected);
}

Test(options, ro_makes_the_daemon_read_only_and_the_last_of_ro_rw_wins) {
  cr_assert_not(args_ok({"s", "m"}).read_only);
  MountOptions options = args_ok({"-o", "ro", "s", "m"});
  cr_assert(options.read_only);
  cr_assert(options.fuse_options == std::vector<std::string>{"ro"});
  cr_assert_not(args_ok({"-o", "ro,rw", "s", "m"}).read_only);
  cr_assert(args_ok({"-o", "rw", "-o", "ro", "s", "m"}).read_only);
  cr_assert_not(args_ok({"-o", "roo", "s", "m"}).read_only);
}

Test(options, accepts_attached_o_argument_and_empty_items) {
  MountOptions options = args_ok({"-oro,,nometasync,", "s", "m"});
  cr_assert(options.nometasync);
  cr_assert_eq(options.fuse_options.size(), 1u);
}

Test(options, parses_flags) {
  MountOptions options = args_ok({"-f", "-s", "s", "m"});
  cr_assert(options.foreground);
  cr_assert(options.single_thread);
  cr_assert_not(options.debug);
}

Test(options, debug_implies_foreground) {
  MountOptions options = args_ok({"s", "m", "-d"});
  cr_assert(options.debug);
  cr_assert(options.foreground);
}

Test(options, help_and_version_need_no_positionals) {
  cr_assert(args_ok({"-h"}).show_help);
  cr_assert(args_ok({"--help"}).show_help);
  cr_assert(args_ok({"-V"}).show_version);
  cr_assert(args_ok({"--version"}).show_version);
}

Test(options, rejects_missing_positionals) {
  expect_args_error({}, "missing STORE_DIR and MOUNTPOINT");
  expect_args_error({"/store"}, "missing MOUNTPOINT");
  expect_args_error({"-o", "ro", "/store"}, "missing MOUNTPOINT");
  expect_args_error({"", "/mnt"}, "empty STORE_DIR");
}

Test(options, rejects_too_many_arguments) {
  expect_args_error({"a", "b", "c"}, "too many arguments: 'c'");
}

Test(options, rejects_unknown_option) {
  expect_args_error({"-x", "s", "m"}, "unknown option -x");
  expect_args_error({"--foreground", "s", "m"}, "unknown option --foreground");
}

Test(options, rejects_missing_o_argument) {
  expect_args_error({"s", "m", "-o"}, "missing argument to -o");
}

Test(options, rejects_our_options_without_value) {
  expect_args_error({"-o", "schema=", "s", "m"}, "option schema needs a value: schema=...");
  expect_args_error({"-o", "max_threads", "s", "m"},
                    "option max_threads needs a value: max_threads=...");
}

Test(options, treats_arguments_after_double_dash_as_positional) {
  MountOptions options = args_ok({"--", "/-store", "-mnt"});
  cr_assert_eq(options.store_dir, "/-store");
  cr_assert_eq(options.mountpoint, std::filesystem::current_path().string() + "/-mnt");
}

Test(options, usage_lists_every_option) {
  std::string usage = usage_text("imageattachfs");
  cr_assert_eq(usage.rfind("usage: imageattachfs", 0), 0u);
  for (const char* option :
       {"-o OPTIONS", "-f", "-d", "-s", "-h, --help", "-V, --version", "schema=PATH",
        "mapsize=SIZE", "nometasync", "max_threads=N", "thumb_threads=N", "allow_other"}) {
    cr_assert(usage.find(option) != std::string::npos, "%s", option);
  }
}

Test(options, allow_other_brings_default_permissions_unless_told_not_to) {
  std::vector<std::string> checked = {"allow_other", "default_permissions"};
  cr_expect(args_ok({"-o", "allow_other", "s", "m"}).fuse_options == checked);
  cr_expect(args_ok({"-o", "allow_other,default_permissions", "s", "m"}).fuse_options == checked);
  std::vector<std::string> unchecked = {"allow_other"};
  cr_expect(args_ok({"-o", "allow_other,no_default_permissions", "s", "m"}).fuse_options ==
            unchecked);
  cr_expect(args_ok({"s", "m"}).fuse_options.empty());
}

Test(options, parses_owner_group_and_umask) {
  MountOptions options = args_ok({"-o", "uid=33,gid=1000,umask=027", "s", "m"});
  cr_expect_eq(options.uid.value(), 33u);
  cr_expect_eq(options.gid.value(), 1000u);
  cr_expect_eq(options.umask, 027u);
  cr_expect(!args_ok({"s", "m"}).uid.has_value());
  cr_expect_eq(args_ok({"s", "m"}).umask, 022u);
  expect_args_error({"-o", "umask=8", "s", "m"}, "bad umask '8': expected octal, like 022");
  expect_args_error({"-o", "uid=-1", "s", "m"}, "bad uid '-1'");
}

Test(options, a_serve_mount_inside_the_mountpoint_or_around_it_is_refused) {
  expect_args_error({"-o", "serve=/mnt/images", "/s", "/mnt/images"},
                    "serve=/mnt/images is the MOUNTPOINT itself");
  expect_args_error({"-o", "serve=/mnt/images/posts", "/s", "/mnt/images"},
                    "serve=/mnt/images/posts and MOUNTPOINT must not lie one inside the other");
  expect_args_error({"-o", "serve=/mnt", "/s", "/mnt/images"},
                    "serve=/mnt and MOUNTPOINT must not lie one inside the other");
  expect_args_error({"-o", "serve=/mnt/images/../images/x", "/s", "/mnt/images"},
                    "serve=/mnt/images/x and MOUNTPOINT must not lie one inside the other");
  cr_assert_eq(args_ok({"-o", "serve=/mnt/images-www", "/s", "/mnt/images"}).serve_point,
               "/mnt/images-www");
}
