// JSON (RFC 8259) as the store writes it and reads it back: a strict reader
// into a small tree (no comments, no trailing commas, no duplicate keys,
// valid UTF-8 only, nesting bounded) and the string writer every JSON this
// project makes uses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "imageattachfs/result.h"

namespace iafs {

struct Json {
  enum class Kind : uint8_t { kNull, kFalse, kTrue, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  std::string text;               // kNumber as written; kString decoded
  std::vector<Json> items;        // kArray: the values; kObject: the members' values
  std::vector<std::string> keys;  // kObject: the members' names, in order (items[i]'s)

  // The member named `key` of an object, or nullptr.
  const Json* find(std::string_view key) const;
  // A kNumber that is an integer in [0, 2^53]: the one kind of number stored.
  std::optional<uint64_t> as_uint() const;
};

// Parses one JSON text (surrounding whitespace allowed). kInvalid with what
// and where ("at byte 12: ...").
Result<Json> parse_json(std::string_view text, unsigned max_depth = 32);

// Appends code point `c` (REQUIRES: at most 0x10FFFF, not a surrogate) in UTF-8.
void append_utf8(std::string& out, uint32_t c);

// Appends `text` as a JSON string: '"' and '\' escaped, control characters
// as \u00XX, everything else (UTF-8 included) as it is.
void append_json_string(std::string& out, std::string_view text);

}  // namespace iafs
