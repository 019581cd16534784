#include "cli/csv_reader.h"

namespace iafs {

Result<std::optional<std::vector<std::string>>> CsvReader::next() {
  int c = std::getc(file_);
  if (c == EOF) {
    if (std::ferror(file_)) return make_error(ErrorCode::kIo, "read error");
    return std::optional<std::vector<std::string>>();
  }
  record_line_ = line_;
  std::vector<std::string> fields(1);
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kInvalid, "line " + std::to_string(line_) + ": " + why);
  };
  bool quoted = false;       // inside quotes
  bool after_quote = false;  // the field's closing quote has been read
  bool field_start = true;   // nothing of this field read yet
  for (;; c = std::getc(file_)) {
    if (c == EOF) {
      if (std::ferror(file_)) return make_error(ErrorCode::kIo, "read error");
      if (quoted) return bad("a quoted field is not closed");
      return std::optional(std::move(fields));
    }
    if (quoted) {
      if (c == '"') {
        int n = std::getc(file_);
        if (n == '"') {
          fields.back().push_back('"');
          continue;
        }
        if (n != EOF) std::ungetc(n, file_);
        quoted = false;
        after_quote = true;
        continue;
      }
      if (c == '\n') ++line_;
      fields.back().push_back(static_cast<char>(c));
      continue;
    }
    if (c == ',') {
      fields.emplace_back();
      after_quote = false;
      field_start = true;
      continue;
    }
    if (c == '\r') {
      int n = std::getc(file_);
      if (n == '\n')
        c = '\n';
      else if (n != EOF)
        std::ungetc(n, file_);
    }
    if (c == '\n') {
      ++line_;
      return std::optional(std::move(fields));
    }
    if (after_quote) return bad("text after a closing quote");
    if (c == '"') {
      if (!field_start) return bad("a quote inside an unquoted field");
      quoted = true;
      field_start = false;
      continue;
    }
    field_start = false;
    fields.back().push_back(static_cast<char>(c));
  }
}

}  // namespace iafs
