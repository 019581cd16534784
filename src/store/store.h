// The store: LMDB records of image sets and thumbnails, blobs behind a
// BlobStore, ops applied in one write transaction each. Knows nothing of FUSE
// or libvips. Reference counts of blobs are its own business.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "imageattachfs/blob_store.h"
#include "imageattachfs/records.h"
#include "imageattachfs/result.h"
#include "store/lmdb.h"
#include "store/ops.h"

namespace iafs {

struct StoreOptions {
  uint64_t map_size = 1ull << 40;
  bool nometasync = false;
  unsigned max_readers = 1024;  // read transactions at once: above the threads that read
  // A read-only mount: the store must exist; it is opened MDB_RDONLY and
  // MDB_NOLOCK (the caller holds the store's lock, or the store is on a
  // read-only filesystem: no writer can exist), nothing is collected, and
  // every change is refused with kReadOnly. Nothing in the store changes.
  bool read_only = false;
};

// What the store holds now, kept in its metadata by the write transaction
// that changes it (store_totals.cc). Sizes are as the namespace shows them:
// two sets holding identical bytes count twice, though stored once.
struct StoreTotals {
  uint64_t originals = 0;       // image sets holding an original
  uint64_t original_bytes = 0;  // the sum of their originals' sizes
  uint64_t thumbnails = 0;      // thumbnail records
  uint64_t thumbnail_bytes = 0;
};

// The store's LMDB map: its size (the map_size option) and the bytes of it in
// use (up to the last page written; freed pages are reused, never returned).
struct StoreMapUsage {
  uint64_t map_bytes = 0;
  uint64_t used_bytes = 0;
};

// One stored thumbnail, as -o thumb_budget and gc name it
// (store_thumbnail_use.cc): the revision tells a remade one apart.
struct ThumbnailRef {
  ImageSetKey set;
  ThumbnailSpec spec;
  uint64_t revision = 0;
  uint64_t size = 0;
};

// One image set as stored: its key, its original, and its thumbnail records
// in key order (widths, then heights; made from any original: compare their
// source with record.blob).
struct StoredSet {
  ImageSetKey key;
  SetRecord record;
  std::vector<std::pair<ThumbnailSpec, ThumbRecord>> thumbnails;
};

// Where a store on a bucket stands in the bucket's log (SCALEOUT.md §4): the
// last entry applied, the SHA-256 of its bytes and its time. seq 0: none yet,
// and sha256_hex names the bucket's fs.json, which log/1 follows.
struct LogCursor {
  uint64_t seq = 0;
  std::string sha256_hex;
  int64_t time_ns = 0;
};

// An op of a log entry. `original_ext` (when not empty) guards an op on one
// set: it applies only where the set's original is original.<ext>, the one
// its writer saw (kNotFound otherwise).
// A sweeping host owns the deletion this long (in entry time); a sweep of a
// sha swept longer ago hands it to the sweep's host (the first one died).
inline constexpr int64_t kSweepOwnershipNs = int64_t{3600} * 1'000'000'000;

// A step of garbage collection across hosts (SCALEOUT.md §9; store_gc.cc).
struct GcOp {
  enum class Kind : uint8_t { kCondemn, kSweep, kSwept };
  Kind kind = Kind::kCondemn;
  std::vector<BlobId> shas;
  int64_t grace_ns = 0;  // kSweep: the least entry time since each sha's condemn
};

// Where a blob stands in garbage collection, in the derived state.
struct GcState {
  enum class Kind : uint8_t { kLive, kCondemned, kSweeping };
  Kind kind = Kind::kLive;
  uint64_t seq = 0;     // of the condemn or sweep
  int64_t time_ns = 0;  // that entry's time
  uint64_t tomb = 0;    // the seq of its last swept (0: none kept)
  std::string host;     // kSweeping: the host whose sweep it was (it deletes the objects)
};

struct LoggedOp {
  LoggedOp() = default;
  LoggedOp(Op change, std::string ext) : op(std::move(change)), original_ext(std::move(ext)) {}

