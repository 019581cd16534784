// fsck's walks: chunks, blobs (their bytes hashed), sets, thumbnails.
#include "store/fsck_scan.h"

#include <algorithm>
#include <cstdio>

#include "base/numbers.h"
#include "imageattachfs/format.h"
#include "imageattachfs/recipe.h"
#include "store/hashing.h"
#include "store/lmdb_blob_store.h"

namespace iafs::fsck {
namespace {

constexpr size_t kChunkKeySize = BlobId().size() + 4;
constexpr size_t kThumbSpecSize = 6;  // fit, size (u32 BE), format

BlobId blob_id_at(std::span<const uint8_t> key) {
  BlobId id;
  std::copy_n(key.begin(), id.size(), id.begin());
  return id;
}

// "posts/42/photos/0" from a set key; the key's hex when it does not decode.
std::string set_name(std::span<const uint8_t> key) {
  auto type_end = std::find(key.begin(), key.end(), uint8_t{0});
  if (type_end == key.end()) return "key " + hex_of(key);
  size_t type_size = static_cast<size_t>(type_end - key.begin());
  auto id = decode_entity_id(key, type_size + 1);
  if (!id) return "key " + hex_of(key);
  size_t at = type_size + 1 + (id->is_integer ? 9 : id->text.size() + 2);
  if (at > key.size()) return "key " + hex_of(key);
  auto attachment_end = std::find(key.begin() + static_cast<long>(at), key.end(), uint8_t{0});
  if (key.end() - attachment_end != 5) return "key " + hex_of(key);
  std::string type(key.begin(), type_end);
  std::string attachment(key.begin() + static_cast<long>(at), attachment_end);
  return type + "/" + id->text + "/" + attachment + "/" + std::to_string(decode_index(key));
}

std::string thumbnail_key_name(std::span<const uint8_t> key, const ThumbnailSpec& spec) {
  return set_name(key.first(key.size() - kThumbSpecSize)) + "/thumb/" + thumbnail_name(spec);
}

}  // namespace

std::string hex_of(std::span<const uint8_t> bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (uint8_t b : bytes) {
    hex.push_back(kDigits[b >> 4]);
    hex.push_back(kDigits[b & 15]);
  }
  return hex;
}

std::string read_chunks(StoreTxn& txn, const BlobId& id, uint64_t size, std::vector<uint8_t>& out) {
  constexpr uint64_t kChunk = LmdbBlobStore::kChunkSize;
  uint64_t count = (size + kChunk - 1) / kChunk;
  out.clear();
  for (uint64_t n = 0; n < count; ++n) {
    auto chunk = txn.get(txn.dbs().chunks, chunk_key(id, static_cast<uint32_t>(n)));
    if (!chunk) return "chunk " + std::to_string(n) + " unreadable: " + chunk.error().message;
    std::string which = "chunk " + std::to_string(n) + " of " + std::to_string(count);
    if (!chunk->has_value()) return which + " missing";
    uint64_t expected = std::min(kChunk, size - n * kChunk);
    if ((*chunk)->size() != expected) {
      return which + " is " + std::to_string((*chunk)->size()) + " bytes, expected " +
             std::to_string(expected);
    }
    out.insert(out.end(), (*chunk)->begin(), (*chunk)->end());
  }
  return {};
}

Status scan_chunks(StoreTxn& txn, Scan& scan) {
  Cursor cursor(txn, txn.dbs().chunks);
  if (!cursor.ok()) return cursor.error();
  Result<bool> at = cursor.seek({});
  for (; at && *at; at = cursor.next()) {
    auto key = cursor.key();
    if (key.size() != kChunkKeySize) {
      scan.bad_keys_chunks.emplace_back(key.begin(), key.end());
      continue;
    }
    scan.blobs[blob_id_at(key)].chunks.push_back(get_u32_be(key.data() + BlobId().size()));
  }
  if (!at) return at.error();
  return Status::Ok();
}

Status scan_blobs(StoreTxn& txn, Scan& scan) {
  Cursor cursor(txn, txn.dbs().blobs);
  if (!cursor.ok()) return cursor.error();
  std::vector<uint8_t> bytes;
  Result<bool> at = cursor.seek({});
  for (; at && *at; at = cursor.next()) {
    auto key = cursor.key();
    if (key.size() != BlobId().size()) {
      scan.bad_keys_blobs.emplace_back(key.begin(), key.end());
      continue;
    }
    ++scan.counts.blobs;
    BlobId id = blob_id_at(key);
    BlobState& blob = scan.blobs[id];
    blob.record = decode_record<BlobRecord>(cursor.value());
    if (!blob.record) {
      blob.record_corrupt = true;
      continue;
    }
    // Committed on another host of its bucket, its bytes not fetched yet:
    // the bucket holds them.
    if (!blob.record->cached) continue;
    blob.damage = read_chunks(txn, id, blob.record->size, bytes);
    if (!blob.damage.empty()) continue;
    scan.counts.bytes_checked += bytes.size();
    uint64_t xxh3 = xxh3_of(bytes);
    BlobId sha = sha256_of(bytes);
    if (xxh3 != blob.record->xxh3) {
      blob.damage = "bad XXH3 checksum: its bytes give " + hex_u64(xxh3) + ", its record " +
                    hex_u64(blob.record->xxh3);
    }
    if (sha != id) {
      if (!blob.damage.empty()) blob.damage += ", ";
      blob.damage += "SHA-256 of its bytes is " + blob_id_hex(sha) + ", not its id";
    }
  }
  if (!at) return at.error();
  return Status::Ok();
}

Status scan_sets(StoreTxn& txn, Scan& scan) {
  Cursor cursor(txn, txn.dbs().sets);
  if (!cursor.ok()) return cursor.error();
  Result<bool> at = cursor.seek({});
  for (; at && *at; at = cursor.next()) {
    ++scan.counts.sets;
    auto record = decode_record<SetRecord>(cursor.value());
    if (!record) {
      scan.findings.push_back(
          {"corrupt set record " + set_name(cursor.key()), false, "a set record is never dropped"});
      continue;
    }
    std::string name = set_name(cursor.key()) + "/original." + record->ext;
    BlobState& blob = scan.blobs[record->blob];
    ++blob.refs_now;
    ++blob.refs_kept;
    blob.users.push_back("set " + name);
    if (blob.record && blob.record->size != record->size) {
      scan.findings.push_back({"set " + name + ": size " + std::to_string(record->size) +
                                   ", its blob " + blob_id_hex(record->blob) + " holds " +
                                   std::to_string(blob.record->size),
                               false, "a set record is never dropped"});
    }
  }
  if (!at) return at.error();
  return Status::Ok();
}

Status scan_thumbnails(StoreTxn& txn, Scan& scan) {
  Cursor cursor(txn, txn.dbs().thumbs);
  if (!cursor.ok()) return cursor.error();
  Result<bool> at = cursor.seek({});
  const std::string remedy = "thumbnail record dropped (remade on read)";
  for (; at && *at; at = cursor.next()) {
    ++scan.counts.thumbnails;
    auto key = cursor.key();
    auto spec = decode_thumbnail_spec(key);
    auto record = decode_record<ThumbRecord>(cursor.value());
    if (!spec || !record) {
      scan.findings.push_back({"corrupt thumbnail record key " + hex_of(key), true, remedy});
      scan.thumbs_to_drop.emplace_back(key.begin(), key.end());
      continue;
    }
    std::string name = "thumbnail " + thumbnail_key_name(key, *spec);
    auto original =
        get_record<SetRecord>(txn, txn.dbs().sets, key.first(key.size() - kThumbSpecSize));
    std::string problem;
    if (!original || !original->has_value()) {
      problem = ": its set holds no original";
    } else if ((*original)->blob != record->source) {
      problem = ": made from blob " + blob_id_hex(record->source) + ", not from the original";
    }
    BlobState& blob = scan.blobs[record->blob];
    ++blob.refs_now;
    blob.users.push_back(name);
    if (blob.record && problem.empty() && blob.record->size != record->size) {
      problem = ": size " + std::to_string(record->size) + ", its blob " +
                blob_id_hex(record->blob) + " holds " + std::to_string(blob.record->size);
    }
    if (!problem.empty()) scan.findings.push_back({name + problem, true, remedy});
    // A thumbnail whose blob is missing or damaged is reported with the blob.
    if (problem.empty() && blob.record && blob.damage.empty()) {
      ++blob.refs_kept;
      continue;
    }
    if (problem.empty()) ++blob.thumbnails_dropped;
    scan.thumbs_to_drop.emplace_back(key.begin(), key.end());
  }
  if (!at) return at.error();
  return Status::Ok();
}

}  // namespace iafs::fsck
