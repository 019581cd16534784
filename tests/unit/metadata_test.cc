// Unit tests of the metadata files' JSON (attach/metadata.h) and of
// ImageSets::metadata_text over a real store, without mounting.
#include "attach/metadata.h"

#include <criterion/criterion.h>

#include <string>
#include <vector>

#include "attach/image_sets.h"
#include "config/schema_parser.h"
#include "path/path.h"
#include "paths.h"
#include "store/store_snapshot.h"
#include "temp_dirs.h"
#include "test_images.h"

using namespace iafs;

namespace {

const AttachmentSchema& photos() { return *open_schema().find_attachment("posts", "photos"); }

BlobId blob_of(uint8_t fill) {
  BlobId id;
  id.fill(fill);
  return id;
}

StoredSet stored(uint32_t index, uint8_t blob) {
  StoredSet set;
  set.key = ImageSetKey{"posts", EntityId{true, 42, "42"}, "photos", index};
  set.record.blob = blob_of(blob);
  set.record.size = 51234;
  set.record.format = ImageFormat::kJpeg;
  set.record.ext = "jpeg";
  set.record.width = 640;
  set.record.height = 427;
  set.record.mtime_ns = 1764606380123456789;  // 2025-12-01T16:26:20.123456789Z
  return set;
}

ThumbRecord thumb(uint8_t source, uint32_t width, uint32_t height, uint64_t size) {
  ThumbRecord record;
  record.source = blob_of(source);
  record.width = width;
  record.height = height;
  record.size = size;
  return record;
}

struct StoreFixture {
  std::string dir = test::temp_dir("metadata-test");
  std::unique_ptr<Store> store;
  std::unique_ptr<StagingArea> staging;
  std::unique_ptr<ImageSets> sets;

  StoreFixture() {
    test::ensure_vips();
    StoreOptions options;
    options.map_size = 1ull << 30;
    store = std::move(Store::open(dir, options)).value();
    staging = std::move(StagingArea::open(dir + "/staging")).value();
    sets = std::make_unique<ImageSets>(*store, open_schema(), *staging, 1);
  }

  void commit(const std::string& path, const std::vector<uint8_t>& bytes, int64_t mtime_ns) {
    auto outcome = sets->commit_original(at(path), bytes, mtime_ns);
    cr_assert(outcome.ok(), "commit %s: %s", path.c_str(),
              outcome ? "" : outcome.error().message.c_str());
  }

  std::string text(const std::string& path) {
    auto text = sets->metadata_text(at(path));
    cr_assert(text.ok(), "%s: %s", path.c_str(), text ? "" : text.error().message.c_str());
    return *text;
  }
};

}  // namespace

Test(metadata, meta_json_has_every_key_in_a_fixed_order) {
  StoredSet set = stored(3, 0xab);
  set.record.width = 100;  // a short srcset
  set.record.blurhash = "LEHV6nWB2yk8pyo0adR*.7kCMdnj";
  set.record.color = 0x0a0b0c;
  set.thumbnails.push_back(
      {ThumbnailSpec{ThumbFit::kWidth, 300, 0, ImageFormat::kJpeg}, thumb(0xab, 300, 200, 9876)});
  std::string srcset;
  for (const char* ext : {"jpg", "png", "webp", "gif", "avif"}) {
    if (!srcset.empty()) srcset += ",";
    srcset += std::string("\"") + ext + "\":\"";
    for (int w : {16, 32, 48, 64, 96}) {
      if (w > 16) srcset += ", ";
      srcset += "/posts/42/photos/3/thumb/" + std::to_string(w) + "." + ext + " " +
                std::to_string(w) + "w";
    }
    srcset += "\"";
  }
  std::string expected =
      "{\"index\":3,\"name\":\"original.jpeg\",\"width\":100,\"height\":427,"
      "\"mimetype\":\"image/jpeg\",\"bytes\":51234,\"sha256\":\"" +
      blob_id_hex(blob_of(0xab)) +
      "\",\"mtime\":\"2025-12-01T16:26:20.123456789Z\","
      "\"blurhash\":\"LEHV6nWB2yk8pyo0adR*.7kCMdnj\",\"color\":\"#0a0b0c\","
      "\"lqip\":\"/posts/42/photos/3/thumb/lqip.webp\",\"srcset\":{" + srcset + "},"
      "\"thumbnails\":"
      "[{\"name\":\"300.jpg\",\"width\":300,\"height\":200,\"bytes\":9876}]}\n";
  cr_assert_eq(meta_json(set_metadata(set, photos())), expected);
  // Records from before placeholders: no blurhash or color keys.
  set.record.blurhash.clear();
  set.record.color.reset();
  std::string json = meta_json(set_metadata(set, photos()));
  cr_assert_eq(json.find("blurhash"), std::string::npos);
  cr_assert_eq(json.find("color"), std::string::npos);
}

