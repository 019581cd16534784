// fsck's walks over the store (internal to fsck.cc and fsck_scan.cc): what
// each blob id has (record, chunks, intact bytes) and who points at it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/fsck.h"
#include "store/keys.h"
#include "store/lmdb.h"
#include "store/records.h"

namespace iafs::fsck {

// One blob id as the walks found it: in the blobs database, in chunks, in
// records.
struct BlobState {
  std::optional<BlobRecord> record;  // nullopt: no record, or a malformed one
  bool record_corrupt = false;       // a value under the id that does not decode
  std::vector<uint32_t> chunks;      // chunk numbers stored, ascending
  std::string damage;                // what is wrong with its bytes; empty: intact
  uint32_t refs_now = 0;             // records pointing at it
  uint32_t refs_kept = 0;            // of them, records that repair keeps
  uint32_t thumbnails_dropped = 0;   // records pointing at it that repair drops
  std::vector<std::string> users;    // "set posts/1/photos/0/original.jpg", "thumbnail ..."
};

// One line of the report.
struct Finding {
  std::string text;
  bool fixable = false;
  std::string remedy;  // what repair does (fixable), or why it is left
  // Not damage: reported as a note, counted apart (a blob at refs 0, freed
  // when the files holding it close or at the next mount).
  bool note = false;
};

struct Scan {
  FsckSummary counts;
  std::map<BlobId, BlobState> blobs;
  std::vector<Key> bad_keys_chunks;  // malformed keys in chunks: dropped
  std::vector<Key> bad_keys_blobs;   // malformed keys in blobs: dropped
  std::vector<Key> thumbs_to_drop;
  std::vector<Finding> findings;
};

// The walks, in this order (each relies on the ones before).
Status scan_chunks(StoreTxn& txn, Scan& scan);
Status scan_blobs(StoreTxn& txn, Scan& scan);
Status scan_sets(StoreTxn& txn, Scan& scan);
Status scan_thumbnails(StoreTxn& txn, Scan& scan);

// Reads a blob's chunks 0..n-1 for `size` bytes into `out`; an empty string,
// or what is missing or short ("chunk 2 of 3 missing").
std::string read_chunks(StoreTxn& txn, const BlobId& id, uint64_t size, std::vector<uint8_t>& out);

// Lowercase hex of any bytes.
std::string hex_of(std::span<const uint8_t> bytes);

}  // namespace iafs::fsck
