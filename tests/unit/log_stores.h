// Stores on a bucket for unit tests: a store tied to a log, entries after
// its cursor, and the ops they carry.
#pragma once

#include <criterion/criterion.h>

#include <memory>
#include <string>
#include <vector>

#include "store/hashing.h"
#include "store/store.h"
#include "temp_dirs.h"

namespace iafs::test {

inline const std::string kOrigin(64, 'a');

inline std::unique_ptr<Store> open_store(const std::string& dir) {
  StoreOptions options;
  options.map_size = 1ull << 30;
  auto store = Store::open(dir, options);
  cr_assert(store.ok(), "open: %s", store.ok() ? "" : store.error().message.c_str());
  return std::move(store).value();
}

inline std::unique_ptr<Store> log_store() {
  auto store = open_store(test::temp_dir("store-log-test"));
  cr_assert(store->begin_log(kOrigin).ok());
  return store;
}

inline ImageSetKey set_of(uint64_t id, uint32_t index = 0) {
  return ImageSetKey{"posts", EntityId{true, id, std::to_string(id)}, "photos", index};
}

inline std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

inline LoggedOp attach_op(const ImageSetKey& set, const std::vector<uint8_t>& bytes,
                          const std::string& ext = "jpg") {
  AttachOriginal op;
  op.set = set;
  op.blob = sha256_of(bytes);
  op.size = bytes.size();
  op.xxh3 = xxh3_of(bytes);
  op.ext = ext;
  op.width = 10;
  op.height = 5;
  return LoggedOp{Op{op, 0}, ""};
}

inline LoggedEntry entry_after(Store& store, std::vector<LoggedOp> ops, int64_t time_ns) {
  auto cursor = store.log_cursor();
  cr_assert(cursor.ok());
  LoggedEntry entry;
  entry.seq = cursor->seq + 1;
  entry.prev_sha256 = cursor->sha256_hex;
  entry.sha256 = std::string(63, 'b') + std::to_string(entry.seq % 10);
  entry.time_ns = time_ns;
  entry.ops = std::move(ops);
  return entry;
}

inline std::vector<Result<ApplyOutcome>> apply(Store& store, const LoggedEntry& entry) {
  auto applied = store.apply_logged(entry);
  cr_assert(applied.ok(), "apply_logged: %s", applied.ok() ? "" : applied.error().message.c_str());
  return std::move(applied).value();
}

}  // namespace iafs::test
