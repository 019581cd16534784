// fsck: judging what the walks found (fsck_scan.cc), reporting and repairing.
#include "store/fsck.h"

#include "store/fsck_scan.h"
#include "store/hashing.h"
#include "store/lmdb_blob_store.h"

namespace iafs {
namespace fsck {
namespace {

// The changes a repair makes, applied after every walk is done.
struct Repairs {
  std::vector<BlobId> blobs_to_drop;  // record and every stored chunk
  std::vector<std::pair<BlobId, BlobRecord>> records_to_put;
  std::vector<Key> chunks_to_drop;
};

std::string used_by(const BlobState& blob) {
  if (blob.users.empty()) return "";
  std::string text = "; used by ";
  for (size_t i = 0; i < blob.users.size() && i < 8; ++i) {
    text += (i > 0 ? ", " : "") + blob.users[i];
  }
  if (blob.users.size() > 8) text += " and " + std::to_string(blob.users.size() - 8) + " more";
  return text;
}

uint64_t chunk_count(uint64_t size) {
  return (size + LmdbBlobStore::kChunkSize - 1) / LmdbBlobStore::kChunkSize;
}

std::string drop_remedy(const BlobState& blob, const std::string& what) {
  if (blob.thumbnails_dropped == 0) return what + " dropped";
  return std::to_string(blob.thumbnails_dropped) +
         " thumbnail record(s) dropped (remade on read), " + what + " dropped";
}

// A blob with a record: damage, references, stray chunks.
void judge_recorded(const BlobId& id, BlobState& blob, Scan& scan, Repairs& repairs) {
  const std::string hex = blob_id_hex(id);
  const BlobRecord& record = *blob.record;
  bool drop = blob.refs_kept == 0;
  if (!blob.damage.empty()) {
    bool fixable = blob.refs_kept == 0;
    scan.findings.push_back(
        {"damaged blob " + hex + ": " + blob.damage + used_by(blob), fixable,
         fixable ? drop_remedy(blob, "the blob")
                 : "an original's bytes are damaged: upload it again or restore it from a backup"});
  } else if (blob.refs_now == 0 && record.refs == 0) {
    // What a file open while its set was replaced or removed holds (the
    // daemon's, or one open at its last stop): no damage.
    scan.findings.push_back({"unreferenced blob " + hex +
                                 ": refs 0, freed when the files holding it close or at the "
                                 "next mount",
                             true, "dropped", true});
  } else if (blob.refs_now == 0) {
    scan.findings.push_back({"orphan blob " + hex + ": refs " + std::to_string(record.refs) +
                                 ", no record points at it",
                             true, "dropped"});
  } else if (record.refs != blob.refs_now) {
    scan.findings.push_back({"wrong reference count of blob " + hex + ": refs " +
                                 std::to_string(record.refs) + ", records pointing at it " +
                                 std::to_string(blob.refs_now),
                             true, "refs set to " + std::to_string(blob.refs_kept)});
  }
  uint64_t count = chunk_count(record.size);
  uint64_t extra = static_cast<uint64_t>(std::count_if(blob.chunks.begin(), blob.chunks.end(),
                                                       [&](uint32_t n) { return n >= count; }));
  if (extra > 0) {
    scan.findings.push_back({"blob " + hex + ": " + std::to_string(extra) + " chunk(s) past its " +
                                 std::to_string(record.size) + " bytes",
                             true, "dropped"});
    if (!drop) {
      for (uint32_t n : blob.chunks) {
        if (n >= count) repairs.chunks_to_drop.push_back(chunk_key(id, n));
      }
    }
  }
  if (drop) {
    repairs.blobs_to_drop.push_back(id);
  } else if (record.refs != blob.refs_kept) {
    BlobRecord fixed = record;
    fixed.refs = blob.refs_kept;
    repairs.records_to_put.emplace_back(id, fixed);
  }
}

// A blob id without a (readable) record: chunks left over, or records dangling.
void judge_unrecorded(StoreTxn& txn, const BlobId& id, BlobState& blob, Scan& scan,
                      Repairs& repairs) {
  const std::string hex = blob_id_hex(id);
  std::string what =
      blob.record_corrupt ? "corrupt record of blob " + hex : "missing record of blob " + hex;
  if (blob.refs_now == 0) {
    if (blob.record_corrupt) {
      scan.findings.push_back({what + ", no record points at it", true, "dropped with its chunks"});
    } else {
      scan.findings.push_back({"orphan chunks: " + std::to_string(blob.chunks.size()) +
                                   " chunk(s) of blob " + hex + ", which has no record",
                               true, "dropped"});
    }
    repairs.blobs_to_drop.push_back(id);
    return;
  }
  if (blob.refs_kept == 0) {
    scan.findings.push_back({what + used_by(blob), true, drop_remedy(blob, "its chunks")});
    repairs.blobs_to_drop.push_back(id);
    return;
  }
  // An original points at it: its chunks may still hold the bytes.
  uint64_t size = 0;
  for (uint32_t n : blob.chunks) {
    auto chunk = txn.get(txn.dbs().chunks, chunk_key(id, n));
    if (chunk && chunk->has_value()) size += (*chunk)->size();
  }
  std::vector<uint8_t> bytes;
  bool whole = read_chunks(txn, id, size, bytes).empty() && chunk_count(size) == blob.chunks.size();
  if (whole && sha256_of(bytes) == id) {
    scan.counts.bytes_checked += bytes.size();
    BlobRecord rebuilt{size, xxh3_of(bytes), blob.refs_kept};
    scan.findings.push_back({what + used_by(blob), true,
                             "record rebuilt from its chunks, which hash to its id (refs " +
                                 std::to_string(blob.refs_kept) + ")"});
    repairs.records_to_put.emplace_back(id, rebuilt);
    return;
  }
  scan.findings.push_back({what + ", and its chunks do not hold its bytes" + used_by(blob), false,
                           "an original's bytes are missing: upload it again or restore it"});
}

Status apply(StoreTxn& txn, const Scan& scan, const Repairs& repairs) {
  const Databases& dbs = txn.dbs();
  for (const Key& key : scan.thumbs_to_drop) {
    if (Status s = txn.del(dbs.thumbs, key); !s) return s;
  }
  for (const Key& key : scan.bad_keys_blobs) {
    if (Status s = txn.del(dbs.blobs, key); !s) return s;
  }
  for (const Key& key : scan.bad_keys_chunks) {
    if (Status s = txn.del(dbs.chunks, key); !s) return s;
  }
  for (const Key& key : repairs.chunks_to_drop) {
    if (Status s = txn.del(dbs.chunks, key); !s) return s;
  }
  for (const BlobId& id : repairs.blobs_to_drop) {
    if (Status s = txn.del(dbs.blobs, id); !s) return s;
    for (uint32_t n : scan.blobs.at(id).chunks) {
      if (Status s = txn.del(dbs.chunks, chunk_key(id, n)); !s) return s;
    }
  }
  for (const auto& [id, record] : repairs.records_to_put) {
    if (Status s = txn.put(dbs.blobs, id, encode_record(record)); !s) return s;
  }
  // Records dropped: the store's totals are computed again at its next open.
  if (Status s = txn.del(dbs.meta, kTotalsKey); !s) return s;
  return txn.commit();
}

}  // namespace
}  // namespace fsck

Result<FsckSummary> fsck_store(const std::string& dir, const FsckOptions& options,
                               const FsckReport& report) {
  using namespace fsck;
  EnvOptions env_options;
  env_options.read_only = !options.repair;
  auto env = LmdbEnv::open(dir, env_options);
  if (!env) return env.error();
  StoreTxn txn(**env, options.repair);
  if (!txn.ok()) return txn.error();
  Scan scan;
  for (auto walk : {scan_chunks, scan_blobs, scan_sets, scan_thumbnails}) {
    if (Status s = walk(txn, scan); !s) return s.error();
  }
  for (const Key& key : scan.bad_keys_blobs) {
    scan.findings.push_back({"malformed blob key " + hex_of(key), true, "dropped"});
  }
  for (const Key& key : scan.bad_keys_chunks) {
    scan.findings.push_back({"malformed chunk key " + hex_of(key), true, "dropped"});
  }
  Repairs repairs;
  for (auto& [id, blob] : scan.blobs) {
    if (blob.record) {
      judge_recorded(id, blob, scan, repairs);
    } else {
      judge_unrecorded(txn, id, blob, scan, repairs);
    }
  }
  FsckSummary summary = scan.counts;
  for (const Finding& finding : scan.findings) {
    if (finding.note) {
      ++summary.notes;
      report("note: " + finding.text);
      continue;
    }
    ++summary.findings;
    if (!options.repair) {
      report(finding.text);
    } else if (finding.fixable) {
      ++summary.repaired;
      report(finding.text + " -- repaired: " + finding.remedy);
    } else {
      report(finding.text + " -- left: " + finding.remedy);
    }
  }
  if (options.repair && summary.findings > 0) {
    if (Status s = apply(txn, scan, repairs); !s) return s.error();
  }
  return summary;
}

std::string fsck_summary_line(const FsckSummary& s) {
  uint64_t left = s.findings - s.repaired;
  return std::to_string(s.sets) + " sets, " + std::to_string(s.thumbnails) + " thumbnails, " +
         std::to_string(s.blobs) + " blobs, " + std::to_string(s.bytes_checked) +
         " bytes checked; " + std::to_string(s.findings) +
         (s.findings == 1 ? " finding, " : " findings, ") + std::to_string(s.repaired) +
         " repaired, " + std::to_string(left) + " left" +
         (s.notes == 0 ? "" : "; " + std::to_string(s.notes) + " note(s)");
}

int fsck_exit_status(const FsckSummary& s) {
  if (s.findings == 0) return 0;
  return s.repaired == s.findings ? 1 : 2;
}

}  // namespace iafs
