// decode_entry: the strict reading of a log entry (sync/entry.h).
#include <algorithm>
#include <array>
#include <initializer_list>

#include "base/json.h"
#include "path/path.h"
#include "sync/entry.h"

namespace iafs::sync {

namespace {

// Why an entry cannot be applied (caught in decode_entry: never leaves this file).
struct Malformed {
  std::string why;
};

[[noreturn]] void refuse(std::string why) { throw Malformed{std::move(why)}; }

// An object's members, checked against the names it may have.
class Fields {
 public:
  Fields(const Json& json, std::string what, std::initializer_list<std::string_view> allowed)
      : json_(json), what_(std::move(what)) {
    if (json.kind != Json::Kind::kObject) refuse(what_ + " is not an object");
    for (const std::string& name : json.keys) {
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        refuse("unknown field \"" + name + "\" in " + what_);
      }
    }
  }

  const Json* optional(std::string_view name) const { return json_.find(name); }

  const Json& need(std::string_view name) const {
    const Json* value = json_.find(name);
    if (value == nullptr) refuse(what_ + " has no \"" + std::string(name) + "\"");
    return *value;
  }

  std::string text(std::string_view name) const {
    const Json& value = need(name);
    if (value.kind != Json::Kind::kString) refuse(field(name) + " is not a string");
    return value.text;
  }

  uint64_t number(std::string_view name, uint64_t max = uint64_t{1} << 53) const {
    std::optional<uint64_t> value = need(name).as_uint();
    if (!value || *value > max)
      refuse(field(name) + " is not an integer up to " + std::to_string(max));
    return *value;
  }

  // A 64-bit integer written as a string ("-12", "1764070000123456789").
  int64_t big(std::string_view name) const {
    std::string text = this->text(name);
    bool negative = text.starts_with('-');
    std::string_view digits = std::string_view(text).substr(negative ? 1 : 0);
    if (digits.empty() || digits.size() > 19 || (digits.size() > 1 && digits[0] == '0') ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      refuse(field(name) + " is not a 64-bit integer");
    }
    unsigned long long magnitude = std::stoull(std::string(digits));
    if (magnitude > (negative ? 9223372036854775808ULL : 9223372036854775807ULL)) {
      refuse(field(name) + " is not a 64-bit integer");
    }
    return negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  }

  std::string field(std::string_view name) const {
    return "\"" + std::string(name) + "\" of " + what_;
  }

