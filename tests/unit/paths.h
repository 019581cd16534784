// The ImagePath of a path text under the default schema (the test fails if
// it does not parse).
#pragma once

#include <criterion/criterion.h>

#include <string>

#include "config/schema_parser.h"
#include "path/path.h"

inline iafs::ImagePath at(const std::string& text) {
  auto path = iafs::parse_path(text, iafs::default_schema());
  cr_assert(path.ok(), "parse %s", text.c_str());
  return *path;
}
