// Helpers for the text of schema settings: quoting, errors, lists.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "imageattachfs/result.h"

namespace iafs::setting_text {

inline std::string quoted(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('\'');
  out.append(text);
  out.push_back('\'');
  return out;
}

inline Error bad_value(std::string_view key, std::string_view value, std::string_view why) {
  return make_error(ErrorCode::kInvalid,
                    "bad " + std::string(key) + " " + quoted(value) + ": " + std::string(why));
}

inline std::string_view trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(" \t\r");
  return text.substr(begin, end - begin + 1);
}

// Splits on commas and blanks, dropping empty pieces.
inline std::vector<std::string_view> split_list(std::string_view text) {
  std::vector<std::string_view> items;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find_first_of(", \t", pos);
    if (end == std::string_view::npos) end = text.size();
    if (end > pos) items.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return items;
}

}  // namespace iafs::setting_text
