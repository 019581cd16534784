#include "store/store_stats.h"

#include <sys/stat.h>

#include <algorithm>

#include "store/keys.h"
#include "store/lmdb.h"
#include "store/records.h"
#include "store/store.h"

namespace iafs {
namespace {

// Walks `dbi`, adding each record's size to its type (the key's first
// name) through `add`. Keys of one type are adjacent: the name is compared,
// not copied, per record.
template <typename Record, typename Add>
Status walk(StoreTxn& txn, MDB_dbi dbi, StoreStats& stats, Add add) {
  Cursor cursor(txn, dbi);
  if (!cursor.ok()) return cursor.error();
  std::string type;
  TypeStats* current = nullptr;
  Result<bool> at = cursor.seek({});
  for (; at && *at; at = cursor.next()) {
    auto key = cursor.key();
    auto end = std::find(key.begin(), key.end(), uint8_t{0});
    if (end == key.end()) return corrupt_record(record_name(static_cast<Record*>(nullptr)));
    size_t size = static_cast<size_t>(end - key.begin());
    if (current == nullptr || size != type.size() || !std::equal(key.begin(), end, type.begin())) {
      type.assign(key.begin(), end);
      current = &stats.types[type];
    }
    auto record = decode_record<Record>(cursor.value());
    if (!record) return corrupt_record(record_name(static_cast<Record*>(nullptr)));
    add(*current, record->size);
    add(stats.total, record->size);
  }
  if (!at) return at.error();
  return Status::Ok();
}

}  // namespace

Result<StoreStats> read_store_stats(const std::string& dir) {
  struct stat st;
  if (stat((dir + "/data.mdb").c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return make_error(ErrorCode::kNotFound, dir + ": not a store (no data.mdb)");
  }
  EnvOptions env_options;
  env_options.read_only = true;
  auto env = LmdbEnv::open(dir, env_options);
  if (!env) return env.error();
  StoreTxn txn(**env, false);
  if (!txn.ok()) return txn.error();
  StoreStats stats;
  Status sets = walk<SetRecord>(txn, txn.dbs().sets, stats, [](TypeStats& t, uint64_t size) {
    ++t.sets;
    t.original_bytes += size;
  });
  if (!sets) return sets.error();
  Status thumbs = walk<ThumbRecord>(txn, txn.dbs().thumbs, stats, [](TypeStats& t, uint64_t size) {
    ++t.thumbnails;
    t.thumbnail_bytes += size;
  });
  if (!thumbs) return thumbs.error();
  auto origin = log_origin_in(txn);
  if (!origin) return origin.error();
  if (*origin) {
    auto cursor = log_cursor_in(txn);
    if (!cursor) return cursor.error();
    auto cached = cached_bytes_in(txn);
    if (!cached) return cached.error();
    stats.log_seq = cursor->seq;
    stats.cached_bytes = cached->value_or(0);
  }
  if (stat((dir + "/data.mdb").c_str(), &st) == 0)
    stats.file_bytes = static_cast<uint64_t>(st.st_size);
  return stats;
}

}  // namespace iafs