  Op op;
  std::string original_ext;
  // An attach: the writer's cursor when it found or put the blob in the
  // bucket (refused when a swept since may have deleted it).
  uint64_t checked = 0;
  std::optional<GcOp> gc;  // a GC step instead of `op`
};

// A log entry as the store applies it: every op takes the entry's time.
struct LoggedEntry {
  uint64_t seq = 0;
  std::string prev_sha256;  // must be the cursor's sha256_hex
  std::string sha256;       // of this entry's bytes: the cursor's next
  int64_t time_ns = 0;
  std::string host;  // the writer's uuid
  std::vector<LoggedOp> ops;
};

// Within `txn`: the origin Store::begin_log tied the store to, its cursor
// (kInvalid for a store of its own), and Store::cached_bytes.
Result<std::optional<std::string>> log_origin_in(StoreTxn& txn);
Result<LogCursor> log_cursor_in(StoreTxn& txn);
Status put_log_cursor_in(StoreTxn& txn, const LogCursor& cursor);
Result<std::optional<uint64_t>> cached_bytes_in(StoreTxn& txn);
// Within `txn`: deletes the meta keys under `prefix` (store_dump.cc).
Status drop_meta_prefix(StoreTxn& txn, std::span<const uint8_t> prefix);

// The derived state of a bucket's store at a cursor (Store::dump_derived):
// a stream of records cut into parts, each at most the size asked (or one record).
struct DerivedDump {
  LogCursor at;
  std::vector<std::string> parts;
  uint64_t records = 0;
};

// What applying an op changed.
struct ApplyOutcome {
  bool changed = false;
  std::optional<SetRecord> before;  // the set's record before (AttachOriginal, RemoveSet)
  std::optional<SetRecord> after;   // the set's record after (AttachOriginal, SetMtime)
  std::vector<ThumbnailSpec>
      dropped_thumbnails;                    // of the set the op touched (source set for MoveSet)
  std::optional<uint64_t> ended_generation;  // DropThumb: the generation before it
};

class Store {
 public:
  // Opens (creating if absent) the store's LMDB environment in `dir`, and frees
  // blobs that no record points at (left by files open at the last stop).
  // Read-only (options.read_only): see StoreOptions.
  static Result<std::unique_ptr<Store>> open(const std::string& dir, const StoreOptions& options);

  // Whether every change is refused (kReadOnly).
  bool read_only() const { return read_only_; }

  // Applies `op` in one write transaction. An AttachOriginal carries its
  // blob's bytes in `blob` (REQUIRES: op.blob is their SHA-256, checked again
  // as they are stored); when a blob of that id is stored already, its bytes
  // are compared with these, and stored bytes that differ (written by a
  // faulty earlier version, or damaged) are replaced by these.
  Result<ApplyOutcome> apply(const Op& op, const BlobSource& blob);
  Result<ApplyOutcome> apply(const Op& op, std::span<const uint8_t> blob_bytes = {}) {
    return apply(op, SpanSource(blob_bytes));
  }

  // Applies `ops` in order in one write transaction (a bulk import): all are
  // stored, or none. blob_bytes[i] is what apply() takes for ops[i]. No two
  // AttachOriginal ops may carry the same blob (kInvalid): a blob put by the
  // open transaction cannot be compared yet (see apply()).
  Result<std::vector<ApplyOutcome>> apply_all(std::span<const Op> ops,
                                              std::span<const std::span<const uint8_t>> blob_bytes);