Test(metadata, index_json_lists_sets_in_the_order_given_each_as_its_meta_json) {
  std::vector<SetMetadata> sets = {set_metadata(stored(0, 1), photos()),
                                   set_metadata(stored(7, 2), photos())};
  std::string first = meta_json(sets[0]);
  std::string second = meta_json(sets[1]);
  first.pop_back();
  second.pop_back();
  cr_assert_eq(index_json(sets), "{\"sets\":[" + first + "," + second + "]}\n");
  cr_assert_eq(index_json({}), "{\"sets\":[]}\n");
}

Test(metadata, thumbnails_of_another_original_or_outside_the_policy_are_left_out) {
  StoredSet set = stored(0, 1);
  set.thumbnails.push_back({ThumbnailSpec{ThumbFit::kWidth, 64, 0, ImageFormat::kWebp}, thumb(1, 64, 42, 10)});
  set.thumbnails.push_back({ThumbnailSpec{ThumbFit::kWidth, 300, 0, ImageFormat::kJpeg}, thumb(9, 300, 200, 20)});
  set.thumbnails.push_back({ThumbnailSpec{ThumbFit::kWidth, 5000, 0, ImageFormat::kJpeg}, thumb(1, 1, 1, 30)});
  set.thumbnails.push_back({ThumbnailSpec{ThumbFit::kHeight, 0, 100, ImageFormat::kPng}, thumb(1, 149, 100, 40)});
  SetMetadata metadata = set_metadata(set, photos());
  cr_assert_eq(metadata.thumbnails.size(), 2);
  cr_assert_eq(metadata.thumbnails[0].name, "64.webp");
  cr_assert_eq(metadata.thumbnails[1].name, "x100.png");
  cr_assert_eq(metadata.thumbnails[1].width, 149);
  cr_assert_eq(metadata.thumbnails[1].bytes, 40);
}

Test(metadata, mtime_is_rfc3339_utc_with_nine_fraction_digits) {
  cr_assert_eq(rfc3339_ns(0), "1970-01-01T00:00:00.000000000Z");
  cr_assert_eq(rfc3339_ns(1), "1970-01-01T00:00:00.000000001Z");
  cr_assert_eq(rfc3339_ns(-1), "1969-12-31T23:59:59.999999999Z");
  cr_assert_eq(rfc3339_ns(1764606380123456789), "2025-12-01T16:26:20.123456789Z");
}

Test(metadata, strings_are_escaped) {
  SetMetadata set;
  set.name = "a\"b\\c\n";
  set.mimetype = std::string("x\x01y", 3);
  std::string text = meta_json(set);
  cr_assert(text.find("\"name\":\"a\\\"b\\\\c\\u000a\"") != std::string::npos, "%s", text.c_str());
  cr_assert(text.find("\"mimetype\":\"x\\u0001y\"") != std::string::npos, "%s", text.c_str());
}

