// Store: the derived state of a bucket's store as a snapshot holds it
// (SCALEOUT.md §8). The stream is a run of records,
//   u32 BE n | u8 table | u16 BE key length | key | value   (n: the bytes after it)
// tables in this order, keys ascending within each: 'd' the directory mtimes
// (their meta keys), 'g' garbage collection's state (its meta keys,
// store_gc.cc), 'n' the thumbnail objects' generations (their meta keys,
// store_thumb_gen.cc), 's' the image sets, 'b' the blob record of each
// original the sets name (refs counted from the sets, not cached). It holds
// nothing local (thumbnails, cached bytes, revisions of this host), so every
// host at one cursor dumps the same bytes.
#include <map>

#include "store/keys.h"
#include "store/records.h"
#include "store/store.h"

namespace iafs {
namespace {

constexpr uint8_t kDirTable = 'd';
constexpr uint8_t kGcTable = 'g';
constexpr uint8_t kGenTable = 'n';
constexpr uint8_t kSetTable = 's';
constexpr uint8_t kBlobTable = 'b';
const uint8_t kTableOrder[] = {kDirTable, kGcTable, kGenTable, kSetTable, kBlobTable};
const uint8_t kGcPrefix[] = {'g', 'c', '-'};

// Appends records to parts of at most `part_bytes` (a part holds one record at least).
class DumpWriter {
 public:
  DumpWriter(DerivedDump& dump, size_t part_bytes) : dump_(dump), part_bytes_(part_bytes) {}

  Status add(uint8_t table, std::span<const uint8_t> key, std::span<const uint8_t> value) {
    if (key.size() > 0xffff) return make_error(ErrorCode::kIo, "a key too long to dump");
    size_t n = 1 + 2 + key.size() + value.size();
    if (dump_.parts.empty() ||
        (dump_.parts.back().size() + 4 + n > part_bytes_ && !dump_.parts.back().empty())) {
      dump_.parts.emplace_back();
    }
    std::string& out = dump_.parts.back();
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
    out.push_back(static_cast<char>(table));
    out.push_back(static_cast<char>(key.size() >> 8));
    out.push_back(static_cast<char>(key.size()));
    out.append(reinterpret_cast<const char*>(key.data()), key.size());
    out.append(reinterpret_cast<const char*>(value.data()), value.size());
    ++dump_.records;
    return Status::Ok();
  }

