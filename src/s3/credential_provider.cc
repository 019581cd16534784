// The thread-safe holder of the chain's credentials (credentials.h).
#include "base/clock.h"
#include "log/log.h"
#include "s3/credentials.h"

namespace iafs::s3 {
namespace {

constexpr int64_t kRefreshBeforeNs = int64_t{300} * kNanosPerSecond;  // 5 min
constexpr int64_t kRetryAfterNs = int64_t{10} * kNanosPerSecond;

}  // namespace

CredentialProvider::CredentialProvider(Environment env, std::string profile, MetadataFetch fetch)
    : env_(std::move(env)), profile_(std::move(profile)), fetch_(std::move(fetch)) {}

bool CredentialProvider::usable(int64_t now_ns) const {
  return current_ && !expired_ && (current_->expires_ns == 0 || now_ns < current_->expires_ns);
}

bool CredentialProvider::wants_reload(int64_t now_ns) const {
  if (!usable(now_ns)) return true;
  return current_->expires_ns != 0 && now_ns >= current_->expires_ns - kRefreshBeforeNs &&
         now_ns >= next_attempt_ns_;
}

Result<Credentials> CredentialProvider::get(int64_t now_ns) {
  std::unique_lock lock(mutex_);
  const uint64_t loads_before = loads_;
  for (;;) {
    if (!wants_reload(now_ns)) return *current_;
    if (!loading_) break;
    if (usable(now_ns)) return *current_;  // another thread refreshes: the old ones still do
    reloaded_.wait(lock);
  }
  // A load finished while this thread waited and failed: its answer is this one's.
  if (loads_ != loads_before && last_error_) return *last_error_;
  loading_ = true;
  lock.unlock();
  Result<Credentials> loaded = load_credentials(env_, profile_, fetch_);
  lock.lock();
  loading_ = false;
  ++loads_;
  next_attempt_ns_ = now_ns + kRetryAfterNs;
  reloaded_.notify_all();
  if (loaded.ok()) {
    log_info("S3 credentials from " + loaded->source);
    current_ = std::move(loaded.value());
    expired_ = false;
    last_error_.reset();
    return *current_;
  }
  last_error_ = loaded.error();
  if (usable(now_ns)) {
    log_warning("S3 credentials: refresh failed, the current ones stay until they expire: " +
                loaded.error().message);
    return *current_;
  }
  return loaded.error();
}

void CredentialProvider::expire() {
  std::lock_guard lock(mutex_);
  expired_ = true;
}

void CredentialProvider::expire(const Credentials& rejected) {
  std::lock_guard lock(mutex_);
  if (current_ && current_->access_key_id == rejected.access_key_id &&
      current_->session_token == rejected.session_token) {
    expired_ = true;
  }
}

}  // namespace iafs::s3
