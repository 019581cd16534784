#include "sync/entry.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <initializer_list>

#include "base/json.h"
#include "base/numbers.h"
#include "path/path.h"

namespace iafs::sync {

namespace {

// Names of formats in entries: fixed here, whatever the format table calls them.
constexpr std::array<std::pair<ImageFormat, std::string_view>, 6> kFormatNames = {{
    {ImageFormat::kJpeg, "jpeg"},
    {ImageFormat::kPng, "png"},
    {ImageFormat::kWebp, "webp"},
    {ImageFormat::kGif, "gif"},
    {ImageFormat::kAvif, "avif"},
    {ImageFormat::kHeif, "heif"},
}};

// Appends one object's members in the order they are written.
class Object {
 public:
  explicit Object(std::string& out) : out_(out) { out_ += '{'; }
  ~Object() { out_ += '}'; }
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;

  std::string& key(std::string_view name) {
    if (!first_) out_ += ',';
    first_ = false;
    append_json_string(out_, name);
    out_ += ':';
    return out_;
  }
  void text(std::string_view name, std::string_view value) { append_json_string(key(name), value); }
  void number(std::string_view name, uint64_t value) { key(name) += std::to_string(value); }
  // A 64-bit value: a string, since JSON readers lose integers over 2^53.
  void big(std::string_view name, int64_t value) { text(name, std::to_string(value)); }

 private:
  std::string& out_;
  bool first_ = true;
};

void write_set(Object& parent, std::string_view name, const ImageSetKey& set) {
  Object o(parent.key(name));
  o.text("type", set.type);
  o.text("id", set.id.text);
  o.text("att", set.attachment);
  o.number("index", set.index);
}

void write_focus(Object& o, const std::optional<FocalPoint>& focus) {
  if (!focus) return;
  o.key("focus") += "[" + std::to_string(focus->x) + "," + std::to_string(focus->y) + "]";
}

void write_change(Object& o, const LogOp& op) {
  std::visit(
      [&](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, AttachOriginal>) {
          o.text("op", "attach");
          write_set(o, "set", c.set);
          o.text("blob", blob_id_hex(c.blob));
          o.number("size", c.size);
          o.text("xxh3", hex_u64(c.xxh3));
          auto format = std::find_if(kFormatNames.begin(), kFormatNames.end(),
                                     [&](const auto& f) { return f.first == c.format; });
          o.text("format", format != kFormatNames.end() ? format->second : "");
          o.text("ext", c.ext);
          o.number("w", c.width);
          o.number("h", c.height);
          o.big("mtime_ns", c.mtime_ns);
          o.number("checked", op.checked);
          if (c.created_ns != 0) o.big("created_ns", c.created_ns);
          write_focus(o, c.focus);
          if (c.color) o.number("color", *c.color);
          if (!c.blurhash.empty()) o.text("blurhash", c.blurhash);
        } else if constexpr (std::is_same_v<T, RemoveSet>) {
          o.text("op", "remove");
          write_set(o, "set", c.set);
          o.text("ext", c.ext.value_or(""));
        } else if constexpr (std::is_same_v<T, MoveSet>) {
          o.text("op", "move");
          write_set(o, "from", c.from);
          write_set(o, "to", c.to);
        } else if constexpr (std::is_same_v<T, SetMtime>) {
          o.text("op", "mtime");
          write_set(o, "set", c.set);
          o.text("ext", op.ext);
          o.big("mtime_ns", c.mtime_ns);
        } else if constexpr (std::is_same_v<T, SetCreated>) {
          o.text("op", "created");
          write_set(o, "set", c.set);
          o.text("ext", op.ext);
          o.big("created_ns", c.created_ns);
        } else if constexpr (std::is_same_v<T, SetFocus>) {
          o.text("op", "focus");
          write_set(o, "set", c.set);
          o.text("ext", op.ext);
          write_focus(o, c.focus);
        } else if constexpr (std::is_same_v<T, SetDirMtime>) {
          o.text("op", "dir_mtime");
          o.text("dir", c.dir);
          o.big("mtime_ns", c.mtime_ns);
        } else if constexpr (std::is_same_v<T, DropThumb>) {
          o.text("op", "drop_thumb");
          o.text("orig", blob_id_hex(c.original));
          o.text("recipe", c.recipe);
          o.text("name", c.name);
          if (c.set) write_set(o, "set", *c.set);
        } else {
          static constexpr std::array<std::string_view, 3> kGcNames = {"condemn", "sweep", "swept"};
          o.text("op", kGcNames.at(static_cast<size_t>(c.kind)));
          std::string& out = o.key("shas");
          out += '[';
          for (size_t i = 0; i < c.shas.size(); ++i) {
            if (i > 0) out += ',';
            append_json_string(out, blob_id_hex(c.shas[i]));
          }
          out += ']';
          if (c.kind == GcStep::Kind::kSweep) o.big("grace_ns", c.grace_ns);
        }
      },
      op.change);
}

}  // namespace

std::string encode_entry(const Entry& entry) {
  std::string out;
  {
    Object o(out);
    o.number("v", 1);
    o.number("seq", entry.seq);
    o.text("prev", entry.prev);
    o.text("host", entry.host);
    o.big("time_ns", entry.time_ns);
    std::string& ops = o.key("ops");
    ops += '[';
    for (size_t i = 0; i < entry.ops.size(); ++i) {
      if (i > 0) ops += ',';
      Object op(ops);
      op.text("id", hex_u64(entry.ops[i].id));
      write_change(op, entry.ops[i]);
    }
    ops += ']';
  }
  return out;
}

}  // namespace iafs::sync
