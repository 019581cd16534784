#include "store/lmdb.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>

#include "base/unique_fd.h"

namespace iafs {

namespace {

// Whether the filesystem holding `dir` has (almost) no block left.
bool disk_nearly_full(const std::string& dir) {
  constexpr uint64_t kNearlyFull = 16ull << 20;
  struct statvfs st;
  if (statvfs(dir.c_str(), &st) != 0) return false;
  return uint64_t{st.f_bfree} * st.f_frsize < kNearlyFull ||
         uint64_t{st.f_bavail} * st.f_frsize < kNearlyFull;
}

}  // namespace

Error lmdb_error(int rc, std::string_view what) {
  std::string message = std::string(what) + ": " + mdb_strerror(rc);
  if (rc == MDB_MAP_FULL || rc == ENOSPC || rc == EDQUOT) {
    return make_error(ErrorCode::kNoSpace, message);
  }
  return make_error(ErrorCode::kIo, message);
}

LmdbEnv::~LmdbEnv() {
  for (MDB_txn* txn : read_pool_) mdb_txn_abort(txn);
  mdb_env_close(env_);
}

Result<std::unique_ptr<LmdbEnv>> LmdbEnv::open(const std::string& dir, const EnvOptions& options) {
  if (!options.read_only && mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return error_from_errno(dir);
  }
  MDB_env* raw = nullptr;
  int rc = mdb_env_create(&raw);
  if (rc != 0) return lmdb_error(rc, "mdb_env_create");
  std::unique_ptr<LmdbEnv> env(new LmdbEnv(raw, dir));
  if ((rc = mdb_env_set_maxdbs(raw, 8)) != 0) return lmdb_error(rc, "mdb_env_set_maxdbs");
  if ((rc = mdb_env_set_maxreaders(raw, options.max_readers)) != 0) {
    return lmdb_error(rc, "mdb_env_set_maxreaders");
  }
  if ((rc = mdb_env_set_mapsize(raw, options.map_size)) != 0) {
    return lmdb_error(rc, "mdb_env_set_mapsize");
  }
  unsigned flags = MDB_NOTLS | (options.nometasync ? MDB_NOMETASYNC : 0) |
                   (options.read_only ? MDB_RDONLY : 0) |
                   (options.read_only && options.no_lock ? MDB_NOLOCK : 0);
  if ((rc = mdb_env_open(raw, dir.c_str(), flags, 0600)) != 0) {
    return lmdb_error(rc, dir + ": cannot open the store");
  }
  int dead = 0;
  mdb_reader_check(raw, &dead);

  StoreTxn txn(*env, !options.read_only);
  if (!txn.ok()) return txn.error();
  unsigned dbi_flags = options.read_only ? 0 : MDB_CREATE;
  struct Named {
    const char* name;
    MDB_dbi* dbi;
  } named[] = {{"meta", &env->dbs_.meta},
               {"sets", &env->dbs_.sets},
               {"thumbs", &env->dbs_.thumbs},
               {"blobs", &env->dbs_.blobs},
               {"chunks", &env->dbs_.chunks}};
  for (const Named& n : named) {
    if ((rc = mdb_dbi_open(txn.txn(), n.name, dbi_flags, n.dbi)) != 0) {
      return lmdb_error(rc, std::string("mdb_dbi_open ") + n.name);
    }
  }
  if (Status s = txn.commit(); !s) return s.error();
  return env;
}

Result<MDB_txn*> LmdbEnv::acquire_read() {
  MDB_txn* txn = nullptr;
  {
    std::lock_guard lock(pool_mutex_);
    if (!read_pool_.empty()) {
      txn = read_pool_.back();
      read_pool_.pop_back();
    }
  }
  if (txn != nullptr) {
    int rc = mdb_txn_renew(txn);
    if (rc == 0) return txn;
    mdb_txn_abort(txn);
  }
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
  if (rc != 0) return lmdb_error(rc, "mdb_txn_begin (read)");
  return txn;
}

void LmdbEnv::release_read(MDB_txn* txn) {
  mdb_txn_reset(txn);
  std::lock_guard lock(pool_mutex_);
  if (read_pool_.size() < 256) {
    read_pool_.push_back(txn);
    return;
  }
  mdb_txn_abort(txn);
}

StoreTxn::StoreTxn(LmdbEnv& env, bool write) : env_(env), write_(write) {
  if (write) {
    int rc = mdb_txn_begin(env.env(), nullptr, 0, &txn_);
    if (rc != 0) {
      txn_ = nullptr;
      error_ = lmdb_error(rc, "mdb_txn_begin");
    }
    return;
  }
  Result<MDB_txn*> txn = env.acquire_read();
  if (txn) {
    txn_ = *txn;
  } else {
    error_ = txn.error();
  }
}

StoreTxn::StoreTxn(StoreTxn& parent) : env_(parent.env_), write_(true) {
  int rc = mdb_txn_begin(env_.env(), parent.txn(), 0, &txn_);
  if (rc != 0) {
    txn_ = nullptr;
    error_ = lmdb_error(rc, "mdb_txn_begin (nested)");
  }
}

StoreTxn::~StoreTxn() {
  if (txn_ == nullptr) return;
  if (write_) {
    mdb_txn_abort(txn_);
  } else {
    env_.release_read(txn_);
  }
}

Result<std::optional<std::span<const uint8_t>>> StoreTxn::get(MDB_dbi dbi,
                                                              std::span<const uint8_t> key) {
  MDB_val k = to_val(key);
  MDB_val v;
  int rc = mdb_get(txn_, dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::span<const uint8_t>>();
  if (rc != 0) return lmdb_error(rc, "mdb_get");
  return std::optional<std::span<const uint8_t>>(to_span(v));
}

Status StoreTxn::put(MDB_dbi dbi, std::span<const uint8_t> key, std::span<const uint8_t> value) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  int rc = mdb_put(txn_, dbi, &k, &v, 0);
  if (rc != 0) return lmdb_error(rc, "mdb_put");
  return Status::Ok();
}

Result<std::span<uint8_t>> StoreTxn::reserve(MDB_dbi dbi, std::span<const uint8_t> key,
                                             size_t size) {
  MDB_val k = to_val(key);
  MDB_val v{size, nullptr};
  int rc = mdb_put(txn_, dbi, &k, &v, MDB_RESERVE);
  if (rc != 0) return lmdb_error(rc, "mdb_put (reserve)");
  return std::span<uint8_t>(static_cast<uint8_t*>(v.mv_data), size);
}

Status StoreTxn::del(MDB_dbi dbi, std::span<const uint8_t> key) {
  MDB_val k = to_val(key);
  int rc = mdb_del(txn_, dbi, &k, nullptr);
  if (rc != 0 && rc != MDB_NOTFOUND) return lmdb_error(rc, "mdb_del");
  return Status::Ok();
}

Status StoreTxn::drop(MDB_dbi dbi) {
  int rc = mdb_drop(txn_, dbi, 0);
  if (rc != 0) return lmdb_error(rc, "mdb_drop");
  return Status::Ok();
}

Status StoreTxn::commit() {
  int rc = mdb_txn_commit(txn_);
  txn_ = nullptr;
  if (rc == EIO && disk_nearly_full(env_.dir())) {
    // LMDB 0.9.24 reports a short write (a full disk) as EIO.
    return make_error(ErrorCode::kNoSpace, "mdb_txn_commit: the disk holding the store is full");
  }
  if (rc != 0) return lmdb_error(rc, "mdb_txn_commit");
  return Status::Ok();
}

Cursor::Cursor(StoreTxn& txn, MDB_dbi dbi) {
  int rc = mdb_cursor_open(txn.txn(), dbi, &cursor_);
  if (rc != 0) {
    cursor_ = nullptr;
    error_ = lmdb_error(rc, "mdb_cursor_open");
  }
}

Cursor::~Cursor() {
  if (cursor_ != nullptr) mdb_cursor_close(cursor_);
}

Result<bool> Cursor::move(MDB_cursor_op op) {
  int rc = mdb_cursor_get(cursor_, &key_, &value_, op);
  if (rc == MDB_NOTFOUND) return false;
  if (rc != 0) return lmdb_error(rc, "mdb_cursor_get");
  return true;
}

Result<bool> Cursor::seek(std::span<const uint8_t> key) {
  key_ = to_val(key);
  if (key.empty()) return move(MDB_FIRST);
  return move(MDB_SET_RANGE);
}

Result<bool> Cursor::next() { return move(MDB_NEXT); }

Status Cursor::del() {
  int rc = mdb_cursor_del(cursor_, 0);
  if (rc != 0) return lmdb_error(rc, "mdb_cursor_del");
  return Status::Ok();
}

}  // namespace iafs