  // The log (store_log.cc). begin_log ties an empty store to the bucket
  // whose fs.json has SHA-256 `origin`, or checks that it is tied to that one:
  // kInvalid for a store of another bucket or one holding sets of its own.
  Status begin_log(const std::string& origin);
  // The origin begin_log tied the store to; nullopt for a store of its own.
  Result<std::optional<std::string>> log_origin();
  Result<LogCursor> log_cursor();
  // The uuid this store writes the bucket's entries as: the one it keeps,
  // else `fresh`, kept from now on (a read-only store keeps nothing).
  Result<std::string> log_host(const std::string& fresh);
  // Applies `entry` in one write transaction, each op in a nested one: an op
  // refused (kNotFound, kNotEmpty, ...) leaves nothing and the next go on;
  // its error is its result. Fails as a whole (nothing applied) when the
  // entry does not follow the cursor (kInvalid) or the store fails (kIo,
  // kNoSpace): an entry is never skipped. Blobs of attach ops need not be
  // cached: those not cached are recorded without their bytes.
  Result<std::vector<Result<ApplyOutcome>>> apply_logged(const LoggedEntry& entry);
  // Snapshots (store_dump.cc). dump_derived reads, in one read transaction,
  // what the log produced (directory mtimes, sets, their originals' blob
  // records, refs counted from the sets) and nothing local: every host at
  // one cursor dumps the same bytes. load_derived replaces all but the
  // store's origin and host (sets, thumbnails, blobs, cached bytes) by such
  // a dump, the cursor set to `at`, in one write transaction; kInvalid for a
  // malformed or inconsistent stream and kBusy while a blob is pinned
  // (nothing changes then).
  Result<DerivedDump> dump_derived(size_t part_bytes);
  Status load_derived(const LogCursor& at, const std::vector<std::string>& parts);
  // Each blob a set's original is, with its size, in one read transaction.
  Result<std::map<BlobId, uint64_t>> referenced_originals();
  // Garbage collection's state (store_gc.cc): one blob's, and every blob
  // condemned or sweeping (in one read transaction; `fn` returns false to stop).
  Result<GcState> gc_state(const BlobId& id);
  Status scan_gc(const std::function<bool(const BlobId&, const GcState&)>& fn);
  // The bytes cached (store_cache.cc). cache_blob stores the bytes of blob
  // `id` (checked against `id` as they are stored) unless they are cached
  // already; a blob no record points at yet is kept until the next open, or
  // as long as it is pinned. With `recorded_only`, bytes of a blob no
  // record knows are not stored (kNotFound): a fetch of one removed meanwhile.
  Status cache_blob(const BlobId& id, uint64_t xxh3, const BlobSource& source,
                    bool recorded_only = false);
  // Whether the bytes of blob `id` are stored here (false: unknown, or
  // recorded without them).
  Result<bool> blob_cached(const BlobId& id);
  // A large blob's bytes are fetched in ranges of kRangeBytes (the last one
  // shorter), each stored in one transaction, so that a read waits only for
  // the ranges it covers (SCALEOUT.md §10).
  static constexpr uint64_t kRangeBytes = uint64_t{8} << 20;
  static_assert(kRangeBytes % BlobStore::kRangeAlign == 0);
  // The offsets of the ranges of blob `id` that bytes [offset, offset +
  // length) fall in and that are not stored; none when it is cached.
  // kNotFound when no record holds it.
  Result<std::vector<uint64_t>> missing_ranges(const BlobId& id, uint64_t offset, uint64_t length);
  // Stores `bytes` as the range at `offset` of recorded blob `id` (nothing
  // when it is stored already). The range that completes the blob has the
  // whole checked against `id` and its XXH3, which caches it; bytes that
  // differ are all dropped, and kIo. kNotFound when no record holds it;
  // kInvalid for a range of the wrong place or length.
  Status cache_blob_range(const BlobId& id, uint64_t offset, std::span<const uint8_t> bytes);
  // Caches recorded blob `id` if all of its ranges are stored and agree with
  // it, read in windows of kRangeBytes outside any write transaction; bytes
  // that differ are all dropped (kIo). Ok with nothing done when it is cached
  // already, or when its ranges are not all stored (or were dropped during
  // the check: a later whole read checks them again).
  Status check_ranges(const BlobId& id);
  // Tests: runs in check_ranges between its read and its verdict.
  void on_range_check_read(std::function<void()> hook) { range_check_hook_ = std::move(hook); }
  // Drops the cached bytes of blob `id`, keeping its record: the bucket has
  // them (a read fetches them again). Absent or uncached: nothing.
  Status uncache_blob(const BlobId& id);
  // The bytes of every cached blob of a bucket's store (nullopt for a store
  // of its own), kept by the write transactions that add or drop them.
  Result<std::optional<uint64_t>> cached_bytes();
  // Each cached blob an image set's original is (once each, with its size),
  // in one read transaction; `fn` returns false to stop.
  Status scan_cached_originals(const std::function<bool(const BlobId&, uint64_t)>& fn);

