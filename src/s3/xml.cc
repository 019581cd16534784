#include "s3/xml.h"

#include <cstdint>

#include "base/json.h"

namespace iafs::s3 {

namespace {

bool allowed_in_xml(uint32_t c) {
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

// The code point of "#123" or "#x7B"; nullopt when malformed or too large.
std::optional<uint32_t> character_reference(std::string_view ref) {
  if (ref.size() < 2 || ref[0] != '#') return std::nullopt;
  bool hex = ref[1] == 'x';
  std::string_view digits = ref.substr(hex ? 2 : 1);
  if (digits.empty() || digits.size() > 8) return std::nullopt;
  uint32_t value = 0;
  for (char c : digits) {
    uint32_t d;
    if (c >= '0' && c <= '9') {
      d = static_cast<uint32_t>(c - '0');
    } else if (hex && c >= 'a' && c <= 'f') {
      d = static_cast<uint32_t>(c - 'a' + 10);
    } else if (hex && c >= 'A' && c <= 'F') {
      d = static_cast<uint32_t>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
    value = value * (hex ? 16 : 10) + d;
    if (value > 0x10FFFF) return std::nullopt;
  }
  return value;
}

}  // namespace

std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view name) {
  std::vector<std::string_view> out;
  std::string open = "<" + std::string(name);
  std::string close = "</" + std::string(name) + ">";
  size_t at = 0;
  while ((at = xml.find(open, at)) != std::string_view::npos) {
    size_t after = at + open.size();
    if (after >= xml.size()) break;
    char next = xml[after];
    if (next != '>' && next != ' ' && next != '/' && next != '\t' && next != '\n' && next != '\r') {
      at = after;  // another name that starts with this one
      continue;
    }
    size_t end_of_tag = xml.find('>', after);
    if (end_of_tag == std::string_view::npos) break;
    if (xml[end_of_tag - 1] == '/') {
      out.emplace_back();
      at = end_of_tag + 1;
      continue;
    }
    size_t end = xml.find(close, end_of_tag + 1);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(end_of_tag + 1, end - end_of_tag - 1));
    at = end + close.size();
  }
  return out;
}

std::optional<std::string> xml_text(std::string_view xml, std::string_view name) {
  std::vector<std::string_view> found = xml_elements(xml, name);
  if (found.empty()) return std::nullopt;
  return xml_decode(found.front());
}

std::optional<std::string> xml_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out += text[i];
      continue;
    }
    size_t semi = text.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12) return std::nullopt;
    std::string_view ref = text.substr(i + 1, semi - i - 1);
    if (ref == "amp") {
      out += '&';
    } else if (ref == "lt") {
      out += '<';
    } else if (ref == "gt") {
      out += '>';
    } else if (ref == "quot") {
      out += '"';
    } else if (ref == "apos") {
      out += '\'';
    } else if (std::optional<uint32_t> c = character_reference(ref); c && allowed_in_xml(*c)) {
      append_utf8(out, *c);
    } else {
      return std::nullopt;
    }
    i = semi;
  }
  return out;
}

}  // namespace iafs::s3
