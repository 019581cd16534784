// Fakes for the S3 credential chain's tests: an Environment from a map, a
// MetadataFetch that answers from a script and records every request, files
// in a temporary home, and a capture of the log's lines.
#pragma once

#include <criterion/criterion.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "s3/credentials.h"
#include "temp_dirs.h"

namespace iafs::test {

inline s3::Environment fake_environment(std::map<std::string, std::string> vars, std::string home) {
  s3::Environment env;
  env.getenv = [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  env.home = std::move(home);
  return env;
}

// Answers "METHOD URL" from its script: each reply once, the last one for
// ever; no script for a request: an Error ("timed out"). Thread-safe.
class FakeMetadata {
 public:
  // Appends `reply` to the script of `method_url`.
  void script(const std::string& method_url, Result<s3::MetadataReply> reply) {
    std::lock_guard lock(mutex_);
    replies_[method_url].push_back(std::move(reply));
  }
  // Replaces the script of `method_url` with one reply.
  void answer(const std::string& method_url, long status, std::string body) {
    {
      std::lock_guard lock(mutex_);
      replies_.erase(method_url);
    }
    script(method_url, s3::MetadataReply{status, std::move(body)});
  }
  s3::MetadataFetch fetch() {
    return [this](const s3::MetadataRequest& request) -> Result<s3::MetadataReply> {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
      auto it = replies_.find(request.method + " " + request.url);
      if (it == replies_.end() || it->second.empty()) {
        return make_error(ErrorCode::kIo,
                          "timed out after " + std::to_string(request.timeout_ms) + " ms");
      }
      Result<s3::MetadataReply> reply = it->second.front();
      if (it->second.size() > 1) it->second.pop_front();
      return reply;
    };
  }
  std::vector<s3::MetadataRequest> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::deque<Result<s3::MetadataReply>>> replies_;
  std::vector<s3::MetadataRequest> requests_;
};

inline std::string header_of(const s3::MetadataRequest& request, const std::string& name) {
  for (const s3::Header& header : request.headers) {
    if (header.name == name) return header.value;
  }
  return "(absent)";
}

inline void write_file(const std::string& path, const std::string& content, mode_t mode = 0600) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  chmod(path.c_str(), mode);
}

// A temporary home with an empty .aws directory.
inline std::string fake_home() {
  std::string home = temp_dir("aws");
  mkdir((home + "/.aws").c_str(), 0700);
  return home;
}

// What `run` writes to stderr (where the log goes in the foreground).
template <typename F>
std::string captured_stderr(F run) {
  std::fflush(stderr);
  std::string path = temp_dir("stderr") + "/log";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int saved = dup(2);
  dup2(fd, 2);
  close(fd);
  run();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A JSON reply as IMDS and the container endpoint give it.
inline std::string json_credentials(const std::string& id, const std::string& secret,
                                    const std::string& token, const std::string& expiration) {
  return "{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : \"2026-12-01T11:00:00Z\",\n"
         "  \"Type\" : \"AWS-HMAC\",\n  \"AccessKeyId\" : \"" +
         id + "\",\n  \"SecretAccessKey\" : \"" + secret + "\",\n  \"Token\" : \"" + token +
         "\",\n  \"Expiration\" : \"" + expiration + "\"\n}\n";
}

// The IMDSv2 requests, as FakeMetadata keys.
inline const char* const kImdsToken = "PUT http://169.254.169.254/latest/api/token";
inline const char* const kImdsRoles =
    "GET http://169.254.169.254/latest/meta-data/iam/security-credentials/";

// load_credentials with a fake environment.
inline Result<s3::Credentials> load(std::map<std::string, std::string> vars,
                                    const std::string& home, FakeMetadata& metadata,
                                    std::string_view profile = "") {
  return s3::load_credentials(fake_environment(std::move(vars), home), profile, metadata.fetch());
}

// IMDSv2 with role "web" and key `id`.
inline void script_imds(FakeMetadata& metadata, const std::string& id,
                        const std::string& expiration) {
  metadata.answer(kImdsToken, 200, "imds-session-token");
  metadata.answer(kImdsRoles, 200, "web\n");
  metadata.answer(std::string(kImdsRoles) + "web", 200,
                  json_credentials(id, "SeCrEt-imds", "ToKeN-imds", expiration));
}

// The tests' secrets all hold one of these.
inline void assert_no_secret(const std::string& message) {
  for (const char* secret : {"SeCrEt", "ToKeN", "jwt-"}) {
    cr_assert(message.find(secret) == std::string::npos, "secret in: %s", message.c_str());
  }
}

}  // namespace iafs::test
