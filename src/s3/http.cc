#include "s3/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <mutex>

namespace iafs::s3 {

const std::string* HttpResponse::header(std::string_view name) const {
  for (const Header& h : headers) {
    if (h.name == name) return &h.value;
  }
  return nullptr;
}

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                           text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// What one transfer's callbacks share.
struct Transfer {
  const HttpRequest* request = nullptr;
  size_t sent = 0;
  bool too_big = false;
  std::string read_error;  // the body source failed
  HttpResponse response;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t length = size * count;
  if (t->response.body.size() + length > t->request->max_body) {
    t->too_big = true;
    return 0;  // curl fails the transfer (CURLE_WRITE_ERROR)
  }
  t->response.body.append(data, length);
  return length;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    t->response.headers.clear();  // a new reply (after 100 Continue)
  } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    t->response.headers.push_back(
        Header{lowercase(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1)))});
  }
  return size * count;
}

size_t on_read(char* out, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (const BlobSource* source = t->request->source) {
    size_t n = std::min<uint64_t>(t->request->source_size - t->sent, size * count);
    Status read = source->read(t->request->source_offset + t->sent,
                               std::span<uint8_t>(reinterpret_cast<uint8_t*>(out), n));
    if (!read) {
      t->read_error = read.error().message;
      return CURL_READFUNC_ABORT;
    }
    t->sent += n;
    return n;
  }
  std::span<const uint8_t> rest = t->request->body.subspan(t->sent);
  size_t n = std::min(rest.size(), size * count);
  std::memcpy(out, rest.data(), n);
  t->sent += n;
  return n;
}

bool has_line_break(std::string_view text) {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

class CurlTransport final : public HttpTransport {
 public:
  CurlTransport() : share_(curl_share_init()) {
    curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, &CurlTransport::lock);
    curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &CurlTransport::unlock);
    curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  }

  ~CurlTransport() override {
    for (CURL* handle : idle_) curl_easy_cleanup(handle);
    curl_share_cleanup(share_);
  }

  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  Result<HttpResponse> perform(const HttpRequest& request) override {
    std::string what = request.label.empty() ? request.method + " " + request.url : request.label;
    if (has_line_break(request.url)) return make_error(ErrorCode::kInvalid, "a URL with a line break");
    curl_slist* headers = nullptr;
    // No 100-continue round trip and no default Accept; no form content type
    // unless the request names one.
    headers = curl_slist_append(headers, "Expect:");
    headers = curl_slist_append(headers, "Accept:");
    bool typed = std::any_of(request.headers.begin(), request.headers.end(),
                             [](const Header& h) { return h.name == "content-type"; });
    if (!typed) headers = curl_slist_append(headers, "Content-Type:");
    for (const Header& h : request.headers) {
      if (has_line_break(h.name) || has_line_break(h.value) || h.name.empty()) {
        curl_slist_free_all(headers);
        return make_error(ErrorCode::kInvalid, what + ": bad header " + h.name);
      }
      // curl's syntax: "name;" sends an empty value, "name:" would drop it.
      std::string line = h.value.empty() ? h.name + ";" : h.name + ": " + h.value;
      headers = curl_slist_append(headers, line.c_str());
    }
    CURL* handle = acquire();
    Transfer transfer;
    transfer.request = &request;
    std::array<char, CURL_ERROR_SIZE> message{};
    Status set = configure(handle, request, headers, transfer, message.data());
    CURLcode code = set.ok() ? curl_easy_perform(handle) : CURLE_OK;
    long status = 0;
    if (set.ok() && code == CURLE_OK) curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, nullptr);
    curl_slist_free_all(headers);
    release(handle);
    if (!set.ok()) return set.error();
    if (!transfer.read_error.empty()) {
      return make_error(ErrorCode::kIo, what + ": reading the body: " + transfer.read_error);
    }
    if (transfer.too_big) {
      return make_error(ErrorCode::kIo, what + ": reply over " +
                                            std::to_string(request.max_body) + " bytes");
    }
    if (code != CURLE_OK) {
      std::string detail = message[0] != '\0' ? message.data() : curl_easy_strerror(code);
      return make_error(ErrorCode::kIo, what + ": " + detail);
    }
    transfer.response.status = status;
    return std::move(transfer.response);
  }

 private:
  static Status configure(CURL* h, const HttpRequest& r, curl_slist* headers, Transfer& t,
                          char* message) {
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, message);
    curl_easy_setopt(h, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max(r.timeout_ms, 0)));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 65536L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 10L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
    if (r.method == "GET") {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (r.method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (r.method == "PUT") {
      curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(h, CURLOPT_READFUNCTION, &on_read);
      curl_easy_setopt(h, CURLOPT_READDATA, &t);
      uint64_t size = r.source != nullptr ? r.source_size : r.body.size();
      curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
    } else if (r.method == "POST" && r.source == nullptr) {
      curl_easy_setopt(h, CURLOPT_POST, 1L);
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, r.body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    } else if (r.method == "DELETE") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
    } else {
      return make_error(ErrorCode::kInvalid, "HTTP method " + r.method + " is not supported");
    }
    return Status{};
  }

  CURL* acquire() {
    {
      std::lock_guard lock(idle_mutex_);
      if (!idle_.empty()) {
        CURL* handle = idle_.back();
        idle_.pop_back();
        curl_easy_reset(handle);  // keeps its live connections
        curl_easy_setopt(handle, CURLOPT_SHARE, share_);
        return handle;
      }
    }
    CURL* handle = curl_easy_init();
    curl_easy_setopt(handle, CURLOPT_SHARE, share_);
    return handle;
  }

  void release(CURL* handle) {
    std::lock_guard lock(idle_mutex_);
    idle_.push_back(handle);
  }

  static void lock(CURL*, curl_lock_data data, curl_lock_access, void* self) {
    static_cast<CurlTransport*>(self)->locks_.at(static_cast<size_t>(data)).lock();
  }
  static void unlock(CURL*, curl_lock_data data, void* self) {
    static_cast<CurlTransport*>(self)->locks_.at(static_cast<size_t>(data)).unlock();
  }

  CURLSH* share_;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> locks_;
  std::mutex idle_mutex_;
  std::vector<CURL*> idle_;
};

