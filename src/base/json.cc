#include "base/json.h"

#include <cstdio>

namespace iafs {

const Json* Json::find(std::string_view key) const {
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] == key) return &items[i];
  }
  return nullptr;
}

std::optional<uint64_t> Json::as_uint() const {
  if (kind != Kind::kNumber || text.empty() || text.size() > 16) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > (uint64_t{1} << 53)) return std::nullopt;
  return value;
}

void append_utf8(std::string& out, uint32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", static_cast<unsigned>(c));
      out.append(escaped);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

namespace {

class Reader {
 public:
  Reader(std::string_view text, unsigned max_depth) : text_(text), max_depth_(max_depth) {}

  Result<Json> document() {
    Json value;
    if (Status s = parse_value(value, 0); !s) return s.error();
    skip_space();
    if (at_ != text_.size()) return fail("text after the value");
    return value;
  }

 private:
  Error fail(const std::string& why) const {
    return make_error(ErrorCode::kInvalid, "bad JSON at byte " + std::to_string(at_) + ": " + why);
  }

  void skip_space() {
    while (at_ < text_.size() &&
           (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r')) {
      ++at_;
    }
  }

  bool take(char c) {
    if (at_ < text_.size() && text_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }

  bool take_word(std::string_view word) {
    if (text_.substr(at_, word.size()) != word) return false;
    at_ += word.size();
    return true;
  }

  Status parse_value(Json& out, unsigned depth) {
    if (depth > max_depth_) return fail("nested too deep");
    skip_space();
    if (at_ >= text_.size()) return fail("a value expected");
    char c = text_[at_];
    if (c == '{') return parse_object(out, depth);
    if (c == '[') return parse_array(out, depth);
    if (c == '"') {
      out.kind = Json::Kind::kString;
      return parse_string(out.text);
    }
    if (take_word("null")) {
      out.kind = Json::Kind::kNull;
    } else if (take_word("true")) {
      out.kind = Json::Kind::kTrue;
    } else if (take_word("false")) {
      out.kind = Json::Kind::kFalse;
    } else {
      out.kind = Json::Kind::kNumber;
      return parse_number(out.text);
    }
    return Status::Ok();
  }

  Status parse_object(Json& out, unsigned depth) {
    out.kind = Json::Kind::kObject;
    ++at_;
    skip_space();
    if (take('}')) return Status::Ok();
    while (true) {
      skip_space();
      std::string key;
      if (at_ >= text_.size() || text_[at_] != '"') return fail("a key expected");
      if (Status s = parse_string(key); !s) return s;
      if (out.find(key) != nullptr) return fail("key \"" + key + "\" twice");
      skip_space();
      if (!take(':')) return fail("':' expected");
      Json value;
      if (Status s = parse_value(value, depth + 1); !s) return s;
      out.keys.push_back(std::move(key));
      out.items.push_back(std::move(value));
      skip_space();
      if (take('}')) return Status::Ok();
      if (!take(',')) return fail("',' or '}' expected");
    }
  }

  Status parse_array(Json& out, unsigned depth) {
    out.kind = Json::Kind::kArray;
    ++at_;
    skip_space();
    if (take(']')) return Status::Ok();
    while (true) {
      Json value;
      if (Status s = parse_value(value, depth + 1); !s) return s;
      out.items.push_back(std::move(value));
      skip_space();
      if (take(']')) return Status::Ok();
      if (!take(',')) return fail("',' or ']' expected");
    }
  }

  Status parse_number(std::string& out) {
    size_t start = at_;
    auto digits = [&] {
      size_t first = at_;
      while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') ++at_;
      return at_ - first;
    };
    take('-');
    if (take('0')) {
      if (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') {
        return fail("a leading zero");
      }
    } else if (digits() == 0) {
      return fail("a value expected");
    }
    if (take('.') && digits() == 0) return fail("digits expected after '.'");
    if (take('e') || take('E')) {
      if (!take('+')) take('-');
      if (digits() == 0) return fail("digits expected in the exponent");
    }
    out = std::string(text_.substr(start, at_ - start));
    return Status::Ok();
  }

  std::optional<uint32_t> hex4() {
    if (at_ + 4 > text_.size()) return std::nullopt;
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[at_++];
      uint32_t d;
      if (c >= '0' && c <= '9') {
        d = static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        d = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return std::nullopt;
      }
      value = value * 16 + d;
    }
    return value;
  }

  Status parse_escape(std::string& out) {
    if (at_ >= text_.size()) return fail("an unfinished escape");
    char c = text_[at_++];
    switch (c) {
      case '"': out += '"'; return Status::Ok();
      case '\\': out += '\\'; return Status::Ok();
      case '/': out += '/'; return Status::Ok();
      case 'b': out += '\b'; return Status::Ok();
      case 'f': out += '\f'; return Status::Ok();
      case 'n': out += '\n'; return Status::Ok();
      case 'r': out += '\r'; return Status::Ok();
      case 't': out += '\t'; return Status::Ok();
      case 'u': break;
      default: return fail("an unknown escape");
    }
    std::optional<uint32_t> unit = hex4();
    if (!unit) return fail("a bad \\u escape");
    uint32_t code = *unit;
    if (code >= 0xDC00 && code <= 0xDFFF) return fail("a lone low surrogate");
    if (code >= 0xD800 && code <= 0xDBFF) {
      if (!take('\\') || !take('u')) return fail("a lone high surrogate");
      std::optional<uint32_t> low = hex4();
      if (!low || *low < 0xDC00 || *low > 0xDFFF) return fail("a lone high surrogate");
      code = 0x10000 + ((code - 0xD800) << 10) + (*low - 0xDC00);
    }
    append_utf8(out, code);
    return Status::Ok();
  }

  // The length of the valid UTF-8 sequence at at_, or 0.
  size_t utf8_length() const {
    auto byte = [&](size_t i) { return static_cast<unsigned char>(text_[at_ + i]); };
    unsigned char lead = byte(0);
    size_t length = lead < 0x80 ? 1 : lead >= 0xC2 && lead <= 0xDF ? 2
                                  : lead >= 0xE0 && lead <= 0xEF ? 3
                                  : lead >= 0xF0 && lead <= 0xF4 ? 4 : 0;
    if (length == 0 || at_ + length > text_.size()) return 0;
    for (size_t i = 1; i < length; ++i) {
      if ((byte(i) & 0xC0) != 0x80) return 0;
    }
    if (lead == 0xE0 && byte(1) < 0xA0) return 0;   // overlong
    if (lead == 0xED && byte(1) > 0x9F) return 0;   // a surrogate
    if (lead == 0xF0 && byte(1) < 0x90) return 0;   // overlong
    if (lead == 0xF4 && byte(1) > 0x8F) return 0;   // over U+10FFFF
    return length;
  }

  Status parse_string(std::string& out) {
    ++at_;  // the opening quote
    while (true) {
      if (at_ >= text_.size()) return fail("an unterminated string");
      char c = text_[at_];
      if (c == '"') {
        ++at_;
        return Status::Ok();
      }
      if (c == '\\') {
        ++at_;
        if (Status s = parse_escape(out); !s) return s;
        continue;
      }
      if (static_cast<unsigned char>(c) < 0x20) return fail("a control character in a string");
      size_t length = utf8_length();
      if (length == 0) return fail("bad UTF-8");
      out.append(text_.substr(at_, length));
      at_ += length;
    }
  }

  std::string_view text_;
  unsigned max_depth_;
  size_t at_ = 0;
};

}  // namespace

Result<Json> parse_json(std::string_view text, unsigned max_depth) {
  return Reader(text, max_depth).document();
}

}  // namespace iafs
