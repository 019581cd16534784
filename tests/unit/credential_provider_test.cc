// Unit tests of CredentialProvider (s3/credentials.h): one load, refresh 5
// min before Expiration and after expire(), valid old credentials kept while
// a refresh fails, one load for many threads at once.
#include <criterion/criterion.h>

#include <atomic>
#include <thread>

#include "fake_aws.h"

using namespace iafs;
using namespace iafs::s3;
using iafs::test::FakeMetadata;

namespace {

constexpr int64_t kSecond = 1000000000;
constexpr int64_t kExpiry = int64_t{1796126400} * kSecond;  // 2026-12-01T12:00:00Z
const char* const kToken = "PUT http://169.254.169.254/latest/api/token";
const char* const kRoles = "GET http://169.254.169.254/latest/meta-data/iam/security-credentials/";
const std::string kRole = std::string(kRoles) + "web";

// IMDS answers with key `id` valid until `expiration` (appended to the script).
void script_key(FakeMetadata& metadata, const std::string& id, const std::string& expiration) {
  metadata.script(kToken, MetadataReply{200, "t"});
  metadata.script(kRoles, MetadataReply{200, "web"});
  metadata.script(kRole, MetadataReply{200, test::json_credentials(id, "s", "tok", expiration)});
}

CredentialProvider provider_for(FakeMetadata& metadata) {
  return CredentialProvider(test::fake_environment({}, test::fake_home()), "", metadata.fetch());
}

std::size_t role_fetches(FakeMetadata& metadata) {
  std::size_t n = 0;
  for (const MetadataRequest& r : metadata.requests()) n += r.url == kRole.substr(4);
  return n;
}

}  // namespace

Test(credential_provider, loads_once_while_valid) {
  FakeMetadata metadata;
  script_key(metadata, "KEY1", "2026-12-01T12:00:00Z");
  script_key(metadata, "KEY2", "2026-12-01T18:00:00Z");
  CredentialProvider provider = provider_for(metadata);
  for (int64_t t : {kExpiry - 3600 * kSecond, kExpiry - 600 * kSecond, kExpiry - 301 * kSecond}) {
    auto c = provider.get(t);
    cr_assert(c.ok());
    cr_assert_eq(c->access_key_id, "KEY1");
  }
  cr_assert_eq(role_fetches(metadata), 1u);
}

Test(credential_provider, refreshes_five_minutes_before_expiration) {
  FakeMetadata metadata;
  script_key(metadata, "KEY1", "2026-12-01T12:00:00Z");
  script_key(metadata, "KEY2", "2026-12-01T18:00:00Z");
  CredentialProvider provider = provider_for(metadata);
  cr_assert_eq(provider.get(kExpiry - 3600 * kSecond)->access_key_id, "KEY1");
  cr_assert_eq(provider.get(kExpiry - 300 * kSecond - 1)->access_key_id, "KEY1");
  cr_assert_eq(provider.get(kExpiry - 300 * kSecond)->access_key_id, "KEY2");
  cr_assert_eq(provider.get(kExpiry + 3600 * kSecond)->access_key_id, "KEY2");
  cr_assert_eq(role_fetches(metadata), 2u);
}

Test(credential_provider, reloads_after_expire_and_static_ones_too) {
  std::string home = test::fake_home();
  test::write_file(home + "/.aws/credentials",
                   "[default]\naws_access_key_id = OLD\naws_secret_access_key = s\n");
  FakeMetadata metadata;
  CredentialProvider provider(test::fake_environment({}, home), "", metadata.fetch());
  Credentials old = *provider.get(kExpiry);
  cr_assert_eq(old.access_key_id, "OLD");
  cr_assert_eq(old.expires_ns, 0);
  test::write_file(home + "/.aws/credentials",
                   "[default]\naws_access_key_id = NEW\naws_secret_access_key = s\n");
  cr_assert_eq(provider.get(kExpiry + 86400 * kSecond)->access_key_id, "OLD");  // no reload
  provider.expire();
  cr_assert_eq(provider.get(kExpiry)->access_key_id, "NEW");
  provider.expire(old);  // refused credentials that are no longer current: no reload
  test::write_file(home + "/.aws/credentials",
                   "[default]\naws_access_key_id = NEWER\naws_secret_access_key = s\n");
  cr_assert_eq(provider.get(kExpiry)->access_key_id, "NEW");
}

