// Store: a store on a bucket, the state its log produces (SCALEOUT.md §4):
// the log's origin and cursor in `meta`, entries applied in one transaction
// each, and blobs committed elsewhere recorded before their bytes are cached.
#include "log/log.h"
#include "store/keys.h"
#include "store/records.h"
#include "store/store.h"

namespace iafs {
namespace {

const uint8_t kLogOriginKey[] = {'l', 'o', 'g', '_', 'o', 'r', 'i', 'g', 'i', 'n'};
const uint8_t kLogCursorKey[] = {'l', 'o', 'g', '_', 'c', 'u', 'r', 's', 'o', 'r'};
const uint8_t kLogHostKey[] = {'l', 'o', 'g', '_', 'h', 'o', 's', 't'};

std::span<const uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// seq (8 bytes, big-endian), time_ns (8), then the SHA-256 hex.
Key encode_cursor(const LogCursor& cursor) {
  Key value;
  put_u64_be(value, cursor.seq);
  put_u64_be(value, static_cast<uint64_t>(cursor.time_ns));
  value.insert(value.end(), cursor.sha256_hex.begin(), cursor.sha256_hex.end());
  return value;
}

}  // namespace

Result<std::optional<std::string>> log_origin_in(StoreTxn& txn) {
  auto found = txn.get(txn.dbs().meta, kLogOriginKey);
  if (!found) return found.error();
  if (!found->has_value()) return std::optional<std::string>();
  return std::optional<std::string>(std::string((*found)->begin(), (*found)->end()));
}

Status put_log_cursor_in(StoreTxn& txn, const LogCursor& cursor) {
  return txn.put(txn.dbs().meta, kLogCursorKey, encode_cursor(cursor));
}

Result<LogCursor> log_cursor_in(StoreTxn& txn) {
  auto found = txn.get(txn.dbs().meta, kLogCursorKey);
  if (!found) return found.error();
  if (!found->has_value()) return make_error(ErrorCode::kInvalid, "this store is not on a bucket");
  std::span<const uint8_t> value = **found;
  if (value.size() < 16) return corrupt_record("log cursor");
  LogCursor cursor;
  cursor.seq = get_u64_be(value.data());
  cursor.time_ns = static_cast<int64_t>(get_u64_be(value.data() + 8));
  cursor.sha256_hex.assign(value.begin() + 16, value.end());
  return cursor;
}

namespace {

// The set whose original's extension guards `op`, if it is of one set.
const ImageSetKey* guarded_set(const Op& op) {
  if (const auto* mtime = std::get_if<SetMtime>(&op.change)) return &mtime->set;
  if (const auto* created = std::get_if<SetCreated>(&op.change)) return &created->set;
  if (const auto* focus = std::get_if<SetFocus>(&op.change)) return &focus->set;
  if (const auto* remove = std::get_if<RemoveSet>(&op.change)) return &remove->set;
  return nullptr;
}

// Errors of the store itself, not of the op: they stop the log's application.
bool fails_the_store(const Error& error) {
  return error.code == ErrorCode::kIo || error.code == ErrorCode::kNoSpace;
}

}  // namespace

Status Store::begin_log(const std::string& origin) {
  return write([&](StoreTxn& txn) -> Status {
    auto current = log_origin_in(txn);
    if (!current) return current.error();
    if (*current) {
      if (**current == origin) return start_counting_cached(txn);
      return make_error(ErrorCode::kInvalid,
                        "this store holds the state of another bucket (its fs.json differs)");
    }
    Cursor sets(txn, txn.dbs().sets);
    if (!sets.ok()) return sets.error();
    auto any = sets.seek({});
    if (!any) return any.error();
    if (*any) {
      return make_error(ErrorCode::kInvalid,
                        "this store holds image sets of its own, not of the bucket's log");
    }
    if (Status s = txn.put(txn.dbs().meta, kLogOriginKey, bytes_of(origin)); !s) return s;
    if (Status s = start_counting_cached(txn); !s) return s;
    return put_log_cursor_in(txn, LogCursor{0, origin, 0});
  });
}

Result<std::string> Store::log_host(const std::string& fresh) {
  std::string host = fresh;
  auto kept = [&](StoreTxn& txn) -> Status {
    auto found = txn.get(txn.dbs().meta, kLogHostKey);
    if (!found) return found.error();
    if (found->has_value()) {
      host.assign((*found)->begin(), (*found)->end());
      return Status::Ok();
    }
    if (!txn.is_write()) return Status::Ok();
    return txn.put(txn.dbs().meta, kLogHostKey, bytes_of(fresh));
  };
  if (read_only_) {
    StoreTxn txn(*env_, false);
    if (!txn.ok()) return txn.error();
    if (Status s = kept(txn); !s) return s.error();
    return host;
  }
  if (Status s = write(kept); !s) return s.error();
  return host;
}

Result<std::optional<std::string>> Store::log_origin() {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  return log_origin_in(txn);
}

Result<LogCursor> Store::log_cursor() {
  StoreTxn txn(*env_, false);
  if (!txn.ok()) return txn.error();
  return log_cursor_in(txn);
}

Result<ApplyOutcome> Store::apply_logged_op(StoreTxn& txn, const LoggedOp& logged,
                                            const LoggedEntry& entry) {
  if (logged.gc) return apply_gc(txn, *logged.gc, entry);
  if (const auto* attach = std::get_if<AttachOriginal>(&logged.op.change)) {
    if (Status s = admit_attach(txn, attach->blob, logged.checked); !s) return s.error();
  }
  const ImageSetKey* set = guarded_set(logged.op);
  if (set != nullptr && !logged.original_ext.empty()) {
    auto record = get_record<SetRecord>(txn, txn.dbs().sets, set_key(*set));
    if (!record) return record.error();
    if (!*record) return make_error(ErrorCode::kNotFound, "no original in this set");
    if ((*record)->ext != logged.original_ext) {
      return make_error(ErrorCode::kNotFound, "the set's original is original." + (*record)->ext);
    }
  }
  Op op = logged.op;
  op.time_ns = entry.time_ns;
  return apply_in(txn, op, nullptr);
}

Result<std::vector<Result<ApplyOutcome>>> Store::apply_logged(const LoggedEntry& entry) {
  if (entry.ops.size() >= (uint64_t{1} << 16)) {
    return make_error(ErrorCode::kInvalid, "a log entry of over 65535 ops");
  }
  auto applied = write([&](StoreTxn& txn) -> Result<std::vector<Result<ApplyOutcome>>> {
    auto cursor = log_cursor_in(txn);
    if (!cursor) return cursor.error();
    if (entry.seq != cursor->seq + 1) {
      return make_error(ErrorCode::kInvalid, "log entry " + std::to_string(entry.seq) +
                                                 " does not follow the cursor at " +
                                                 std::to_string(cursor->seq));
    }
    if (entry.prev_sha256 != cursor->sha256_hex) {
      return make_error(ErrorCode::kInvalid, "log entry " + std::to_string(entry.seq) +
                                                 " does not name the entry before it as prev");
    }
    std::vector<Result<ApplyOutcome>> outcomes;
    outcomes.reserve(entry.ops.size());
    for (size_t i = 0; i < entry.ops.size(); ++i) {
      // A refused op leaves nothing: not its records, frees or totals.
      std::vector<BlobId> free_before = pending_free_;
      TotalsDelta totals_before = totals_delta_;
      StoreTxn op_txn(txn);
      if (!op_txn.ok()) return op_txn.error();
      logged_revision_ = (entry.seq << 16) | i;
      auto outcome = apply_logged_op(op_txn, entry.ops[i], entry);
      logged_revision_ = 0;
      if (outcome) {
        if (Status s = op_txn.commit(); !s) return s.error();
      } else {
        if (fails_the_store(outcome.error())) return outcome.error();
        pending_free_ = std::move(free_before);
        totals_delta_ = totals_before;
      }
      outcomes.push_back(std::move(outcome));
    }
    LogCursor next{entry.seq, entry.sha256, entry.time_ns};
    if (Status s = put_log_cursor_in(txn, next); !s) return s.error();
    return outcomes;
  });
  logged_revision_ = 0;
  return applied;
}

}  // namespace iafs
