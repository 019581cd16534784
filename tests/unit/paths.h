// The tests' open schema, and the ImagePath of a path text under it (the
// test fails if it does not parse).
#pragma once

#include <criterion/criterion.h>

#include <string>

#include "config/schema_parser.h"
#include "path/path.h"

// The shipped default's types with an open policy (any width or height up
// to 4096, every format, nothing enlarged): tests/integration/open.conf.
inline const iafs::Schema& open_schema() {
  static const iafs::Schema schema = [] {
    auto parsed = iafs::parse_schema(
        "[posts.photos]\nmultiple = true\nthumbnail_widths = 1-4096\n"
        "thumbnail_heights = 1-4096\nenlarge = no\n"
        "[users.picture]\nthumbnail_widths = 1-4096\nthumbnail_heights = 1-4096\n"
        "enlarge = no\n",
        "open.conf");
    cr_assert(parsed.ok(), "%s", parsed.ok() ? "" : parsed.error().message.c_str());
    return std::move(parsed).value();
  }();
  return schema;
}

inline iafs::ImagePath at(const std::string& text) {
  auto path = iafs::parse_path(text, open_schema());
  cr_assert(path.ok(), "parse %s", text.c_str());
  return *path;
}