 private:
  DerivedDump& dump_;
  size_t part_bytes_;
};

struct StreamRecord {
  uint8_t table = 0;
  std::span<const uint8_t> key;
  std::span<const uint8_t> value;
};

Error bad_stream(const std::string& why) {
  return make_error(ErrorCode::kInvalid, "snapshot stream: " + why);
}

// The records of `parts`, checked for framing, table order and key order.
Result<std::vector<StreamRecord>> parse_stream(const std::vector<std::string>& parts) {
  std::vector<StreamRecord> records;
  size_t table_at = 0;
  std::span<const uint8_t> last_key;
  for (const std::string& part : parts) {
    std::span<const uint8_t> rest(reinterpret_cast<const uint8_t*>(part.data()), part.size());
    while (!rest.empty()) {
      if (rest.size() < 7) return bad_stream("a record cut short");
      uint32_t n = get_u32_be(rest.data());
      size_t key_size = (size_t{rest[5]} << 8) | rest[6];
      if (n < 3 + key_size || rest.size() - 4 < n) return bad_stream("a record cut short");
      StreamRecord record{rest[4], rest.subspan(7, key_size),
                          rest.subspan(7 + key_size, n - 3 - key_size)};
      while (table_at < std::size(kTableOrder) && kTableOrder[table_at] != record.table) {
        ++table_at;
        last_key = {};
      }
      if (table_at == std::size(kTableOrder)) return bad_stream("a table out of order");
      if (!last_key.empty() &&
          !std::lexicographical_compare(last_key.begin(), last_key.end(), record.key.begin(),
                                        record.key.end())) {
        return bad_stream("keys out of order");
      }
      last_key = record.key;
      records.push_back(record);
      rest = rest.subspan(4 + n);
    }
  }
  return records;
}

// Every store record the stream holds, checked: each decodes, and each
// original's blob record is counted once per set naming it.
Status check_stream(const std::vector<StreamRecord>& records, StoreTotals& totals) {
  std::map<BlobId, std::pair<uint32_t, uint64_t>> named;  // refs, size
  for (const StreamRecord& record : records) {
    if (record.table == kDirTable) {
      if (!has_prefix(record.key, kDirMtimePrefix) || record.value.size() != 8) {
        return bad_stream("a bad directory mtime");
      }
    } else if (record.table == kGcTable) {
      bool horizon = record.key.size() == 4;
      if (!has_prefix(record.key, kGcPrefix) ||
          (!horizon && record.key.size() != 4 + sizeof(BlobId)) ||
          (horizon ? record.value.size() != 8 : record.value.size() < 16)) {
        return bad_stream("a bad gc record");
      }
    } else if (record.table == kGenTable) {
      if (!has_prefix(record.key, kThumbGenPrefix) ||
          record.key.size() <= sizeof(kThumbGenPrefix) + sizeof(BlobId) + 16 ||
          record.value.size() != 8) {
        return bad_stream("a bad thumbnail generation");
      }
    } else if (record.table == kSetTable) {
      auto set = decode_record<SetRecord>(record.value);
      if (!decode_set_key(record.key) || !set) return bad_stream("a bad set record");
      auto& [refs, size] = named[set->blob];
      ++refs;
      size = set->size;
      ++totals.originals;
      totals.original_bytes += set->size;
    } else {
      auto blob = decode_record<BlobRecord>(record.value);
      if (record.key.size() != sizeof(BlobId) || !blob) return bad_stream("a bad blob record");
      BlobId id;
      std::copy(record.key.begin(), record.key.end(), id.begin());
      auto found = named.find(id);
      if (found == named.end() || found->second.first != blob->refs ||
          found->second.second != blob->size || held_bytes(*blob) != 0) {
        return bad_stream("a blob record that its sets do not match");
      }
      named.erase(found);
    }
  }
  if (!named.empty()) return bad_stream("a set whose original has no blob record");
  return Status::Ok();
}

}  // namespace

// Deletes the meta keys under `prefix`.
Status drop_meta_prefix(StoreTxn& txn, std::span<const uint8_t> prefix) {
  Cursor cursor(txn, txn.dbs().meta);
  if (!cursor.ok()) return cursor.error();
  auto at = cursor.seek(prefix);
  while (at && *at && has_prefix(cursor.key(), prefix)) {
    Key here(cursor.key().begin(), cursor.key().end());
    if (Status s = cursor.del(); !s) return s;
    at = cursor.seek(here);
  }
  if (!at) return at.error();
  return Status::Ok();
}

Result<DerivedDump> Store::dump_derived(size_t part_bytes) {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  auto cursor = log_cursor_in(txn);
  if (!cursor) return cursor.error();
  DerivedDump dump;
  dump.at = *cursor;
  DumpWriter out(dump, part_bytes);
  Cursor dirs(txn, txn.dbs().meta);
  if (!dirs.ok()) return dirs.error();
  auto at = dirs.seek(kDirMtimePrefix);
  for (; at && *at && has_prefix(dirs.key(), kDirMtimePrefix); at = dirs.next()) {
    if (Status s = out.add(kDirTable, dirs.key(), dirs.value()); !s) return s.error();
  }
  if (!at) return at.error();
  for (at = dirs.seek(kGcPrefix); at && *at && has_prefix(dirs.key(), kGcPrefix);
       at = dirs.next()) {
    if (Status s = out.add(kGcTable, dirs.key(), dirs.value()); !s) return s.error();
  }
  if (!at) return at.error();
  for (at = dirs.seek(kThumbGenPrefix); at && *at && has_prefix(dirs.key(), kThumbGenPrefix);
       at = dirs.next()) {
    if (Status s = out.add(kGenTable, dirs.key(), dirs.value()); !s) return s.error();
  }
  if (!at) return at.error();
  std::map<BlobId, uint32_t> refs;
  Status walked = for_each_set(txn, [&](std::span<const uint8_t> key,
                                        std::span<const uint8_t> value, const SetRecord& record) {
    ++refs[record.blob];
    return out.add(kSetTable, key, value);
  });
  if (!walked) return walked.error();
  for (const auto& [id, count] : refs) {
    auto record = get_record<BlobRecord>(txn, txn.dbs().blobs, id);
    if (!record) return record.error();
    if (!*record) return corrupt_record("an original's blob");
    BlobRecord derived{(*record)->size, (*record)->xxh3, count, false};
    if (Status s = out.add(kBlobTable, id, encode_record(derived)); !s) return s.error();
  }
  return dump;
}

Status Store::load_derived(const LogCursor& at, const std::vector<std::string>& parts) {
  auto records = parse_stream(parts);
  if (!records) return records.error();
  StoreTotals totals;
  if (Status s = check_stream(*records, totals); !s) return s;
  return write([&](StoreTxn& txn) -> Status {
    auto origin = log_origin_in(txn);
    if (!origin) return origin.error();
    if (!*origin) return make_error(ErrorCode::kInvalid, "this store is not on a bucket");
    {
      std::lock_guard lock(pins_mutex_);
      if (!pins_.empty()) return make_error(ErrorCode::kBusy, "files are open on this store");
    }
    const Databases& dbs = txn.dbs();
    for (MDB_dbi dbi : {dbs.sets, dbs.thumbs, dbs.blobs, dbs.chunks}) {
      if (Status s = txn.drop(dbi); !s) return s;
    }
    if (Status s = drop_meta_prefix(txn, kDirMtimePrefix); !s) return s;
    if (Status s = drop_meta_prefix(txn, kGcPrefix); !s) return s;
    if (Status s = drop_meta_prefix(txn, kThumbGenPrefix); !s) return s;
    for (const StreamRecord& record : *records) {
      MDB_dbi dbi = record.table == kSetTable    ? dbs.sets
                    : record.table == kBlobTable ? dbs.blobs
                                                 : dbs.meta;
      if (Status s = txn.put(dbi, record.key, record.value); !s) return s;
    }
    // The totals start afresh from these sets (written at commit); no bytes are cached.
    if (Status s = txn.del(dbs.meta, kTotalsKey); !s) return s;
    totals_delta_ = {};
    totals_delta_.originals = static_cast<int64_t>(totals.originals);
    totals_delta_.original_bytes = static_cast<int64_t>(totals.original_bytes);
    if (Status s = start_counting_cached(txn, true); !s) return s;
    return put_log_cursor_in(txn, at);
  });
}

Result<std::map<BlobId, uint64_t>> Store::referenced_originals() {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  std::map<BlobId, uint64_t> out;
  Status walked = for_each_set(txn, [&](auto, auto, const SetRecord& record) {
    out[record.blob] = record.size;
    return Status::Ok();
  });
  if (!walked) return walked.error();
  return out;
}

}  // namespace iafs
