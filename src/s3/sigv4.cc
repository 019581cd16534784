#include "s3/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>

#include "base/clock.h"

namespace iafs::s3 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kService = "s3";
constexpr std::size_t kMaxCachedKeys = 64;

using Digest = std::array<uint8_t, 32>;

std::string hex(std::span<const uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

Digest hmac_sha256(std::span<const uint8_t> key, std::string_view data) {
  Digest out{};
  unsigned int length = 0;
  // The one-shot HMAC() is OpenSSL 3's non-deprecated form; it fails only on
  // allocation failure, where signing cannot go on.
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
           &length) == nullptr ||
      length != out.size()) {
    std::abort();
  }
  return out;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// A header value as SigV4 signs it: trimmed, runs of spaces and tabs as one space.
std::string normalized_value(std::string_view value) {
  std::string out;
  bool in_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      in_space = true;
      continue;
    }
    if (in_space && !out.empty()) out += ' ';
    in_space = false;
    out += c;
  }
  return out;
}

bool owned_by_signer(const std::string& name) {
  return name == "host" || name == "authorization" || name == "x-amz-date" ||
         name == "x-amz-content-sha256" || name == "x-amz-security-token";
}

// The request's headers (lowercased, normalized, signer-owned ones dropped),
// then the signer's, in sending order.
std::vector<Header> headers_to_send(const RequestToSign& request, const Credentials& credentials,
                                    const std::string& date) {
  std::vector<Header> out;
  for (const Header& header : request.headers) {
    std::string name = lowercase(header.name);
    if (owned_by_signer(name)) continue;
    out.push_back({std::move(name), normalized_value(header.value)});
  }
  out.push_back({"x-amz-content-sha256", request.payload_sha256_hex});
  out.push_back({"x-amz-date", date});
  if (!credentials.session_token.empty()) {
    out.push_back({"x-amz-security-token", credentials.session_token});
  }
  return out;
}

// "name:value\n" lines sorted by name (values of a repeated name joined by
// commas, in sending order), and the names joined by ';'.
std::pair<std::string, std::string> canonical_headers(const std::vector<Header>& sent,
                                                      const std::string& host) {
  std::map<std::string, std::string> merged;
  merged["host"] = normalized_value(host);
  for (const Header& header : sent) {
    auto [it, inserted] = merged.try_emplace(header.name, header.value);
    if (!inserted) it->second += "," + header.value;
  }
  std::string lines;
  std::string names;
  for (const auto& [name, value] : merged) {
    lines.append(name).append(":").append(value).append("\n");
    if (!names.empty()) names += ';';
    names += name;
  }
  return {lines, names};
}

std::string canonical_query(const RequestToSign& request) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(request.query.size());
  for (const auto& [name, value] : request.query) {
    encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out.append(name).append("=").append(value);
  }
  return out;
}

std::string canonical_path(const RequestToSign& request) {
  return uri_encode(request.path.empty() ? std::string_view("/") : request.path, true);
}

// Signing keys by day, region and key id; the secret is kept to tell a
// rotated secret under the same key id.
class SigningKeyCache {
 public:
  Digest get(const Credentials& credentials, const std::string& day, std::string_view region) {
    std::string id = day + '\n' + std::string(region) + '\n' + credentials.access_key_id;
    std::lock_guard lock(mutex_);
    auto it = keys_.find(id);
    if (it != keys_.end() && it->second.secret == credentials.secret_access_key) {
      return it->second.key;
    }
    if (keys_.size() >= kMaxCachedKeys) keys_.clear();
    Digest key = derive_signing_key(credentials.secret_access_key, day, region, kService);
    keys_[id] = Entry{credentials.secret_access_key, key};
    return key;
  }

 private:
  struct Entry {
    std::string secret;
    Digest key;
  };
  std::mutex mutex_;
  std::map<std::string, Entry> keys_;
};

SigningKeyCache& signing_keys() {
  static SigningKeyCache cache;
  return cache;
}

SignatureSteps steps_for(const RequestToSign& request, const Credentials& credentials,
                         std::string_view region, const std::string& date,
                         const std::vector<Header>& sent) {
  SignatureSteps steps;
  auto [header_lines, signed_headers] = canonical_headers(sent, request.host);
  steps.signed_headers = signed_headers;
  steps.canonical_request = request.method + "\n" + canonical_path(request) + "\n" +
                            canonical_query(request) + "\n" + header_lines + "\n" + signed_headers +
                            "\n" + request.payload_sha256_hex;
  std::string day = date.substr(0, 8);
  std::string scope =
      day + "/" + std::string(region) + "/" + std::string(kService) + "/aws4_request";
  steps.string_to_sign = std::string(kAlgorithm) + "\n" + date + "\n" + scope + "\n" +
                         sha256_hex(steps.canonical_request);
  Digest key = signing_keys().get(credentials, day, region);
  steps.signature = hex(hmac_sha256(key, steps.string_to_sign));
  steps.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" +
                        scope + ",SignedHeaders=" + signed_headers +
                        ",Signature=" + steps.signature;
  return steps;
}

}  // namespace

std::string sha256_hex(std::span<const uint8_t> bytes) {
  Digest digest{};
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length != digest.size()) {
    std::abort();  // only on allocation failure
  }
  return hex(digest);
}

std::string sha256_hex(std::string_view text) {
  return sha256_hex(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    bool unreserved = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
                      (byte >= '0' && byte <= '9') || byte == '-' || byte == '.' || byte == '_' ||
                      byte == '~';
    if (unreserved || (keep_slash && byte == '/')) {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

std::string amz_date(int64_t now_ns) {
  timespec ts = to_timespec(now_ns);
  tm utc{};
  gmtime_r(&ts.tv_sec, &utc);
  char text[32];
  std::size_t n = strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return std::string(text, n);
}

std::array<uint8_t, 32> derive_signing_key(std::string_view secret, std::string_view yyyymmdd,
                                           std::string_view region, std::string_view service) {
  std::string first = "AWS4" + std::string(secret);
  Digest key = hmac_sha256(std::span(reinterpret_cast<const uint8_t*>(first.data()), first.size()),
                           yyyymmdd);
  key = hmac_sha256(key, region);
  key = hmac_sha256(key, service);
  return hmac_sha256(key, "aws4_request");
}

SignatureSteps signature_steps(const RequestToSign& request, const Credentials& credentials,
                               std::string_view region, int64_t now_ns) {
  std::string date = amz_date(now_ns);
  return steps_for(request, credentials, region, date, headers_to_send(request, credentials, date));
}

SignedRequest sign_v4(const RequestToSign& request, const Credentials& credentials,
                      std::string_view region, int64_t now_ns) {
  std::string date = amz_date(now_ns);
  SignedRequest signed_request;
  signed_request.headers = headers_to_send(request, credentials, date);
  SignatureSteps steps = steps_for(request, credentials, region, date, signed_request.headers);
  signed_request.headers.push_back({"authorization", std::move(steps.authorization)});
  signed_request.target = canonical_path(request);
  std::string query = canonical_query(request);
  if (!query.empty()) signed_request.target += "?" + query;
  return signed_request;
}

}  // namespace iafs::s3