Test(metadata, metadata_text_follows_commits_removals_and_moves) {
  StoreFixture f;
  f.commit("/posts/42/photos/5/original.jpg", test::make_image(40, 30, ".jpg"), 2000000000);
  f.commit("/posts/42/photos/1/original.png", test::make_image(20, 10, ".png"), 1000000000);
  std::string index = f.text("/posts/42/photos/index.json");
  cr_assert(index.starts_with("{\"sets\":[{\"index\":1,\"name\":\"original.png\",\"width\":20,"
                              "\"height\":10,\"mimetype\":\"image/png\""),
            "%s", index.c_str());
  cr_assert(index.find("{\"index\":5,\"name\":\"original.jpg\",\"width\":40") != std::string::npos);
  cr_assert(index.find("\"mtime\":\"1970-01-01T00:00:01.000000000Z\"") != std::string::npos);
  cr_assert_eq(f.text("/posts/42/photos/index.json"), index, "byte-stable");
  std::string meta = f.text("/posts/42/photos/5/meta.json");
  meta.pop_back();
  cr_assert(index.find(meta) != std::string::npos, "meta.json is the set's entry in index.json");

  cr_assert(f.sets->rename(at("/posts/42/photos/5"), at("/posts/42/photos/0"), false).ok());
  index = f.text("/posts/42/photos/index.json");
  cr_assert(index.starts_with("{\"sets\":[{\"index\":0,\"name\":\"original.jpg\""), "%s",
            index.c_str());
  cr_assert(f.sets->remove_original(at("/posts/42/photos/0/original.jpg")).ok());
  cr_assert(f.sets->metadata_text(at("/posts/42/photos/0/meta.json")).error().code ==
            ErrorCode::kNotFound);
  cr_assert(f.text("/posts/42/photos/index.json").starts_with("{\"sets\":[{\"index\":1,"));
  cr_assert(f.sets->remove_original(at("/posts/42/photos/1/original.png")).ok());
  cr_assert(f.sets->metadata_text(at("/posts/42/photos/index.json")).error().code ==
            ErrorCode::kNotFound);
}

Test(metadata, single_attachment_has_meta_json) {
  StoreFixture f;
  cr_assert(f.sets->metadata_text(at("/users/7/picture/meta.json")).error().code ==
            ErrorCode::kNotFound);
  f.commit("/users/7/picture/original.jpg", test::make_image(40, 30, ".jpg"), 0);
  std::string meta = f.text("/users/7/picture/meta.json");
  cr_assert(meta.starts_with("{\"index\":0,\"name\":\"original.jpg\",\"width\":40,\"height\":30,"),
            "%s", meta.c_str());
}

Test(metadata, store_snapshot_walks_every_set_in_key_order_and_reads_blobs) {
  StoreFixture f;
  std::vector<uint8_t> bytes = test::make_image(40, 30, ".jpg");
  f.commit("/posts/7/photos/2/original.jpg", bytes, 0);
  f.commit("/posts/abc/photos/0/original.jpg", bytes, 0);
  f.commit("/posts/42/photos/0/original.jpg", bytes, 0);
  f.commit("/users/7/picture/original.jpg", bytes, 0);
  auto snapshot = StoreSnapshot::open(f.dir);
  cr_assert(snapshot.ok());
  cr_assert_eq((*snapshot)->set_count(), 4);
  // Taken before this removal: the snapshot still holds it, bytes and all.
  cr_assert(f.sets->remove_original(at("/posts/42/photos/0/original.jpg")).ok());
  std::vector<std::string> seen;
  Status walked = (*snapshot)->for_each_set([&](StoredSet&& set) {
    seen.push_back(path_string(image_set_path(set.key, set.key.type == "posts")));
    std::vector<uint8_t> read;
    cr_assert((*snapshot)
                  ->read_blob(set.record.blob, set.record.size, 0, set.record.size,
                              [&](auto pieces) {
                                for (auto piece : pieces)
                                  read.insert(read.end(), piece.begin(), piece.end());
                              })
                  .ok());
    cr_assert(read == bytes);
    return true;
  });
  cr_assert(walked.ok());
  std::vector<std::string> expected = {"/posts/7/photos/2", "/posts/42/photos/0",
                                       "/posts/abc/photos/0", "/users/7/picture"};
  cr_assert(seen == expected);
}
