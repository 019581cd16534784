// Serialization of records to LMDB values: a version byte, then fixed-width
// little-endian fields (and, for SetRecord, the extension).
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "imageattachfs/records.h"
#include "store/lmdb.h"

namespace iafs {

// A blob's bookkeeping, private to the store.
struct BlobRecord {
  uint64_t size = 0;
  uint64_t xxh3 = 0;  // XXH3-64 of the bytes, for integrity checks
  uint32_t refs = 0;  // records pointing at it; 0: to be freed
  // Whether its bytes are in `chunks`. A store on a bucket records blobs that
  // other hosts committed before it holds their bytes (fetched when read).
  bool cached = true;
  // Not cached: the bytes of its ranges (Store::kRangeBytes each) that are
  // in `chunks` all the same, fetched one range at a time (SCALEOUT.md §10);
  // `size` once all are there, until they are checked and it is cached.
  uint64_t partial = 0;
};

// The bytes of blob `record` that `chunks` holds.
inline uint64_t held_bytes(const BlobRecord& record) {
  return record.cached ? record.size : record.partial;
}

std::vector<uint8_t> encode_record(const SetRecord& record);
std::vector<uint8_t> encode_record(const ThumbRecord& record);
std::vector<uint8_t> encode_record(const BlobRecord& record);

// decode_record<SetRecord>(bytes), ...: nullopt when malformed.
template <typename Record>
std::optional<Record> decode_record(std::span<const uint8_t> bytes);

template <>
std::optional<SetRecord> decode_record<SetRecord>(std::span<const uint8_t> bytes);
template <>
std::optional<ThumbRecord> decode_record<ThumbRecord>(std::span<const uint8_t> bytes);
template <>
std::optional<BlobRecord> decode_record<BlobRecord>(std::span<const uint8_t> bytes);

// What a record is called in "corrupt record" messages.
inline const char* record_name(const SetRecord*) { return "set"; }
inline const char* record_name(const ThumbRecord*) { return "thumbnail"; }
inline const char* record_name(const BlobRecord*) { return "blob"; }

// kIo "corrupt record: `what`".
inline Error corrupt_record(std::string_view what) {
  return make_error(ErrorCode::kIo, "corrupt record: " + std::string(what));
}

// The record of type `Record` under `key`, decoded; nullopt when absent.
// A malformed value is kIo ("corrupt record: set").
template <typename Record>
Result<std::optional<Record>> get_record(StoreTxn& txn, MDB_dbi dbi, std::span<const uint8_t> key) {
  auto found = txn.get(dbi, key);
  if (!found) return found.error();
  if (!found->has_value()) return std::optional<Record>();
  std::optional<Record> record = decode_record<Record>(**found);
  if (!record) return corrupt_record(record_name(static_cast<Record*>(nullptr)));
  return record;
}

// Calls `fn` with each set record of `txn` in key order (its key and the
// record decoded); stops at the first error `fn` returns. A malformed
// record is kIo ("corrupt record: set").
Status for_each_set(
    StoreTxn& txn,
    const std::function<Status(std::span<const uint8_t> key, std::span<const uint8_t> value,
                               const SetRecord& record)>& fn);

}  // namespace iafs