  Result<std::optional<SetRecord>> get_set(const ImageSetKey& set);
  // The generation of a bucket's thumbnail object (store_thumb_gen.cc): the
  // seq of its last drop_thumb, 0 when none.
  Result<uint64_t> thumb_gen(const BlobId& original, std::string_view recipe,
                             std::string_view name);
  Result<std::optional<ThumbRecord>> get_thumbnail(const ImageSetKey& set,
                                                   const ThumbnailSpec& spec);

  // Stores a thumbnail made from the set's original `source`. If the set's
  // original is no longer `source`: kNotFound. If one is stored already, returns it.
  // `stored` (if given) says whether these bytes were stored (not one found).
  // A -cover recipe (ThumbFit::kCover) was cropped around `focus`: if the
  // set's focal point is no longer that, kNotFound too.
  Result<ThumbRecord> put_thumbnail(const ImageSetKey& set, const ThumbnailSpec& spec,
                                    const BlobId& source, std::span<const uint8_t> bytes,
                                    uint32_t width, uint32_t height, int64_t now_ns,
                                    bool* stored = nullptr,
                                    const std::optional<FocalPoint>& focus = std::nullopt);
  // Drops one thumbnail. Absent: kNotFound.
  Status remove_thumbnail(const ImageSetKey& set, const ThumbnailSpec& spec);

  // Listing, in key order, resuming after `after` when given; `fn` returns
  // false to stop. Each call is one read transaction.
  Status list_entities(const std::string& type, const std::optional<EntityId>& after,
                       const std::function<bool(const EntityId&)>& fn);
  Status list_sets(const std::string& type, const EntityId& id, const std::string& attachment,
                   const std::optional<uint32_t>& after,
                   const std::function<bool(uint32_t index)>& fn);
  Result<bool> has_sets(const std::string& type, const EntityId& id, const std::string& attachment);
  // The sets of the attachment of `set` (with `whole_attachment`), or the one
  // set `set`, with their thumbnails, in key order: one read transaction, so
  // that what they hold is consistent (store_snapshot.cc).
  Result<std::vector<StoredSet>> read_sets(const ImageSetKey& set, bool whole_attachment);
  Status list_thumbnails(const ImageSetKey& set,
                         const std::function<bool(const ThumbnailSpec&, const ThumbRecord&)>& fn);

  // The mtime a SetDirMtime gave directory `dir`; nullopt when none did.
  Result<std::optional<int64_t>> get_dir_mtime(const std::string& dir);

  // Reads a blob's bytes; pieces are valid during `sink` only.
  Status read_blob(const BlobId& id, uint64_t size, uint64_t offset, uint64_t length,
                   const BlobReadSink& sink);
  // Copies a whole blob of `size` bytes into `out` (BlobStore::read_into).
  Status read_blob_into(const BlobId& id, std::span<uint8_t> out) {
    return blobs_->read_into(id, out.size(), 0, out);
  }
  // Whether blob `id` is stored (it may be unreferenced but pinned).
  Result<bool> has_blob(const BlobId& id);

  // Open files pin their blob: a pinned blob whose references drop to 0 stays
  // until unpinned. pin() fails with kNotFound if the blob is gone already.
  Status pin(const BlobId& id);
  void unpin(const BlobId& id);

