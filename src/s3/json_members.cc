// json_string_members: the top-level string members of the JSON the
// container endpoint and IMDS answer, read by the project's strict JSON
// reader (base/json.h: nesting bounded, duplicates and bad UTF-8 refused).
#include <cstddef>

#include "base/json.h"
#include "s3/credential_sources.h"

namespace iafs::s3 {

namespace {

constexpr std::size_t kMaxJsonBytes = 1 << 20;

Error bad_json(const std::string& what) { return make_error(ErrorCode::kInvalid, what); }

}  // namespace

Result<std::map<std::string, std::string>> json_string_members(std::string_view json) {
  if (json.size() > kMaxJsonBytes) return bad_json("JSON reply over 1 MiB");
  Result<Json> parsed = parse_json(json, 32);
  if (!parsed) return bad_json("malformed JSON reply");
  if (parsed->kind != Json::Kind::kObject) return bad_json("reply is not a JSON object");
  std::map<std::string, std::string> members;
  for (size_t i = 0; i < parsed->keys.size(); ++i) {
    if (parsed->items[i].kind == Json::Kind::kString) {
      members.emplace(parsed->keys[i], parsed->items[i].text);
    }
  }
  return members;
}

}  // namespace iafs::s3