 private:
  const Json& json_;
  std::string what_;
};

uint8_t hex_digit(char c) {
  if (c >= '0' && c <= '9') return static_cast<uint8_t>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<uint8_t>(c - 'a' + 10);
  return 0xFF;
}

BlobId blob_of(const std::string& text, const std::string& what) {
  BlobId id{};
  if (text.size() != 64) refuse(what + " is not a SHA-256 in hex");
  for (size_t i = 0; i < id.size(); ++i) {
    uint8_t high = hex_digit(text[2 * i]), low = hex_digit(text[2 * i + 1]);
    if (high > 15 || low > 15) refuse(what + " is not a SHA-256 in hex");
    id[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return id;
}

uint64_t hex64_of(const std::string& text, const std::string& what) {
  if (text.size() != 16) refuse(what + " is not 16 hex digits");
  uint64_t value = 0;
  for (char c : text) {
    uint8_t d = hex_digit(c);
    if (d > 15) refuse(what + " is not 16 hex digits");
    value = value << 4 | d;
  }
  return value;
}

ImageSetKey set_of(const Fields& parent, std::string_view name) {
  Fields f(parent.need(name), parent.field(name), {"type", "id", "att", "index"});
  ImageSetKey set;
  set.type = f.text("type");
  Result<EntityId> id = parse_entity_id(f.text("id"));
  if (!id) refuse(f.field("id") + " is not an id");
  set.id = std::move(id).value();
  set.attachment = f.text("att");
  set.index = static_cast<uint32_t>(f.number("index", UINT32_MAX));
  if (set.type.empty() || set.attachment.empty()) refuse(parent.field(name) + " has an empty name");
  return set;
}

std::optional<FocalPoint> focus_of(const Fields& f) {
  const Json* focus = f.optional("focus");
  if (focus == nullptr) return std::nullopt;
  if (focus->kind != Json::Kind::kArray || focus->items.size() != 2) {
    refuse(f.field("focus") + " is not [x, y]");
  }
  std::optional<uint64_t> x = focus->items[0].as_uint(), y = focus->items[1].as_uint();
  if (!x || !y || *x > 1000000 || *y > 1000000) refuse(f.field("focus") + " is out of range");
  return FocalPoint{static_cast<uint32_t>(*x), static_cast<uint32_t>(*y)};
}

std::string ext_of(const Fields& f) {
  std::string ext = f.text("ext");
  if (!format_from_extension(ext)) refuse(f.field("ext") + " is not an extension of originals");
  return ext;
}

ImageFormat format_of(const Fields& f) {
  static constexpr std::array<std::pair<std::string_view, ImageFormat>, 6> kNames = {
      {{"jpeg", ImageFormat::kJpeg},
       {"png", ImageFormat::kPng},
       {"webp", ImageFormat::kWebp},
       {"gif", ImageFormat::kGif},
       {"avif", ImageFormat::kAvif},
       {"heif", ImageFormat::kHeif}}};
  std::string name = f.text("format");
  for (const auto& [text, format] : kNames) {
    if (text == name) return format;
  }
  refuse(f.field("format") + " is not a format");
}

LogOp op_of(const Json& json, size_t index) {
  std::string what = "op " + std::to_string(index);
  if (json.kind != Json::Kind::kObject || json.find("op") == nullptr)
    refuse(what + " has no \"op\"");
  const Json& kind = *json.find("op");
  std::string name = kind.kind == Json::Kind::kString ? kind.text : "";
  LogOp op;
  auto id = [&](const Fields& f) { op.id = hex64_of(f.text("id"), f.field("id")); };
  if (name == "attach") {
    Fields f(json, what,
             {"id", "op", "set", "blob", "size", "xxh3", "format", "ext", "w", "h", "mtime_ns",
              "checked", "created_ns", "focus", "color", "blurhash"});
    id(f);
    AttachOriginal a;
    a.set = set_of(f, "set");
    a.blob = blob_of(f.text("blob"), f.field("blob"));
    a.size = f.number("size");
    a.xxh3 = hex64_of(f.text("xxh3"), f.field("xxh3"));
    a.format = format_of(f);
    a.ext = ext_of(f);
    a.width = static_cast<uint32_t>(f.number("w", UINT32_MAX));
    a.height = static_cast<uint32_t>(f.number("h", UINT32_MAX));
    a.mtime_ns = f.big("mtime_ns");
    op.checked = f.number("checked");
    if (f.optional("created_ns") != nullptr) a.created_ns = f.big("created_ns");
    a.focus = focus_of(f);
    if (f.optional("color") != nullptr)
      a.color = static_cast<uint32_t>(f.number("color", 0xFFFFFF));
    if (f.optional("blurhash") != nullptr) a.blurhash = f.text("blurhash");
    op.change = std::move(a);
  } else if (name == "remove") {
    Fields f(json, what, {"id", "op", "set", "ext"});
    id(f);
    op.change = RemoveSet{set_of(f, "set"), ext_of(f)};
  } else if (name == "move") {
    Fields f(json, what, {"id", "op", "from", "to"});
    id(f);
    op.change = MoveSet{set_of(f, "from"), set_of(f, "to")};
  } else if (name == "mtime" || name == "created" || name == "focus") {
    std::string_view time = name == "mtime" ? "mtime_ns" : "created_ns";
    Fields f(json, what, {"id", "op", "set", "ext", name == "focus" ? "focus" : time});
    id(f);
    ImageSetKey set = set_of(f, "set");
    op.ext = ext_of(f);
    if (name == "mtime") {
      op.change = SetMtime{std::move(set), f.big("mtime_ns")};
    } else if (name == "created") {
      op.change = SetCreated{std::move(set), f.big("created_ns")};
    } else {
      op.change = SetFocus{std::move(set), focus_of(f)};
    }
  } else if (name == "dir_mtime") {
    Fields f(json, what, {"id", "op", "dir", "mtime_ns"});
    id(f);
    op.change = SetDirMtime{f.text("dir"), f.big("mtime_ns")};
  } else if (name == "drop_thumb") {
    Fields f(json, what, {"id", "op", "orig", "recipe", "name", "set"});
    id(f);
    DropThumb drop{blob_of(f.text("orig"), f.field("orig")), f.text("recipe"), f.text("name"), {}};
    (void)hex64_of(drop.recipe, f.field("recipe"));  // 16 hex digits
    if (drop.name.empty() || drop.name.size() > 255 ||
        drop.name.find_first_of(std::string_view("/~\0", 3)) != std::string::npos) {
      refuse(f.field("name") + " is not a thumbnail's name");
    }
    if (f.optional("set") != nullptr) drop.set = set_of(f, "set");
    op.change = std::move(drop);
  } else if (name == "condemn" || name == "sweep" || name == "swept") {
    bool sweep = name == "sweep";
    Fields f(json, what,
             sweep ? std::initializer_list<std::string_view>{"id", "op", "shas", "grace_ns"}
                   : std::initializer_list<std::string_view>{"id", "op", "shas"});
    id(f);
    GcStep step;
    step.kind = name == "condemn" ? GcStep::Kind::kCondemn
                : sweep           ? GcStep::Kind::kSweep
                                  : GcStep::Kind::kSwept;
    if (sweep) step.grace_ns = f.big("grace_ns");
    const Json& shas = f.need("shas");
    if (shas.kind != Json::Kind::kArray) refuse(f.field("shas") + " is not an array");
    for (const Json& sha : shas.items) {
      if (sha.kind != Json::Kind::kString) refuse(f.field("shas") + " holds a non-string");
      step.shas.push_back(blob_of(sha.text, f.field("shas")));
    }
    op.change = std::move(step);
  } else {
    refuse(what + " is of an unknown kind \"" + name + "\"");
  }
  return op;
}

Entry entry_of(std::string_view bytes) {
  if (bytes.size() > kMaxEntryBytes) refuse("over " + std::to_string(kMaxEntryBytes) + " bytes");
  Result<Json> json = parse_json(bytes, 8);
  if (!json) refuse(json.error().message);
  if (json->kind != Json::Kind::kObject) refuse("not an object");
  const Json* version = json->find("v");
  if (version == nullptr || version->as_uint() != 1) refuse("not version 1");
  Fields f(json.value(), "the entry", {"v", "seq", "prev", "host", "time_ns", "ops"});
  Entry entry;
  entry.seq = f.number("seq");
  if (entry.seq == 0) refuse("seq 0");
  entry.prev = f.text("prev");
  blob_of(entry.prev, f.field("prev"));
  entry.host = f.text("host");
  entry.time_ns = f.big("time_ns");
  const Json& ops = f.need("ops");
  if (ops.kind != Json::Kind::kArray) refuse("\"ops\" is not an array");
  if (ops.items.size() > kMaxEntryOps) refuse("over " + std::to_string(kMaxEntryOps) + " ops");
  for (size_t i = 0; i < ops.items.size(); ++i) entry.ops.push_back(op_of(ops.items[i], i));
  return entry;
}

}  // namespace

Result<Entry> decode_entry(std::string_view bytes) {
  try {
    Entry entry = entry_of(bytes);
    if (encode_entry(entry) != bytes) {
      return make_error(ErrorCode::kInvalid, "log entry: not in canonical form");
    }
    return entry;
  } catch (const Malformed& malformed) {
    return make_error(ErrorCode::kInvalid, "log entry: " + malformed.why);
  }
}

}  // namespace iafs::sync