  // Thumbnails' use and eviction (store_thumbnail_use.cc). scan_thumbnails
  // walks every thumbnail record in one read transaction, reading no blob;
  // `fn` returns false to stop.
  Status scan_thumbnails(const std::function<bool(const ThumbnailRef&, const ThumbRecord&)>& fn);
  // Drops each thumbnail still at its revision as remove_thumbnail does (its
  // blob freed when unreferenced and unpinned), in one write transaction.
  // Returns those dropped; one remade or gone meanwhile is skipped.
  Result<std::vector<ThumbnailRef>> evict_thumbnails(std::span<const ThumbnailRef> refs);
  // Sets used_ns of each thumbnail still at its revision to the given time
  // when that is at least `min_step_ns` after the stored one, in one write
  // transaction (that writes nothing when no time is due).
  Status record_thumbnail_use(std::span<const std::pair<ThumbnailRef, int64_t>> uses,
                              int64_t min_step_ns);

  // What the store holds now (one read of its metadata, no walk).
  Result<StoreTotals> totals();
  StoreMapUsage map_usage();

 private:
  // Changes to StoreTotals that the open write transaction makes.
  struct TotalsDelta {
    int64_t originals = 0;
    int64_t original_bytes = 0;
    int64_t thumbnails = 0;
    int64_t thumbnail_bytes = 0;
    int64_t cached_bytes = 0;  // blob bytes stored or dropped (store_cache.cc)
  };

  Store(std::unique_ptr<LmdbEnv> env, std::unique_ptr<BlobStore> blobs, bool read_only)
      : env_(std::move(env)), blobs_(std::move(blobs)), read_only_(read_only) {}

  // Runs `change(txn)` (returning Result<T> or Status) in a write
  // transaction, one writer at a time, and commits when it succeeds, freeing
  // what the transaction left unreferenced and unpinned (see commit()).
  template <typename Change>
  auto write(Change&& change) -> decltype(change(std::declval<StoreTxn&>()));

  Result<uint64_t> next_revision(StoreTxn& txn);
  // `bytes` null: a blob committed on another host, recorded without them
  // where they are not cached.
  Status add_ref(StoreTxn& txn, const BlobId& id, uint64_t size, uint64_t xxh3,
                 const BlobSource* bytes);
  Status verify_stored(StoreTxn& txn, const BlobId& id, uint64_t stored_size,
                       const BlobSource& bytes);
  Status drop_ref(StoreTxn& txn, const BlobId& id);
  // Drops the set's thumbnails (those `which` picks, if given).
  Status drop_thumbnails(StoreTxn& txn, const ImageSetKey& set, std::vector<ThumbnailSpec>* dropped,
                         const std::function<bool(const ThumbnailSpec&)>& which = {});
  // Drops the set's -cover thumbnails (cropped around its focus) into `outcome`.
  Status drop_cover_thumbnails(StoreTxn& txn, const ImageSetKey& set, ApplyOutcome& outcome);
  Status free_unreferenced(StoreTxn& txn, const BlobId& id);
  Status collect_garbage();
  Status commit(StoreTxn& txn);
  // Totals (store_totals.cc): `sign` +1 for a record added, -1 for one gone.
  void count_original(int sign, uint64_t size);
  void count_thumbnail(int sign, uint64_t size);
  Status write_totals(StoreTxn& txn);
  // The cached bytes' total moved by the transaction (after its frees).
  Status write_cached(StoreTxn& txn);
  // Starts keeping the cached bytes' total (a store put on a bucket), or
  // counts it again (`afresh`).
  Status start_counting_cached(StoreTxn& txn, bool afresh = false);
  void count_cached(int sign, uint64_t size) {
    totals_delta_.cached_bytes += sign * static_cast<int64_t>(size);
  }
  // The open write transaction drops the bytes (or ranges) of blob `id`.
  void dropping(const BlobId& id) { dropped_ids_.push_back(id); }
  // After a commit: counts its drops for the checks of those blobs under way.
  void published_drops();
  // How many drops of blob `id` were committed since its check began.
  uint64_t drops_of(const BlobId& id);
  // Computes the totals by one walk when the metadata holds none (a store
  // made before they were kept, or after fsck --repair dropped them).
  Status ensure_totals();

