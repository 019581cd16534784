// Small strict readers of the replies the credential sources get: STS's XML,
// the credentials in the container endpoint's and IMDS's JSON (json_members.cc
// reads it), their ISO 8601 times, and the check that credentials fit in
// headers. They read hostile bytes: every index is checked, and no error
// message quotes the reply (it holds secrets).
#include <cstddef>

#include "base/clock.h"
#include "s3/credential_sources.h"

namespace iafs::s3 {
namespace {

constexpr std::size_t kMaxReplyBytes = 1 << 20;

std::optional<std::string> xml_unescaped(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<') return std::nullopt;
    if (text[i] != '&') {
      out += text[i];
      continue;
    }
    static constexpr std::pair<std::string_view, char> kEntities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool known = false;
    for (const auto& [entity, c] : kEntities) {
      if (text.substr(i, entity.size()) == entity) {
        out += c;
        i += entity.size() - 1;
        known = true;
        break;
      }
    }
    if (!known) return std::nullopt;
  }
  return out;
}

// The text of the first <name> element in `xml`, trimmed; nullopt if absent or not plain text.
std::optional<std::string> xml_element(std::string_view xml, std::string_view name) {
  std::string open = "<" + std::string(name) + ">";
  std::string close = "</" + std::string(name) + ">";
  std::size_t start = xml.find(open);
  if (start == std::string_view::npos) return std::nullopt;
  start += open.size();
  std::size_t end = xml.find(close, start);
  if (end == std::string_view::npos) return std::nullopt;
  std::optional<std::string> text = xml_unescaped(xml.substr(start, end - start));
  if (!text) return std::nullopt;
  std::size_t begin = text->find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return std::string();
  return text->substr(begin, text->find_last_not_of(" \t\r\n") - begin + 1);
}

bool printable_without_space(std::string_view text) {
  for (char c : text) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

Error bad_reply(const std::string& what) { return make_error(ErrorCode::kInvalid, what); }

Result<int64_t> expiration_of(const std::optional<std::string>& text, const std::string& what) {
  if (!text) return bad_reply(what + " has no Expiration");
  std::optional<int64_t> ns = parse_iso8601_ns(*text);
  if (!ns) return bad_reply(what + " has an Expiration that is not an ISO 8601 time");
  return *ns;
}


}  // namespace

Result<Credentials> parse_json_credentials(std::string_view json) {
  Result<std::map<std::string, std::string>> members = json_string_members(json);
  if (!members.ok()) return members.error();
  auto member = [&](const char* name) -> std::optional<std::string> {
    auto it = members->find(name);
    if (it == members->end()) return std::nullopt;
    return it->second;
  };
  if (auto code = member("Code"); code && *code != "Success") {
    return make_error(ErrorCode::kIo, "credentials reply says Code " +
                                          (printable_without_space(*code) && code->size() < 64
                                               ? *code
                                               : std::string("(not a word)")));
  }
  Credentials credentials;
  credentials.access_key_id = member("AccessKeyId").value_or("");
  credentials.secret_access_key = member("SecretAccessKey").value_or("");
  credentials.session_token = member("Token").value_or("");
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return bad_reply("credentials reply lacks AccessKeyId or SecretAccessKey");
  }
  if (auto expiration = member("Expiration")) {
    Result<int64_t> ns = expiration_of(expiration, "credentials reply");
    if (!ns.ok()) return ns.error();
    credentials.expires_ns = *ns;
  }
  if (Status checked = check_credentials(credentials, "credentials reply"); !checked.ok()) {
    return checked.error();
  }
  return credentials;
}

Result<Credentials> parse_sts_reply(std::string_view xml) {
  if (xml.size() > kMaxReplyBytes) return bad_reply("STS reply over 1 MiB");
  std::size_t start = xml.find("<Credentials>");
  std::size_t end = start == std::string_view::npos ? start : xml.find("</Credentials>", start);
  if (end == std::string_view::npos) return bad_reply("STS reply has no Credentials");
  std::string_view inner = xml.substr(start, end - start);
  Credentials credentials;
  credentials.access_key_id = xml_element(inner, "AccessKeyId").value_or("");
  credentials.secret_access_key = xml_element(inner, "SecretAccessKey").value_or("");
  credentials.session_token = xml_element(inner, "SessionToken").value_or("");
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty() ||
      credentials.session_token.empty()) {
    return bad_reply("STS reply lacks AccessKeyId, SecretAccessKey or SessionToken");
  }
  Result<int64_t> ns = expiration_of(xml_element(inner, "Expiration"), "STS reply");
  if (!ns.ok()) return ns.error();
  credentials.expires_ns = *ns;
  if (Status checked = check_credentials(credentials, "STS reply"); !checked.ok()) {
    return checked.error();
  }
  return credentials;
}

std::optional<std::string> sts_error_code(std::string_view xml) {
  if (xml.size() > kMaxReplyBytes) return std::nullopt;
  std::optional<std::string> code = xml_element(xml, "Code");
  if (!code || code->empty() || code->size() > 64) return std::nullopt;
  for (char c : *code) {
    bool word =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.';
    if (!word) return std::nullopt;
  }
  return code;
}


Status check_credentials(const Credentials& credentials, const std::string& where) {
  const std::string& id = credentials.access_key_id;
  if (id.size() > 256 || !printable_without_space(id) ||
      id.find_first_of("/,") != std::string::npos) {
    return make_error(ErrorCode::kInvalid, where + ": the access key id is not a plain word");
  }
  if (credentials.secret_access_key.size() > 1024 ||
      !printable_without_space(credentials.secret_access_key)) {
    return make_error(ErrorCode::kInvalid, where +
                                               ": the secret key holds a space, a control "
                                               "character or a non-ASCII byte");
  }
  if (credentials.session_token.size() > 65536 ||
      !printable_without_space(credentials.session_token)) {
    return make_error(ErrorCode::kInvalid, where +
                                               ": the session token holds a space, a control "
                                               "character or a non-ASCII byte");
  }
  return Status::Ok();
}

}  // namespace iafs::s3
