// Fuzzes the schema parser (src/config/schema_parser.cc). An accepted schema
// must hold only what the format allows (names, ranges, lists), and the path
// grammar must find every type and attachment it declares; a refused one must
// say "FILE:LINE: problem".
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/schema_parser.h"
#include "fuzz_check.h"
#include "path/path.h"

namespace {

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

void check_size_policy(const iafs::SizePolicy& policy) {
  FUZZ_CHECK(policy.max >= 1);
  if (!policy.sizes.empty()) {
    FUZZ_CHECK(policy.step == 0);
    FUZZ_CHECK(std::is_sorted(policy.sizes.begin(), policy.sizes.end()));
    FUZZ_CHECK(std::adjacent_find(policy.sizes.begin(), policy.sizes.end()) == policy.sizes.end());
    FUZZ_CHECK(policy.sizes.front() >= 1 && policy.sizes.back() == policy.max);
    FUZZ_CHECK(policy.allows(policy.sizes.front()) && policy.allows(policy.max));
  } else if (policy.step != 0) {
    FUZZ_CHECK(policy.step >= 2 && policy.step <= policy.max);
    FUZZ_CHECK(policy.allows(policy.step) && !policy.allows(policy.step - 1));
  } else {
    FUZZ_CHECK(policy.allows(1) && policy.allows(policy.max));
  }
  FUZZ_CHECK(!policy.allows(0));
  FUZZ_CHECK(policy.max == UINT32_MAX || !policy.allows(policy.max + 1));
}

void check_attachment(const iafs::AttachmentSchema& attachment) {
  FUZZ_CHECK(is_valid_name(attachment.name));
  check_size_policy(attachment.thumbnails.widths);
  check_size_policy(attachment.thumbnails.heights);
  FUZZ_CHECK(attachment.thumbnails.quality >= 1 && attachment.thumbnails.quality <= 100);
  const iafs::OriginalLimits& limits = attachment.originals;
  FUZZ_CHECK(!limits.formats.empty());
  for (size_t i = 0; i < limits.formats.size(); ++i) {
    FUZZ_CHECK(std::count(limits.formats.begin(), limits.formats.end(), limits.formats[i]) == 1);
  }
  FUZZ_CHECK(limits.max_bytes >= 1 && limits.max_pixels >= 1);
}

// The path grammar sees each declared attachment, and its originals by format.
void check_paths(const iafs::Schema& schema, const iafs::TypeSchema& type,
                 const iafs::AttachmentSchema& attachment) {
  std::string set = "/" + type.name + "/1/" + attachment.name + (attachment.multiple ? "/0" : "");
  iafs::Result<iafs::ImagePath> path = iafs::parse_path(set, schema);
  FUZZ_CHECK(path.ok() && path->kind == iafs::NodeKind::kImageSet);
  FUZZ_CHECK(path->multiple == attachment.multiple);
  for (std::string_view ext : {"jpg", "png", "webp", "gif", "avif", "heic"}) {
    iafs::Result<iafs::ImagePath> original =
        iafs::parse_path(set + "/original." + std::string(ext), schema);
    FUZZ_CHECK(original.ok() == attachment.originals.accepts(*iafs::format_from_extension(ext)));
  }
}

void check_schema(const iafs::Schema& schema) {
  FUZZ_CHECK(!schema.types.empty());
  for (const iafs::TypeSchema& type : schema.types) {
    FUZZ_CHECK(is_valid_name(type.name));
    FUZZ_CHECK(schema.find_type(type.name) == &type);
    FUZZ_CHECK(!type.attachments.empty());
    for (const iafs::AttachmentSchema& attachment : type.attachments) {
      FUZZ_CHECK(schema.find_attachment(type.name, attachment.name) == &attachment);
      check_attachment(attachment);
      check_paths(schema, type, attachment);
    }
  }
}

// "fuzz:LINE: problem", LINE from 1 to the number of lines.
void check_error(const iafs::Error& error, std::string_view text) {
  FUZZ_CHECK(error.code == iafs::ErrorCode::kInvalid);
  std::string_view message = error.message;
  FUZZ_CHECK(message.starts_with("fuzz:"));
  message.remove_prefix(5);
  size_t colon = message.find(": ");
  FUZZ_CHECK(colon != std::string_view::npos && colon >= 1 && colon <= 10);
  uint64_t line = 0;
  for (char c : message.substr(0, colon)) {
    FUZZ_CHECK(c >= '0' && c <= '9');
    line = line * 10 + static_cast<uint64_t>(c - '0');
  }
  uint64_t lines = std::count(text.begin(), text.end(), '\n') + 1;
  FUZZ_CHECK(line >= 1 && line <= lines);
  FUZZ_CHECK(message.size() > colon + 2);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  iafs::Result<iafs::Schema> schema = iafs::parse_schema(text, "fuzz");
  if (schema) {
    check_schema(schema.value());
  } else {
    check_error(schema.error(), text);
  }
  return 0;
}
