// A log entry of a bucket's store (SCALEOUT.md §3): log/<seq> holds the ops
// of one group commit as canonical JSON — UTF-8, keys in a fixed order, no
// whitespace, optional fields left out — so that its bytes, and the SHA-256
// the next entry's "prev" names, are the same on every host.
//
// Beside the design's ops (attach, remove, move, mtime, drop_thumb, condemn,
// sweep, swept), the log carries every other op of store/ops.h, so that all
// hosts derive the same state: created (a restored created_at), focus, and
// dir_mtime; attach carries created_ns, focus, color and blurhash too.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "imageattachfs/result.h"
#include "store/ops.h"

namespace iafs::sync {

constexpr size_t kMaxEntryBytes = 1 << 20;
constexpr size_t kMaxEntryOps = 1000;

// A step of garbage collection across hosts (SCALEOUT.md §9).
struct GcStep {
  enum class Kind : uint8_t { kCondemn, kSweep, kSwept };
  Kind kind = Kind::kCondemn;
  std::vector<BlobId> shas;
  // kSweep: only shas condemned at least this long before (in entry time)
  // are swept; carried in the entry so that every host decides alike.
  int64_t grace_ns = 0;
};

struct LogOp {
  uint64_t id = 0;  // 64 random bits, for tracing and the pending table
  std::variant<AttachOriginal, RemoveSet, MoveSet, SetMtime, SetCreated, SetFocus, SetDirMtime,
               DropThumb, GcStep>  // DropThumb: store/ops.h
      change;
  // attach: the writer's cursor when it found the blob in the bucket (GC).
  uint64_t checked = 0;
  // mtime, created, focus: the extension of the original the writer saw
  // (the op is refused where the set's original has another). remove uses
  // RemoveSet::ext, which the log requires.
  std::string ext;
};

struct Entry {
  uint64_t seq = 0;     // = the key's number, from 1
  std::string prev;     // SHA-256 hex of log/<seq-1>'s bytes (seq 1: of fs.json)
  std::string host;     // the writer's uuid
  int64_t time_ns = 0;  // every op's time
  std::vector<LogOp> ops;
};

// The canonical bytes of `entry`.
std::string encode_entry(const Entry& entry);

// Reads an entry. kInvalid, with why, for anything a host must not apply:
// not JSON, v other than 1, an unknown op or field, a field missing or of the
// wrong kind, bytes that are not the canonical encoding of what they say,
// more than kMaxEntryBytes or kMaxEntryOps.
Result<Entry> decode_entry(std::string_view bytes);

}  // namespace iafs::sync