Test(credential_provider, keeps_valid_credentials_while_a_refresh_fails) {
  FakeMetadata metadata;
  script_key(metadata, "KEY1", "2026-12-01T12:00:00Z");
  CredentialProvider provider = provider_for(metadata);
  cr_assert_eq(provider.get(kExpiry - 3600 * kSecond)->access_key_id, "KEY1");
  metadata.answer(kRole, 500, "");
  int64_t t = kExpiry - 200 * kSecond;
  std::string log =
      test::captured_stderr([&] { cr_assert_eq(provider.get(t)->access_key_id, "KEY1"); });
  cr_assert(log.find("warning: S3 credentials: refresh failed") != std::string::npos, "%s",
            log.c_str());
  cr_assert(log.find("tok") == std::string::npos);
  cr_assert_eq(role_fetches(metadata), 2u);
  cr_assert_eq(provider.get(t + 9 * kSecond)->access_key_id, "KEY1");  // no retry within 10 s
  cr_assert_eq(role_fetches(metadata), 2u);
  cr_assert_eq(provider.get(t + 10 * kSecond)->access_key_id, "KEY1");
  cr_assert_eq(role_fetches(metadata), 3u);
  auto expired = provider.get(kExpiry);  // expired and the source still fails
  cr_assert_not(expired.ok());
  cr_assert(expired.error().code == ErrorCode::kIo);
  provider.expire();
  cr_assert_not(provider.get(kExpiry - 3600 * kSecond).ok());
  metadata.answer(kRole, 200, test::json_credentials("KEY3", "s", "tok", "2026-12-02T12:00:00Z"));
  cr_assert_eq(provider.get(kExpiry)->access_key_id, "KEY3");
}

Test(credential_provider, many_threads_load_once) {
  FakeMetadata metadata;
  script_key(metadata, "KEY1", "2026-12-01T12:00:00Z");
  script_key(metadata, "KEY2", "2026-12-01T18:00:00Z");
  script_key(metadata, "KEY3", "2026-12-02T18:00:00Z");
  CredentialProvider provider = provider_for(metadata);
  constexpr int kThreads = 8;
  std::atomic<int> ready{0};
  std::atomic<int> wrong{0};
  auto run = [&](auto body) {
    ready = 0;
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&] {
        ++ready;
        while (ready < kThreads) std::this_thread::yield();
        body();
      });
    }
    for (std::thread& thread : threads) thread.join();
  };
  run([&] {
    for (int i = 0; i < 100; ++i) {
      auto c = provider.get(kExpiry - 3600 * kSecond + i);
      if (!c.ok() || c->access_key_id != "KEY1") ++wrong;
    }
  });
  cr_assert_eq(wrong.load(), 0);
  cr_assert_eq(role_fetches(metadata), 1u);
  // Every thread is refused at once (ExpiredToken) and reports the same credentials.
  Credentials refused = *provider.get(kExpiry - 3600 * kSecond);
  run([&] {
    provider.expire(refused);
    auto c = provider.get(kExpiry - 3600 * kSecond);
    if (!c.ok() || c->access_key_id == "KEY1") ++wrong;
  });
  cr_assert_eq(wrong.load(), 0);
  cr_assert_eq(role_fetches(metadata), 2u);
  // Inside the refresh window: one refresh, the others use the still valid ones meanwhile.
  run([&] {
    for (int i = 0; i < 50; ++i) {
      auto c = provider.get(kExpiry + (6 * 3600 - 200) * kSecond + i);
      if (!c.ok() || (c->access_key_id != "KEY2" && c->access_key_id != "KEY3")) ++wrong;
    }
  });
  cr_assert_eq(wrong.load(), 0);
  cr_assert_eq(role_fetches(metadata), 3u);
  cr_assert_eq(provider.get(kExpiry + (6 * 3600 - 100) * kSecond)->access_key_id, "KEY3");
}
