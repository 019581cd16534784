// Reads a schema file (DESIGN §3). Format: see contrib/schema/default.conf.
#pragma once

#include <string>
#include <string_view>

#include "imageattachfs/result.h"
#include "imageattachfs/schema.h"

namespace iafs {

// Parses schema text. `file_name` is used in error messages, which read
// "FILE:LINE: problem". Errors are kInvalid.
Result<Schema> parse_schema(std::string_view text, std::string_view file_name);

// Reads and parses the schema file at `path`. An unreadable file is kNotFound
// (message names the file and strerror).
Result<Schema> load_schema(const std::string& path);
// The text of the schema file at `path` (kNotFound when it cannot be read).
Result<std::string> read_schema_text(const std::string& path);

// The default schema compiled into the daemon (the text of
// contrib/schema/default.conf): posts/photos (multiple), users/picture (single).
const Schema& default_schema();

// The text of the default schema, as compiled in.
std::string_view default_schema_text();

}  // namespace iafs
