// Fuzzes the path grammar (src/path) against the default schema. The input is
// a path: parse_path sees it whole, and child_path sees its '/'-separated
// names one at a time, from the root. Every accepted path must print back to
// itself, and its name and parent must be the ones it was built from.
#include "path/path.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/schema_parser.h"
#include "fuzz_check.h"

namespace {

using iafs::ErrorCode;
using iafs::ImagePath;
using iafs::NodeKind;
using iafs::Result;

// Paths rebuilt from a node's image set by the constructors of path.h.
void check_constructors(const ImagePath& path) {
  const iafs::ImageSetKey& set = path.set;
  switch (path.kind) {
    case NodeKind::kImageSet:
      FUZZ_CHECK(iafs::image_set_path(set, path.multiple) == path);
      break;
    case NodeKind::kOriginal:
      FUZZ_CHECK(iafs::original_path(set, path.multiple, path.original_ext) == path);
      break;
    case NodeKind::kThumbDir:
      FUZZ_CHECK(iafs::thumb_dir_path(set, path.multiple) == path);
      break;
    case NodeKind::kThumbnail:
      FUZZ_CHECK(iafs::thumbnail_path(set, path.multiple, path.thumbnail) == path);
      FUZZ_CHECK(iafs::thumbnail_name(path.thumbnail) == iafs::base_name(path));
      break;
    default:
      break;
  }
}

// Invariants of a path that parse_path or child_path accepted.
void check_accepted(const ImagePath& path, const iafs::Schema& schema) {
  std::string text = iafs::path_string(path);
  FUZZ_CHECK(text.starts_with('/'));
  Result<ImagePath> reparsed = iafs::parse_path(text, schema);
  FUZZ_CHECK(reparsed.ok() && reparsed.value() == path);
  Result<ImagePath> with_slash = iafs::parse_path(text + "/", schema);
  if (path.kind == NodeKind::kRoot) {
    FUZZ_CHECK(!with_slash.ok());  // "//" is an empty component
  } else if (path.is_directory()) {
    FUZZ_CHECK(with_slash.ok() && with_slash.value() == path);
  } else {
    FUZZ_CHECK(!with_slash.ok() && with_slash.error().code == ErrorCode::kNotDirectory);
  }
  if (path.kind == NodeKind::kRoot) return;
  ImagePath parent = iafs::parent_path(path);
  FUZZ_CHECK(parent.is_directory());
  Result<ImagePath> again = iafs::child_path(parent, iafs::base_name(path), schema);
  FUZZ_CHECK(again.ok() && again.value() == path);
  std::string parent_text = iafs::path_string(parent);
  FUZZ_CHECK(text == (parent_text == "/" ? "" : parent_text) + "/" + iafs::base_name(path));
  check_constructors(path);
}

// Walks `input`'s names with child_path; returns the node reached, or the
// error of the first name refused.
Result<ImagePath> walk(std::string_view input, const iafs::Schema& schema) {
  ImagePath current;
  std::string_view rest = input.substr(1);
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view name = rest.substr(0, slash);
    Result<ImagePath> child = iafs::child_path(current, name, schema);
    if (!child) return child.error();
    FUZZ_CHECK(iafs::parent_path(child.value()) == current);
    // A name is its node's own, except a thumbnail alias (300@2x.jpg,
    // 300.jpeg, a preset), which names its canonical recipe: that name
    // leads back to the same node.
    if (iafs::base_name(child.value()) != name) {
      FUZZ_CHECK(child->kind == NodeKind::kThumbnail);
      auto canonical = iafs::child_path(current, iafs::base_name(child.value()), schema);
      FUZZ_CHECK(canonical.ok() && canonical.value() == child.value());
    }
    FUZZ_CHECK(child->kind != NodeKind::kStaging || iafs::is_staging_name(name));
    check_accepted(child.value(), schema);
    current = std::move(child).value();
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return current;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const iafs::Schema& schema = iafs::default_schema();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Result<ImagePath> parsed = iafs::parse_path(input, schema);
  if (parsed) check_accepted(parsed.value(), schema);
  FUZZ_CHECK(parsed.ok() || parsed.error().code == ErrorCode::kNotFound ||
             parsed.error().code == ErrorCode::kNotDirectory ||
             parsed.error().code == ErrorCode::kNameTooLong);
  // ENAMETOOLONG names a name of over 255 bytes, and only then.
  if (!parsed && parsed.error().code == ErrorCode::kNameTooLong) {
    bool long_name = false;
    for (size_t at = 0; at < input.size();) {
      size_t slash = std::min(input.find('/', at), input.size());
      long_name = long_name || slash - at > 255;
      at = slash + 1;
    }
    FUZZ_CHECK(long_name);
  }
  if (!input.starts_with('/')) {
    FUZZ_CHECK(!parsed.ok());
    return 0;
  }
  // Without a trailing slash or an empty component, parse_path is the walk.
  bool plain =
      input.size() > 1 && !input.ends_with('/') && input.find("//") == std::string_view::npos;
  Result<ImagePath> walked = walk(input, schema);
  if (plain) {
    FUZZ_CHECK(walked.ok() == parsed.ok());
    if (walked) FUZZ_CHECK(walked.value() == parsed.value());
    // A path is its node's text, except one ending in a thumbnail alias
    // (x32.jpeg, 300@2x.jpg), whose text ends in the canonical name instead
    // and parses back to the same node.
    if (parsed && iafs::path_string(parsed.value()) != input) {
      FUZZ_CHECK(parsed->kind == NodeKind::kThumbnail);
      Result<ImagePath> canonical = iafs::parse_path(iafs::path_string(parsed.value()), schema);
      FUZZ_CHECK(canonical.ok() && canonical.value() == parsed.value());
    }
  }
  // Ids and indexes parse only from their canonical text.
  std::string_view last = input.substr(input.rfind('/') + 1);
  Result<uint32_t> index = iafs::parse_index(last);
  if (index) FUZZ_CHECK(std::to_string(index.value()) == last);
  Result<iafs::EntityId> id = iafs::parse_entity_id(last);
  if (id) {
    FUZZ_CHECK(id->text == last);
    FUZZ_CHECK(!id->is_integer || std::to_string(id->number) == last);
  }
  return 0;
}
