// A reader of CSV records as RFC 4180 writes them (and PostgreSQL's
// `\copy ... WITH (FORMAT csv, HEADER)`): fields separated by commas, each
// optionally in double quotes (a quote inside one doubled, commas and line
// breaks inside one kept); records end at LF or CRLF.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "imageattachfs/result.h"

namespace iafs {

class CsvReader {
 public:
  // Reads `file` (not owned) from where it stands.
  explicit CsvReader(std::FILE* file) : file_(file) {}

  // The next record's fields; nullopt at the end of the file. kInvalid for a
  // quote inside an unquoted field, text after a closing quote, or a quote
  // left open at the end; kIo for a read error. An empty line is a record of
  // one empty field.
  Result<std::optional<std::vector<std::string>>> next();

  // The line the last record returned by next() starts on (1 for the first).
  uint64_t line() const { return record_line_; }

 private:
  std::FILE* file_;
  uint64_t line_ = 1;  // of the next character
  uint64_t record_line_ = 0;
};

}  // namespace iafs
