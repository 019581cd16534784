// Store: the totals of what it holds (StoreTotals), kept in the meta database
// under kTotalsKey and changed in the write transaction that changes the
// records, so that reading them never walks the store.
#include "store/keys.h"
#include "store/records.h"
#include "store/store.h"

namespace iafs {
namespace {

Key encode_totals(const StoreTotals& t) {
  Key value;
  put_u64_be(value, t.originals);
  put_u64_be(value, t.original_bytes);
  put_u64_be(value, t.thumbnails);
  put_u64_be(value, t.thumbnail_bytes);
  return value;
}

std::optional<StoreTotals> decode_totals(std::span<const uint8_t> value) {
  if (value.size() != 32) return std::nullopt;
  StoreTotals t;
  t.originals = get_u64_be(value.data());
  t.original_bytes = get_u64_be(value.data() + 8);
  t.thumbnails = get_u64_be(value.data() + 16);
  t.thumbnail_bytes = get_u64_be(value.data() + 24);
  return t;
}

Result<std::optional<StoreTotals>> read_totals(StoreTxn& txn) {
  auto found = txn.get(txn.dbs().meta, kTotalsKey);
  if (!found) return found.error();
  if (!found->has_value()) return std::optional<StoreTotals>();
  std::optional<StoreTotals> totals = decode_totals(**found);
  if (!totals) return corrupt_record("totals");
  return totals;
}

// `total` moved by `delta`, never below 0.
}  // namespace

uint64_t moved(uint64_t total, int64_t delta) {
  if (delta < 0 && static_cast<uint64_t>(-delta) > total) return 0;
  return total + static_cast<uint64_t>(delta);
}

void Store::count_original(int sign, uint64_t size) {
  totals_delta_.originals += sign;
  totals_delta_.original_bytes += sign * static_cast<int64_t>(size);
}

void Store::count_thumbnail(int sign, uint64_t size) {
  totals_delta_.thumbnails += sign;
  totals_delta_.thumbnail_bytes += sign * static_cast<int64_t>(size);
}

Status Store::write_totals(StoreTxn& txn) {
  const TotalsDelta& d = totals_delta_;
  if (d.originals == 0 && d.original_bytes == 0 && d.thumbnails == 0 && d.thumbnail_bytes == 0) {
    return Status::Ok();
  }
  auto current = read_totals(txn);
  if (!current) return current.error();
  StoreTotals t = current->value_or(StoreTotals{});
  t.originals = moved(t.originals, d.originals);
  t.original_bytes = moved(t.original_bytes, d.original_bytes);
  t.thumbnails = moved(t.thumbnails, d.thumbnails);
  t.thumbnail_bytes = moved(t.thumbnail_bytes, d.thumbnail_bytes);
  totals_delta_ = TotalsDelta{0, 0, 0, 0, d.cached_bytes};  // written after the frees
  return txn.put(txn.dbs().meta, kTotalsKey, encode_totals(t));
}

Status Store::ensure_totals() {
  return write([&](StoreTxn& txn) -> Status {
    auto current = read_totals(txn);
    if (!current) return current.error();
    if (current->has_value()) return Status::Ok();
    StoreTotals t;
    Status walked = for_each_set(txn, [&](auto, auto, const SetRecord& record) {
      ++t.originals;
      t.original_bytes += record.size;
      return Status::Ok();
    });
    if (!walked) return walked;
    Cursor thumbs(txn, txn.dbs().thumbs);
    if (!thumbs.ok()) return thumbs.error();
    auto at = thumbs.seek({});
    for (; at && *at; at = thumbs.next()) {
      auto record = decode_record<ThumbRecord>(thumbs.value());
      if (!record) return corrupt_record("thumbnail");
      ++t.thumbnails;
      t.thumbnail_bytes += record->size;
    }
    if (!at) return at.error();
    return txn.put(txn.dbs().meta, kTotalsKey, encode_totals(t));
  });
}

Result<StoreTotals> Store::totals() {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  auto current = read_totals(txn);
  if (!current) return current.error();
  return current->value_or(StoreTotals{});
}

StoreMapUsage Store::map_usage() {
  MDB_envinfo info{};
  MDB_stat stat{};
  StoreMapUsage usage;
  if (mdb_env_info(env_->env(), &info) != 0 || mdb_env_stat(env_->env(), &stat) != 0) return usage;
  usage.map_bytes = info.me_mapsize;
  usage.used_bytes = (static_cast<uint64_t>(info.me_last_pgno) + 1) * stat.ms_psize;
  return usage;
}

}  // namespace iafs
