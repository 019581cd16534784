// imageattachfs import-imageattach --map MAP.csv SRC_DIR STORE: imports the
// originals of SQLAlchemy-ImageAttach's FileSystemStore at SRC_DIR. MAP.csv
// names each original as the anchor's image table does and its place here:
//   object_type,object_id,width,height,mimetype,type,id,attachment,index
// (a header row of these names, in any order; `index` empty for a single
// attachment). Thumbnails are not imported (they are made again). Each
// original is validated as an upload is and keeps its file's mtime;
// resumable as `import` is. Exit 0, 1 (some refused), 2 (an error).
//
// The anchor's layout, as read in dahlia/sqlalchemy-imageattach (1.1.0):
// sqlalchemy_imageattach/stores/fs.py, BaseFileSystemStore.get_path(): the
// file is <object_type>/<object_id % 1000>/<object_id // 1000>/
// <object_id>.<width>x<height><suffix>, Python's integer % and // (floor
// division; object_id may be any integer: entity.py's Image.object_id is the
// primary key, a UUID's .int, or an override such as a SHA-1 as an int); the
// suffix is fs.py's guess_extension(): '.jpe' for image/jpeg (fixed since
// 0.8.0 "to maintain consistency with already stored objects"; before it,
// mimetypes.guess_extension() gave '.jpe' or '.jpeg' by Python version, and
// Python 3.8+ gives '.jpg'), else mimetypes.guess_extension(mimetype), which
// depends on the Python and on /etc/mime.types: Python 3.11 without
// mime.types has no entry for image/webp and returns None, which format()
// writes as the text "None" ('42.800x600None'). So each mimetype has a list
// of suffixes, tried in order; the first file that exists is the original.
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/numbers.h"
#include "cli/anchor_layout.h"
#include "cli/commands.h"
#include "cli/csv_reader.h"
#include "cli/import_run.h"
#include "path/path.h"