bool valid_host(std::string_view host) {
  if (host.empty()) return false;
  if (host.front() == '[') return host.size() > 2 && host.back() == ']';
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
  });
}

}  // namespace

std::unique_ptr<HttpTransport> make_curl_transport() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  return std::make_unique<CurlTransport>();
}

Result<Url> parse_url(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return make_error(ErrorCode::kInvalid,
                      "bad URL '" + std::string(text) + "': " + std::string(why));
  };
  size_t colon = text.find("://");
  if (colon == std::string_view::npos) return bad("expected http:// or https://");
  Url url;
  url.scheme = lowercase(text.substr(0, colon));
  if (url.scheme != "http" && url.scheme != "https") return bad("expected http:// or https://");
  std::string_view rest = text.substr(colon + 3);
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (rest.find_first_of("?#") != std::string_view::npos) return bad("no query or fragment");
  if (authority.find('@') != std::string_view::npos) return bad("no user name in it");
  if (path.find_first_of(" \r\n\t") != std::string_view::npos) return bad("spaces in the path");
  std::string_view host = authority;
  size_t port_colon = authority.rfind(':');
  if (port_colon != std::string_view::npos && authority.find(']', port_colon) == std::string_view::npos) {
    host = authority.substr(0, port_colon);
    std::string_view port = authority.substr(port_colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoul(std::string(port)) == 0 || std::stoul(std::string(port)) > 65535) {
      return bad("bad port");
    }
  }
  if (!valid_host(host)) return bad("bad host");
  url.host = lowercase(host);
  url.authority = lowercase(authority);
  url.path = std::string(path);
  return url;
}

}  // namespace iafs::s3
