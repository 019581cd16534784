// The log's objects, log/<seq:020>, as the log thread sees the bucket
// (SCALEOUT.md §3, §5 step 4): created only if absent, read by seq.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "imageattachfs/result.h"

namespace iafs::s3 {
class Client;
}

namespace iafs::sync {

class LogBucket {
 public:
  virtual ~LogBucket() = default;

  enum class PutOutcome { kCreated, kExists };

  // PUTs log/<seq:020> with If-None-Match: *: kCreated (200), or kExists
  // (412 or 409: some entry, maybe ours, is there). An error means its fate
  // is unknown (timeout, 5xx after retries, connection lost): it may have
  // landed. Gives up by `deadline_monotonic_ns` (monotonic_ns()).
  virtual Result<PutOutcome> put_entry(uint64_t seq, std::string_view bytes,
                                       int64_t deadline_monotonic_ns) = 0;

  // GETs log/<seq:020>: its bytes, or nullopt when absent; an error (kIo)
  // when the bucket fails. Gives up by `deadline_monotonic_ns`.
  virtual Result<std::optional<std::string>> get_entry(uint64_t seq,
                                                       int64_t deadline_monotonic_ns) = 0;

  // The gap check (SCALEOUT.md §8): the seq of the first entry above `seq`
  // (LIST log/ after log/<seq>, one key), or nullopt when there is none.
  // Anything but seq + 1 means entries above `seq` were deleted.
  virtual Result<std::optional<uint64_t>> first_entry_after(uint64_t seq,
                                                            int64_t deadline_monotonic_ns) = 0;
};

// "log/00000000000000001234": the key of entry `seq`, under the mount's prefix.
std::string log_key(uint64_t seq);

// The seq a key "log/<20 digits>" names; nullopt for any other key.
std::optional<uint64_t> seq_of_log_key(std::string_view key);

// A LogBucket over `client` (which outlives it): the keys log_key() names,
// under the client's prefix.
std::unique_ptr<LogBucket> s3_log_bucket(s3::Client& client);

}  // namespace iafs::sync
