#include "sync/log_bucket.h"

#include <cstdio>
#include <span>

#include "log/log.h"
#include "s3/client.h"

namespace iafs::sync {

namespace {

class S3LogBucket final : public LogBucket {
 public:
  explicit S3LogBucket(s3::Client& client) : client_(client) {}

  Result<PutOutcome> put_entry(uint64_t seq, std::string_view bytes,
                               int64_t deadline_monotonic_ns) override {
    s3::PutOptions options;
    options.if_none_match = true;
    options.content_type = "application/json";
    std::span<const uint8_t> body(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    Result<s3::PutResult> put =
        client_.put(log_key(seq), body, options, s3::Deadline{deadline_monotonic_ns});
    if (!put) return put.error();
    return *put == s3::PutResult::kCreated ? PutOutcome::kCreated : PutOutcome::kExists;
  }

  Result<std::optional<std::string>> get_entry(uint64_t seq,
                                               int64_t deadline_monotonic_ns) override {
    Result<std::optional<s3::Object>> got =
        client_.get(log_key(seq), std::nullopt, s3::Deadline{deadline_monotonic_ns});
    if (!got) return got.error();
    if (!got->has_value()) return std::optional<std::string>();
    return std::optional<std::string>(std::move((*got)->bytes));
  }

  Result<std::optional<uint64_t>> first_entry_after(uint64_t seq,
                                                    int64_t deadline_monotonic_ns) override {
    s3::ListQuery query;
    query.prefix = "log/";
    query.start_after = log_key(seq);
    query.max_keys = 10;
    for (;;) {
      auto page = client_.list(query, s3::Deadline{deadline_monotonic_ns});
      if (!page) return page.error();
      // Keys not of the log's form ("log/README") are skipped, with a line.
      for (const s3::ListedObject& object : page->objects) {
        if (std::optional<uint64_t> next = seq_of_log_key(object.key)) return next;
        log_warning("s3: a stray key in log/ is ignored: " + object.key);
      }
      if (page->next_token.empty()) return std::optional<uint64_t>();
      query.continuation_token = page->next_token;
    }
  }

 private:
  s3::Client& client_;
};

}  // namespace

std::string log_key(uint64_t seq) {
  char digits[21];
  std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(seq));
  return std::string("log/") + digits;
}

std::optional<uint64_t> seq_of_log_key(std::string_view key) {
  if (key.size() != 24 || !key.starts_with("log/") ||
      key.find_first_not_of("0123456789", 4) != std::string_view::npos) {
    return std::nullopt;
  }
  uint64_t seq = 0;
  for (char c : key.substr(4)) {
    if (seq > (UINT64_MAX - 9) / 10) return std::nullopt;
    seq = seq * 10 + static_cast<uint64_t>(c - '0');
  }
  return seq;
}

std::unique_ptr<LogBucket> s3_log_bucket(s3::Client& client) {
  return std::make_unique<S3LogBucket>(client);
}

}  // namespace iafs::sync
