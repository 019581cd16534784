// RAII over LMDB: environment, transactions, cursors. A transaction that goes
// out of scope aborts; only commit() commits. LMDB errors become Errors here:
// MDB_MAP_FULL (and disk full) is kNoSpace, everything else kIo.
#pragma once

#include <lmdb.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "imageattachfs/blob_store.h"
#include "imageattachfs/result.h"

namespace iafs {

// Bytes <-> MDB_val.
inline MDB_val to_val(std::span<const uint8_t> bytes) {
  return MDB_val{bytes.size(), const_cast<uint8_t*>(bytes.data())};
}
inline std::span<const uint8_t> to_span(const MDB_val& v) {
  return {static_cast<const uint8_t*>(v.mv_data), v.mv_size};
}

// An Error for LMDB return code `rc` while doing `what`.
Error lmdb_error(int rc, std::string_view what);

struct EnvOptions {
  uint64_t map_size = 1ull << 40;
  unsigned max_readers = 1024;
  bool nometasync = false;
  // MDB_RDONLY: the store must exist; nothing is created or written, and no
  // write transaction may begin (fsck beside a running daemon).
  bool read_only = false;
  // MDB_NOLOCK (with read_only): no lock.mdb is read, created or written.
  // Safe only when no writer can exist: the store's own lock file keeps
  // every writing imageattachfs out, or the filesystem is read-only.
  bool no_lock = false;
};

// The databases of one store environment.
struct Databases {
  MDB_dbi meta = 0;    // "revision" -> u64
  MDB_dbi sets = 0;    // set key -> SetRecord
  MDB_dbi thumbs = 0;  // set key + spec -> ThumbRecord
  MDB_dbi blobs = 0;   // BlobId -> BlobRecord (size, xxh3, refs)
  MDB_dbi chunks = 0;  // BlobId + chunk number -> bytes
};

class LmdbEnv {
 public:
  ~LmdbEnv();
  LmdbEnv(const LmdbEnv&) = delete;
  LmdbEnv& operator=(const LmdbEnv&) = delete;

  // Opens (creating if absent, unless options.read_only) the environment in
  // directory `dir` with MDB_NOTLS.
  static Result<std::unique_ptr<LmdbEnv>> open(const std::string& dir, const EnvOptions& options);

  MDB_env* env() const { return env_; }
  const std::string& dir() const { return dir_; }
  const Databases& dbs() const { return dbs_; }

  // A read transaction from a pool of reset ones (renewed here).
  Result<MDB_txn*> acquire_read();
  // Returns a read transaction to the pool.
  void release_read(MDB_txn* txn);

 private:
  explicit LmdbEnv(MDB_env* env, std::string dir) : env_(env), dir_(std::move(dir)) {}
  MDB_env* env_;
  std::string dir_;
  Databases dbs_;
  std::mutex pool_mutex_;
  std::vector<MDB_txn*> read_pool_;
};

// An LMDB transaction; a write transaction is also the BlobBatch that the
// LMDB blob store's changes join.
class StoreTxn final : public BlobBatch {
 public:
  // A read or write transaction on env. Check ok() / error() before use.
  StoreTxn(LmdbEnv& env, bool write);
  // A write transaction nested in `parent`: its changes join the parent's
  // when it commits, and vanish when it is dropped uncommitted.
  explicit StoreTxn(StoreTxn& parent);
  ~StoreTxn() override;
  StoreTxn(const StoreTxn&) = delete;
  StoreTxn& operator=(const StoreTxn&) = delete;

  bool ok() const { return txn_ != nullptr; }
  const Error& error() const { return error_; }
  MDB_txn* txn() const { return txn_; }
  const Databases& dbs() const { return env_.dbs(); }
  bool is_write() const { return write_; }

  // Looks up `key`; nullopt when absent. The span points into the map and is
  // valid until the transaction ends (or, in a write txn, the next write).
  Result<std::optional<std::span<const uint8_t>>> get(MDB_dbi dbi, std::span<const uint8_t> key);
  Status put(MDB_dbi dbi, std::span<const uint8_t> key, std::span<const uint8_t> value);
  // Makes room for a value of `size` bytes under `key` (MDB_RESERVE): the
  // caller writes it before the next write of this transaction.
  Result<std::span<uint8_t>> reserve(MDB_dbi dbi, std::span<const uint8_t> key, size_t size);
  // Deletes `key`; absent is not an error.
  Status del(MDB_dbi dbi, std::span<const uint8_t> key);
  // Deletes every key of `dbi` (write transactions).
  Status drop(MDB_dbi dbi);

  // Commits a write transaction; the object is then finished.
  Status commit();

 private:
  LmdbEnv& env_;
  MDB_txn* txn_ = nullptr;
  bool write_;
  Error error_{ErrorCode::kIo, {}};
};

// A cursor over one database within a transaction.
class Cursor {
 public:
  Cursor(StoreTxn& txn, MDB_dbi dbi);
  ~Cursor();
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;

  bool ok() const { return cursor_ != nullptr; }
  const Error& error() const { return error_; }

  // Positions at the first key >= `key`. Returns false at the end.
  Result<bool> seek(std::span<const uint8_t> key);
  // Moves to the next key. Returns false at the end.
  Result<bool> next();
  // Deletes the current entry (write transactions).
  Status del();

  std::span<const uint8_t> key() const { return to_span(key_); }
  std::span<const uint8_t> value() const { return to_span(value_); }

 private:
  Result<bool> move(MDB_cursor_op op);
  MDB_cursor* cursor_ = nullptr;
  MDB_val key_{0, nullptr};
  MDB_val value_{0, nullptr};
  Error error_{ErrorCode::kIo, {}};
};

// Whether `key` starts with `prefix`.
inline bool has_prefix(std::span<const uint8_t> key, std::span<const uint8_t> prefix) {
  return key.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), key.begin());
}

}  // namespace iafs