namespace iafs {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// A mimetype the namespace stores: the extension of its original here, and
// the suffixes the anchor may have given its files, the anchor's own first.
struct AnchorFormat {
  std::string_view mimetype;
  std::string_view ext;
  std::vector<std::string_view> suffixes;
};

const std::vector<AnchorFormat>& anchor_formats() {
  static const std::vector<AnchorFormat> formats = {
      {"image/jpeg", "jpg", {".jpe", ".jpeg", ".jpg"}},
      {"image/png", "png", {".png"}},
      {"image/gif", "gif", {".gif"}},
      {"image/webp", "webp", {".webp", "None"}},
      {"image/avif", "avif", {".avif", "None"}},
      {"image/heic", "heic", {".heic", "None"}},
      {"image/heif", "heif", {".heif", "None"}},
  };
  return formats;
}

const AnchorFormat* anchor_format(std::string mimetype) {
  std::transform(mimetype.begin(), mimetype.end(), mimetype.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  for (const AnchorFormat& f : anchor_formats()) {
    if (f.mimetype == mimetype) return &f;
  }
  return nullptr;
}

// Whether `text` is an integer as Python's str() writes one.
bool is_python_int(std::string_view text) {
  if (text.starts_with('-')) text.remove_prefix(1);
  if (text.empty() || (text.size() > 1 && text[0] == '0')) return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Decimal digits plus one.
std::string increment(std::string digits) {
  for (size_t i = digits.size(); i-- > 0;) {
    if (digits[i] != '9') {
      ++digits[i];
      return digits;
    }
    digits[i] = '0';
  }
  return "1" + digits;
}

}  // namespace

std::pair<std::string, std::string> anchor_id_segments(std::string_view id) {
  bool negative = id.starts_with('-');
  if (negative) id.remove_prefix(1);
  size_t split = id.size() > 3 ? id.size() - 3 : 0;
  unsigned rest = static_cast<unsigned>(std::stoul(std::string(id.substr(split))));
  std::string quotient = split > 0 ? std::string(id.substr(0, split)) : "0";
  if (!negative) return {std::to_string(rest), quotient};
  if (rest == 0) return {"0", quotient == "0" ? "0" : "-" + quotient};
  return {std::to_string(1000 - rest), "-" + increment(quotient)};
}

namespace {

const char* const kColumns[] = {"object_type", "object_id", "width",      "height", "mimetype",
                                "type",        "id",        "attachment", "index"};
constexpr size_t kColumnCount = std::size(kColumns);

// Where each column is in MAP.csv's records.
using ColumnIndexes = std::array<size_t, kColumnCount>;

Result<ColumnIndexes> read_header(CsvReader& csv) {
  auto header = csv.next();
  if (!header) return header.error();
  if (!*header) return make_error(ErrorCode::kInvalid, "empty (it needs a header row)");
  ColumnIndexes at;
  at.fill(SIZE_MAX);
  for (size_t i = 0; i < (*header)->size(); ++i) {
    std::string name = (**header)[i];
    if (i == 0 && name.starts_with("\xEF\xBB\xBF")) name.erase(0, 3);  // a UTF-8 BOM
    auto known = std::find(std::begin(kColumns), std::end(kColumns), name);
    if (known == std::end(kColumns)) {
      return make_error(ErrorCode::kInvalid, "header: unknown column '" + name + "'");
    }
    size_t column = static_cast<size_t>(known - std::begin(kColumns));
    if (at[column] != SIZE_MAX) {
      return make_error(ErrorCode::kInvalid, "header: column '" + name + "' twice");
    }
    at[column] = i;
  }
  for (size_t column = 0; column < kColumnCount; ++column) {
    if (at[column] == SIZE_MAX) {
      return make_error(ErrorCode::kInvalid,
                        std::string("header: no column '") + kColumns[column] + "'");
    }
  }
  return at;
}

// One row of MAP.csv made a source, or the reason it is refused.
struct RowSource {
  std::optional<ImportSource> source;
  std::string reason;
  std::string message;
};

RowSource source_of_row(const std::vector<std::string>& row, const ColumnIndexes& at,
                        const std::string& src_dir, const Schema& schema) {
  auto field = [&](size_t column) -> const std::string& { return row[at[column]]; };
  const std::string &object_type = field(0), &object_id = field(1), &width = field(2),
                    &height = field(3), &mimetype = field(4);
  auto one_name = [](const std::string& text) {
    return text.find_first_of(std::string_view("/\0", 2)) == std::string::npos;
  };
  if (object_type.empty() || !one_name(object_type) || object_type == "." || object_type == "..") {
    return {std::nullopt, "bad_row", "object_type '" + object_type + "' cannot name a directory"};
  }
  for (size_t column = 5; column < kColumnCount; ++column) {
    if (!one_name(field(column))) {
      return {std::nullopt, "bad_row", std::string(kColumns[column]) + " holds a '/'"};
    }
  }
  std::string place = field(5) + "/" + field(6) + "/" + field(7);
  if (!field(8).empty()) place += "/" + field(8);
  if (!is_python_int(object_id)) {
    return {std::nullopt, "bad_row", "object_id '" + object_id + "' is not an integer"};
  }
  if (!parse_canonical_decimal(width, UINT32_MAX) || !parse_canonical_decimal(height, UINT32_MAX)) {
    return {std::nullopt, "bad_row", "width and height must be integers"};
  }
  const AnchorFormat* format = anchor_format(mimetype);
  if (format == nullptr) {
    return {std::nullopt, "unsupported_mimetype", "mimetype '" + mimetype + "' is not stored here"};
  }
  auto target = parse_path("/" + place + "/original." + std::string(format->ext), schema);
  if (!target || target->kind != NodeKind::kOriginal) {
    return {std::nullopt, "bad_row", "the place " + place + " is not a set in the schema"};
  }
  auto [a, b] = anchor_id_segments(object_id);
  std::string stem = object_type + "/" + a + "/" + b + "/" + object_id + "." + width + "x" + height;
  std::string tried;
  for (std::string_view suffix : format->suffixes) {
    std::string file = join_path(src_dir, stem).append(suffix);
    struct stat st;
    if (stat(file.c_str(), &st) == 0) {
      std::string name = stem + std::string(suffix) + " -> " + path_string(*target).substr(1);
      return {ImportSource{file, name, std::move(target).value()}, "", ""};
    }
    tried += (tried.empty() ? "" : ", ") + stem + std::string(suffix);
  }
  return {std::nullopt, "missing", "no such file in " + src_dir + ": " + tried};
}

// Reads MAP.csv from the start: `row(record, line)` for each record after
// the header (blank lines skipped) until it returns false.
Status for_each_row(const std::string& map_file, ColumnIndexes& at,
                    const std::function<bool(const std::vector<std::string>&, uint64_t)>& row) {
  File file(std::fopen(map_file.c_str(), "re"));
  if (!file) return error_from_errno(map_file);
  CsvReader csv(file.get());
  auto header = read_header(csv);
  if (!header) return make_error(header.error().code, map_file + ": " + header.error().message);
  at = *header;
  for (;;) {
    auto record = csv.next();
    if (!record) return make_error(record.error().code, map_file + ": " + record.error().message);
    if (!*record) return Status::Ok();
    if ((*record)->size() == 1 && (**record)[0].empty()) continue;  // a blank line
    if (!row(**record, csv.line())) return Status::Ok();
  }
}

}  // namespace

int run_import_imageattach(int argc, char** argv) {
  const std::string usage =
      "usage: imageattachfs import-imageattach --map MAP.csv SRC_DIR STORE [--schema FILE] "
      "[--threads N]";
  auto args = parse_import_args(argc, argv, true);
  const std::string command = "import-imageattach";
  if (!args) return command_failed(command + ": " + args.error().message + " (" + usage + ")", 2);
  if (args->positional.size() != 2 || args->map_file.empty()) {
    return command_failed(command + ": " + usage, 2);
  }
  const std::string src_dir = args->positional[0];
  const std::string store_dir = args->positional[1];
  struct stat st;
  if (stat(src_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return command_failed(command + ": " + src_dir + ": not a directory", 2);
  }
  ColumnIndexes at;
  // Checked before the store is opened: a bad MAP.csv changes nothing.
  uint64_t rows = 0;
  if (Status s = for_each_row(args->map_file, at,
                              [&](const std::vector<std::string>&, uint64_t) { return ++rows; });
      !s) {
    return command_failed(command + ": " + s.error().message, 2);
  }
  auto count = [&](const Schema&) { return rows; };
  std::string map_error;
  auto feed = [&](ImportRun& run, const Schema& schema) {
    // Each set once: the hash of its path -> the line that names it first.
    std::unordered_map<size_t, uint64_t> places;
    Status read =
        for_each_row(args->map_file, at, [&](const std::vector<std::string>& row, uint64_t line) {
          std::string name = "line " + std::to_string(line);
          if (row.size() != kColumnCount) {
            run.refuse(name, "bad_row",
                       std::to_string(row.size()) + " fields, not " + std::to_string(kColumnCount));
            return true;
          }
          RowSource made = source_of_row(row, at, src_dir, schema);
          if (!made.source) {
            run.refuse(name, made.reason, made.message);
            return true;
          }
          std::string set = path_string(parent_path(made.source->target));
          auto [first, inserted] = places.emplace(std::hash<std::string>{}(set), line);
          if (!inserted) {
            run.refuse(name, "duplicate_place",
                       set.substr(1) + " is named at line " + std::to_string(first->second));
            return true;
          }
          made.source->name = name + ": " + made.source->name;
          return run.add(std::move(made.source).value());
        });
    if (!read) run.fail(read.error().message);
  };
  return run_bulk_import(command, *args, store_dir, count, feed);
}

}  // namespace iafs
