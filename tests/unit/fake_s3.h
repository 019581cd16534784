// A scripted HTTP transport and an S3 client over it, for unit tests of what
// the client and its users send and how they read S3's answers.
#pragma once

#include <criterion/criterion.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "s3/client.h"
#include "s3/credentials.h"
#include "s3/http.h"

namespace iafs::test {

using namespace iafs::s3;  // NOLINT(google-build-using-namespace): test helpers

// Replies from a script, in order (the last one repeats); records requests.
class FakeTransport final : public HttpTransport {
 public:
  struct Sent {
    HttpRequest request;
    std::string body;
  };
  std::vector<Result<HttpResponse>> script;
  std::vector<Sent> sent;

  // Run on each request before its answer is taken (tests of a failing transport).
  std::function<void(const HttpRequest&)> before;

  Result<HttpResponse> perform(const HttpRequest& request) override {
    if (before) before(request);
    std::lock_guard lock(mutex_);
    std::string body(request.body.begin(), request.body.end());
    if (request.source != nullptr) {  // read as curl would
      body.resize(request.source_size);
      Status read = request.source->read(
          request.source_offset,
          std::span<uint8_t>(reinterpret_cast<uint8_t*>(body.data()), body.size()));
      if (!read) return read.error();
    }
    sent.push_back(Sent{request, std::move(body)});
    size_t at = std::min(sent.size() - 1, script.size() - 1);
    return script.at(at);
  }

  const std::string* header(size_t n, const std::string& name) const {
    for (const Header& h : sent.at(n).request.headers) {
      if (h.name == name) return &h.value;
    }
    return nullptr;
  }

 private:
  std::mutex mutex_;
};

inline HttpResponse reply(long status, std::string body = "", std::vector<Header> headers = {}) {
  return HttpResponse{status, std::move(headers), std::move(body)};
}

inline std::string error_body(const std::string& code, const std::string& message = "m") {
  return "<?xml version=\"1.0\"?><Error><Code>" + code + "</Code><Message>" + message +
         "</Message></Error>";
}

// Environment variables the test can change.
struct FakeEnv {
  std::shared_ptr<std::map<std::string, std::string>> vars =
      std::make_shared<std::map<std::string, std::string>>();
  Environment environment() const {
    auto v = vars;
    return Environment{[v](const std::string& name) -> std::optional<std::string> {
                         auto it = v->find(name);
                         if (it == v->end()) return std::nullopt;
                         return it->second;
                       },
                       "/nonexistent-home"};
  }
};

inline MetadataFetch no_metadata() {
  return [](const MetadataRequest&) -> Result<MetadataReply> {
    return make_error(ErrorCode::kIo, "no network in unit tests");
  };
}

struct Fixture {
  FakeEnv env;
  FakeTransport http;
  std::unique_ptr<CredentialProvider> credentials;
  std::unique_ptr<Client> client;

  explicit Fixture(const std::string& spec = "bucket/site", bool path_style = true,
                   const std::string& endpoint = "http://127.0.0.1:7480") {
    (*env.vars)["AWS_ACCESS_KEY_ID"] = "AKIDFIRST";
    (*env.vars)["AWS_SECRET_ACCESS_KEY"] = "secret-first";
    credentials = std::make_unique<CredentialProvider>(env.environment(), "", no_metadata());
    auto location = make_location(spec, endpoint, "us-east-1", path_style);
    cr_assert(location.ok(), "%s", location.ok() ? "" : location.error().message.c_str());
    client = std::make_unique<Client>(*location, *credentials, http);
  }
};

}  // namespace iafs::test