  Result<ApplyOutcome> apply_attach(StoreTxn& txn, const AttachOriginal& op, int64_t time_ns,
                                    const BlobSource* bytes);
  Result<ApplyOutcome> apply_remove(StoreTxn& txn, const RemoveSet& op);
  Result<ApplyOutcome> apply_move(StoreTxn& txn, const MoveSet& op);
  Result<ApplyOutcome> apply_mtime(StoreTxn& txn, const SetMtime& op);
  Result<ApplyOutcome> apply_created(StoreTxn& txn, const SetCreated& op);
  Result<ApplyOutcome> apply_focus(StoreTxn& txn, const SetFocus& op);
  Result<ApplyOutcome> apply_dir_mtime(StoreTxn& txn, const SetDirMtime& op);
  Result<ApplyOutcome> apply_drop_thumb(StoreTxn& txn, const DropThumb& op);
  Result<ApplyOutcome> apply_in(StoreTxn& txn, const Op& op, const BlobSource* blob_bytes);
  Result<ApplyOutcome> apply_logged_op(StoreTxn& txn, const LoggedOp& op, const LoggedEntry& entry);
  // A GC step of `entry`, and an attach's GC rules.
  Result<ApplyOutcome> apply_gc(StoreTxn& txn, const GcOp& op, const LoggedEntry& entry);
  Status admit_attach(StoreTxn& txn, const BlobId& blob, uint64_t checked);

  std::unique_ptr<LmdbEnv> env_;
  std::unique_ptr<BlobStore> blobs_;
  const bool read_only_;
  std::mutex writer_mutex_;  // one write transaction at a time (LMDB's rule, made explicit)
  std::mutex pins_mutex_;    // held while pinning, and from a free decision to its commit
  std::map<BlobId, int> pins_;
  std::vector<BlobId> pending_free_;  // blobs the open write txn left at 0 refs (writer_mutex_)
  TotalsDelta totals_delta_;          // of the open write txn (writer_mutex_)
  // While a log entry's op is applied: the revision its changes take
  // (seq·2^16 + the op's position), the same on every host (writer_mutex_).
  uint64_t logged_revision_ = 0;
  std::vector<BlobId> dropped_ids_;  // blobs the open write txn drops bytes of (writer_mutex_)
  // The checks of ranges under way (check_ranges, read outside any write
  // transaction): per blob, how many run and how many drops of its bytes
  // were committed since the first began, by which a check knows whether
  // the bytes it read may have been dropped (and fetched anew) before it
  // writes its verdict. Counted after each commit, under writer_mutex_.
  std::mutex checks_mutex_;  // after writer_mutex_
  std::map<BlobId, std::pair<int, uint64_t>> checks_;
  std::function<void()> range_check_hook_;
};

// `total` moved by `delta`, never below 0.
uint64_t moved(uint64_t total, int64_t delta);

// Status of a Status, or of a Result<T>: whether a change succeeded.
inline Status status_of(const Status& s) { return s; }
template <typename T>
Status status_of(const Result<T>& r) {
  return r ? Status::Ok() : Status(r.error());
}

template <typename Change>
auto Store::write(Change&& change) -> decltype(change(std::declval<StoreTxn&>())) {
  if (read_only_) return make_error(ErrorCode::kReadOnly, "the store is mounted read-only");
  std::lock_guard writer(writer_mutex_);
  pending_free_.clear();
  dropped_ids_.clear();
  totals_delta_ = {};
  StoreTxn txn(*env_, true);
  if (!txn.ok()) return txn.error();
  auto result = change(txn);
  if (!status_of(result)) return result;
  if (Status s = commit(txn); !s) return s.error();
  if (!dropped_ids_.empty()) published_drops();
  return result;
}

}  // namespace iafs
