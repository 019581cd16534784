// Snapshot indexes, heartbeats and the truncation point (SCALEOUT.md §8).
#include "sync/snapshots.h"

#include <criterion/criterion.h>

#include <string>
#include <vector>

#include "sync/maintenance.h"

using namespace iafs;
using namespace iafs::sync;

Test(snapshots, an_index_reads_back_as_written) {
  SnapshotIndex index;
  index.seq = 1234;
  index.entry_sha256 = std::string(64, 'a');
  index.time_ns = 1764070000123456789;
  index.host = "11111111-2222-4333-8444-555555555555";
  index.parts = {{snapshot_prefix(1234) + index.host + "/000000.zst", 99, 0x0123456789abcdefu},
                 {snapshot_prefix(1234) + index.host + "/000001.zst", 7, 1}};
  index.records = 42;
  index.stream_sha256 = std::string(64, 'b');
  std::string bytes = encode_snapshot_index(index);
  cr_assert(bytes.starts_with("{\"format\":1,\"seq\":1234,"), "%s", bytes.c_str());
  auto back = decode_snapshot_index(bytes);
  cr_assert(back.ok(), "%s", back.ok() ? "" : back.error().message.c_str());
  cr_assert(back->seq == 1234 && back->time_ns == index.time_ns && back->host == index.host);
  cr_assert(back->records == 42 && back->stream_sha256 == index.stream_sha256);
  cr_assert_eq(back->parts.size(), 2);
  cr_assert(back->parts[0].key == index.parts[0].key && back->parts[0].bytes == 99 &&
            back->parts[0].xxh3 == 0x0123456789abcdefu);
  cr_assert_eq(encode_snapshot_index(*back), bytes);
}

Test(snapshots, a_malformed_index_is_refused) {
  SnapshotIndex index;
  index.seq = 5;
  index.entry_sha256 = std::string(64, 'a');
  index.stream_sha256 = std::string(64, 'b');
  index.parts = {{"snap/00000000000000000004/h/000000.zst", 1, 1}};  // another seq's part
  std::string good = encode_snapshot_index(
      SnapshotIndex{5, index.entry_sha256, 0, "h", {}, 0, index.stream_sha256});
  cr_assert(decode_snapshot_index(good).ok());
  for (const std::string& bad :
       {encode_snapshot_index(index), std::string("{}"), std::string("not json"),
        std::string(good).replace(good.find("\"format\":1"), 10, "\"format\":2")}) {
    auto decoded = decode_snapshot_index(bad);
    cr_assert(!decoded.ok() && decoded.error().code == ErrorCode::kInvalid, "%s", bad.c_str());
  }
}

Test(snapshots, a_heartbeat_holds_its_hosts_cursor) {
  std::string bytes = encode_heartbeat("host-a", 77, true, 123);
  cr_assert_eq(heartbeat_cursor(bytes).value_or(0), 77u);
  cr_assert(bytes.find("\"mode\":\"maintain\"") != std::string::npos);
  cr_assert(!heartbeat_cursor("{\"host\":\"x\"}").has_value());
  cr_assert(!heartbeat_cursor("garbage").has_value());
}

Test(snapshots, the_log_is_truncated_below_the_second_newest_snapshot_and_every_cursor) {
  cr_assert_eq(truncation_point({}, {}), 0u);
  cr_assert_eq(truncation_point({100}, {500}), 0u, "one snapshot: nothing deleted");
  cr_assert_eq(truncation_point({100, 200}, {500}), 100u);
  cr_assert_eq(truncation_point({100, 200, 300}, {500, 250}), 200u);
  cr_assert_eq(truncation_point({100, 200, 300}, {500, 40}), 40u, "a lagging host holds it back");
  cr_assert_eq(truncation_point({100, 200}, {0}), 0u, "a host replaying from log/1");
}
