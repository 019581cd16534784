#include "config/schema_parser.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/numbers.h"
#include "config/recipe_settings.h"
#include "config/setting_text.h"

namespace iafs {
namespace {

using namespace setting_text;

constexpr size_t kMaxNameBytes = 64;

// A type or attachment name: 1-64 of [a-z0-9_], starting with a letter.
bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  if (name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

Result<bool> parse_bool(std::string_view key, std::string_view value) {
  if (value == "true") return true;
  if (value == "false") return false;
  return bad_value(key, value, "expected true or false");
}

// "1-N" (any up to N), "S-N/S" (multiples of S up to N) or "A,B,C" (a list).
Result<SizePolicy> parse_size_policy(std::string_view key, std::string_view value) {
  SizePolicy policy;
  size_t dash = value.find('-');
  if (dash == std::string_view::npos) {
    std::vector<std::string_view> items = split_list(value);
    if (items.empty()) return bad_value(key, value, "expected 1-N, S-N/S or a list of sizes");
    for (std::string_view item : items) {
      std::optional<uint64_t> size = parse_number(item, UINT32_MAX, false);
      if (!size || *size == 0) return bad_value(key, value, "sizes are numbers of pixels >= 1");
      policy.sizes.push_back(static_cast<uint32_t>(*size));
    }
    std::sort(policy.sizes.begin(), policy.sizes.end());
    policy.sizes.erase(std::unique(policy.sizes.begin(), policy.sizes.end()), policy.sizes.end());
    policy.max = policy.sizes.back();
    return policy;
  }
  std::string_view rest = value.substr(dash + 1);
  size_t slash = rest.find('/');
  std::optional<uint64_t> low = parse_number(trim(value.substr(0, dash)), UINT32_MAX, false);
  std::optional<uint64_t> high = parse_number(trim(rest.substr(0, slash)), UINT32_MAX, false);
  std::optional<uint64_t> step = uint64_t{1};
  if (slash != std::string_view::npos)
    step = parse_number(trim(rest.substr(slash + 1)), UINT32_MAX, false);
  if (!low || !high || !step || *step == 0) {
    return bad_value(key, value, "expected 1-N, S-N/S or a list of sizes");
  }
  if (*low != *step) return bad_value(key, value, "a range starts at 1, or at its step (S-N/S)");
  if (*high < *low) return bad_value(key, value, "the range is empty");
  policy.max = static_cast<uint32_t>(*high);
  policy.step = *step == 1 ? 0 : static_cast<uint32_t>(*step);
  return policy;
}

Result<std::vector<ImageFormat>> parse_formats(std::string_view key, std::string_view value) {
  std::vector<ImageFormat> formats;
  std::vector<std::string_view> items = split_list(value);
  if (items.empty()) return bad_value(key, value, "expected a list of extensions");
  for (std::string_view item : items) {
    std::optional<ImageFormat> format = format_from_extension(item);
    if (!format) {
      return bad_value(key, value,
                       "unknown format " + quoted(item) + ": expected " + original_extension_list());
    }
    if (std::find(formats.begin(), formats.end(), *format) == formats.end()) {
      formats.push_back(*format);
    }
  }
  return formats;
}

Result<uint64_t> parse_limit(std::string_view key, std::string_view value) {
  std::optional<uint64_t> number = parse_number(value, UINT64_MAX, true);
  if (!number || *number == 0) {
    return bad_value(key, value, "expected a number >= 1 with an optional K, M, G or T suffix");
  }
  return *number;
}

// Applies `key = value` to `attachment`.
Status apply_setting(AttachmentSchema& attachment, std::string_view key, std::string_view value) {
  auto assign = [](auto& field, auto result) -> Status {
    if (!result) return result.error();
    field = std::move(result).value();
    return Status::Ok();
  };
  if (key == "multiple") return assign(attachment.multiple, parse_bool(key, value));
  if (key == "thumbnail_widths") {
    return assign(attachment.thumbnails.widths, parse_size_policy(key, value));
  }
  if (key == "thumbnail_heights") {
    return assign(attachment.thumbnails.heights, parse_size_policy(key, value));
  }
  if (key == "quality") {
    std::optional<uint64_t> quality = parse_number(value, 100, false);
    if (!quality || *quality == 0) return bad_value(key, value, "expected a number from 1 to 100");
    attachment.thumbnails.quality = static_cast<int>(*quality);
    return Status::Ok();
  }
  if (key == "formats") return assign(attachment.originals.formats, parse_formats(key, value));
  if (key == "max_bytes") return assign(attachment.originals.max_bytes, parse_limit(key, value));
  if (key == "max_pixels") return assign(attachment.originals.max_pixels, parse_limit(key, value));
  Status recipe = apply_recipe_setting(attachment, key, value);
  if (!recipe && recipe.error().code == ErrorCode::kNotFound) {
    return make_error(ErrorCode::kInvalid, "unknown key " + quoted(key));
  }
  return recipe;
}

AttachmentSchema default_attachment(std::string_view name) {
  AttachmentSchema attachment;
  attachment.name = std::string(name);
  attachment.originals.formats = {ImageFormat::kJpeg, ImageFormat::kPng,  ImageFormat::kWebp,
                                  ImageFormat::kGif,  ImageFormat::kAvif, ImageFormat::kHeif};
  return attachment;
}

// The parser's state: the schema so far and the section being read.
class SchemaReader {
 public:
  explicit SchemaReader(std::string_view file_name) : file_(file_name) {}

  // Reads one line (without its newline).
  Status read_line(std::string_view raw) {
    ++line_;
    std::string_view text = trim(raw.substr(0, raw.find('#')));
    if (text.empty()) return Status::Ok();
    if (text.front() == '[') return read_section(text);
    return read_setting(text);
  }

  Result<Schema> finish() {
    if (Status s = end_section(); !s) return s.error();
    if (schema_.types.empty()) {
      return error_at(std::max(line_, 1),
                      "no types: declare at least one [type.attachment] section");
    }
    return std::move(schema_);
  }

 private:
  Error error_at(int line, std::string_view problem) const {
    return make_error(ErrorCode::kInvalid, std::string(file_) + ":" + std::to_string(line) + ": " +
                                               std::string(problem));
  }

  Status read_section(std::string_view text) {
    if (text.back() != ']') return error_at(line_, "expected [type.attachment]");
    std::string_view name = trim(text.substr(1, text.size() - 2));
    size_t dot = name.find('.');
    if (dot == std::string_view::npos) {
      return error_at(line_, "section [" + std::string(name) + "] must be [type.attachment]");
    }
    std::string_view type = trim(name.substr(0, dot));
    std::string_view attachment = trim(name.substr(dot + 1));
    for (std::string_view part : {type, attachment}) {
      if (!is_valid_name(part)) {
        return error_at(line_, "bad name " + quoted(part) +
                                   ": names are 1-64 of [a-z0-9_] starting with a letter");
      }
    }
    if (Status s = end_section(); !s) return s;
    std::string full = std::string(type) + "." + std::string(attachment);
    auto [it, inserted] = section_lines_.emplace(full, line_);
    if (!inserted) {
      return error_at(line_, "duplicate section [" + full + "] (first at line " +
                                 std::to_string(it->second) + ")");
    }
    TypeSchema* owner = find_or_add_type(type);
    owner->attachments.push_back(default_attachment(attachment));
    current_ = &owner->attachments.back();
    current_name_ = full;
    key_lines_.clear();
    return Status::Ok();
  }

  Status read_setting(std::string_view text) {
    size_t equals = text.find('=');
    if (equals == std::string_view::npos) return error_at(line_, "expected key = value");
    std::string_view key = trim(text.substr(0, equals));
    std::string_view value = trim(text.substr(equals + 1));
    if (current_ == nullptr) {
      return error_at(line_, "key " + quoted(key) + " outside a [type.attachment] section");
    }
    auto [it, inserted] = key_lines_.emplace(std::string(key), line_);
    if (!inserted) {
      return error_at(line_, "duplicate key " + quoted(key) + " in [" + current_name_ +
                                 "] (first at line " + std::to_string(it->second) + ")");
    }
    Status status = apply_setting(*current_, key, value);
    if (!status) return error_at(line_, status.error().message);
    if (key == "eager") eager_ = std::string(value);
    return Status::Ok();
  }

  // Settings that need the whole section: eager names may be presets, and
  // must be allowed by its policy.
  Status end_section() {
    if (current_ == nullptr || !eager_) return Status::Ok();
    Status status = resolve_eager(*current_, *eager_);
    int line = key_lines_["eager"];
    eager_.reset();
    if (!status) return error_at(line, status.error().message);
    return Status::Ok();
  }

  TypeSchema* find_or_add_type(std::string_view name) {
    for (TypeSchema& type : schema_.types) {
      if (type.name == name) return &type;
    }
    schema_.types.push_back(TypeSchema{std::string(name), {}});
    return &schema_.types.back();
  }

  std::string file_;
  int line_ = 0;
  Schema schema_;
  AttachmentSchema* current_ = nullptr;  // valid until the next section
  std::string current_name_;
  std::map<std::string, int> section_lines_;
  std::map<std::string, int> key_lines_;
  std::optional<std::string> eager_;  // the section's eager value, resolved at its end
};

}  // namespace

Result<Schema> parse_schema(std::string_view text, std::string_view file_name) {
  SchemaReader reader(file_name);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    Status status = reader.read_line(text.substr(pos, end - pos));
    if (!status) return status.error();
    pos = end + 1;
  }
  return reader.finish();
}

Result<Schema> load_schema(const std::string& path) {
  Result<std::string> text = read_schema_text(path);
  if (!text) return text.error();
  return parse_schema(*text, path);
}

Result<std::string> read_schema_text(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(ErrorCode::kNotFound, path + ": " + std::strerror(errno));
  std::string text;
  char buffer[8192];
  ssize_t n = 0;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
  int read_errno = errno;
  ::close(fd);
  if (n < 0) return make_error(ErrorCode::kNotFound, path + ": " + std::strerror(read_errno));
  return text;
}

const Schema& default_schema() {
  static const Schema schema = [] {
    Result<Schema> parsed = parse_schema(default_schema_text(), "default.conf (compiled in)");
    if (!parsed) {
      std::fprintf(stderr, "imageattachfs: bad compiled-in schema: %s\n",
                   parsed.error().message.c_str());
      std::abort();
    }
    return std::move(parsed).value();
  }();
  return schema;
}

}  // namespace iafs
