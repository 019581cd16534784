#include "sync/snapshots.h"

#include <zstd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "base/json.h"
#include "log/log.h"
#include "store/hashing.h"
#include "sync/log_bucket.h"

namespace iafs::sync {
namespace {

constexpr int kZstdLevel = 3;
constexpr uint64_t kMaxPartBytes = uint64_t{1} << 30;  // uncompressed, read back

std::span<const uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::string seq_digits(uint64_t seq) {
  char digits[21];
  std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(seq));
  return digits;
}

Result<std::string> compress(const std::string& part) {
  std::string out(ZSTD_compressBound(part.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), part.data(), part.size(), kZstdLevel);
  if (ZSTD_isError(n))
    return make_error(ErrorCode::kIo, std::string("zstd: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

Result<std::string> decompress(const std::string& key, const std::string& object) {
  unsigned long long size = ZSTD_getFrameContentSize(object.data(), object.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > kMaxPartBytes) {
    return make_error(ErrorCode::kIo, key + ": not a zstd frame of a known size");
  }
  std::string out(size, '\0');
  size_t n = ZSTD_decompress(out.data(), out.size(), object.data(), object.size());
  if (ZSTD_isError(n) || n != size) {
    return make_error(ErrorCode::kIo, key + ": zstd: " + ZSTD_getErrorName(n));
  }
  return out;
}

std::string hex64(uint64_t v) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(v));
  return text;
}

std::optional<uint64_t> parse_hex64(const std::string& text) {
  if (text.size() != 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

}  // namespace

std::string snapshot_prefix(uint64_t seq) { return "snap/" + seq_digits(seq) + "/"; }

std::string encode_snapshot_index(const SnapshotIndex& index) {
  std::string out = "{\"format\":1,\"seq\":" + std::to_string(index.seq) + ",\"entry_sha256\":";
  append_json_string(out, index.entry_sha256);
  out += ",\"time_ns\":";
  append_json_string(out, std::to_string(index.time_ns));
  out += ",\"host\":";
  append_json_string(out, index.host);
  out += ",\"parts\":[";
  for (size_t i = 0; i < index.parts.size(); ++i) {
    if (i != 0) out += ",";
    out += "{\"key\":";
    append_json_string(out, index.parts[i].key);
    out += ",\"bytes\":" + std::to_string(index.parts[i].bytes) + ",\"xxh3\":";
    append_json_string(out, hex64(index.parts[i].xxh3));
    out += "}";
  }
  out += "],\"records\":" + std::to_string(index.records) + ",\"stream_sha256\":";
  append_json_string(out, index.stream_sha256);
  out += "}";
  return out;
}

Result<SnapshotIndex> decode_snapshot_index(std::string_view bytes) {
  auto bad = [](const std::string& why) {
    return make_error(ErrorCode::kInvalid, "snapshot index: " + why);
  };
  Result<Json> json = parse_json(bytes);
  if (!json) return bad(json.error().message);
  auto text = [&](std::string_view name) -> std::optional<std::string> {
    const Json* v = json->find(name);
    if (v == nullptr || v->kind != Json::Kind::kString) return std::nullopt;
    return v->text;
  };
  auto number = [&](const Json& in, std::string_view name) -> std::optional<uint64_t> {
    const Json* v = in.find(name);
    return v == nullptr ? std::nullopt : v->as_uint();
  };
  SnapshotIndex index;
  std::optional<std::string> sha = text("entry_sha256"), time = text("time_ns"),
                             host = text("host"), stream = text("stream_sha256");
  std::optional<uint64_t> format = number(*json, "format"), seq = number(*json, "seq"),
                          records = number(*json, "records");
  const Json* parts = json->find("parts");
  if (format != 1u) return bad("not of format 1");
  if (!sha || !time || !host || !stream || !seq || !records || parts == nullptr ||
      parts->kind != Json::Kind::kArray || sha->size() != 64 || stream->size() != 64) {
    return bad("a field missing or malformed");
  }
  char* end = nullptr;
  index.time_ns = std::strtoll(time->c_str(), &end, 10);
  if (time->empty() || *end != '\0') return bad("a bad time_ns");
  index.seq = *seq;
  index.entry_sha256 = *sha;
  index.host = *host;
  index.records = *records;
  index.stream_sha256 = *stream;
  for (const Json& part : parts->items) {
    const Json* key = part.find("key");
    const Json* xxh3 = part.find("xxh3");
    std::optional<uint64_t> size = number(part, "bytes");
    std::optional<uint64_t> hash =
        xxh3 && xxh3->kind == Json::Kind::kString ? parse_hex64(xxh3->text) : std::nullopt;
    if (key == nullptr || key->kind != Json::Kind::kString || !size || !hash ||
        !key->text.starts_with(snapshot_prefix(index.seq))) {
      return bad("a bad part");
    }
    index.parts.push_back(SnapshotPart{key->text, *size, *hash});
  }
  return index;
}

Result<Snapshots::Written> Snapshots::put(const DerivedDump& dump, const std::string& host,
                                          s3::Deadline deadline) {
  SnapshotIndex index;
  index.seq = dump.at.seq;
  index.entry_sha256 = dump.at.sha256_hex;
  index.time_ns = dump.at.time_ns;
  index.host = host;
  index.records = dump.records;
  Sha256 stream;
  std::string mine = snapshot_prefix(index.seq) + host + "/";
  s3::PutOptions options;
  options.content_type = "application/zstd";
  for (size_t i = 0; i < dump.parts.size(); ++i) {
    stream.update(bytes_of(dump.parts[i]));
    Result<std::string> object = compress(dump.parts[i]);
    if (!object) return object.error();
    char name[32];
    std::snprintf(name, sizeof name, "%06zu.zst", i);
    SnapshotPart part{mine + name, object->size(), xxh3_of(bytes_of(*object))};
    auto put = client_.put(part.key, bytes_of(*object), options, deadline);
    if (!put) return put.error();
    index.parts.push_back(std::move(part));
  }
  index.stream_sha256 = blob_id_hex(stream.finish());
  std::string bytes = encode_snapshot_index(index);
  s3::PutOptions create;
  create.if_none_match = true;
  create.content_type = "application/json";
  std::string index_key = snapshot_prefix(index.seq) + "index";
  auto put = client_.put(index_key, bytes_of(bytes), create, deadline);
  if (!put) return put.error();
  Written written;
  written.created = *put == s3::PutResult::kCreated;
  if (written.created) return written;
  // Another host's snapshot at this seq won, or ours did and its reply was
  // lost (the retry got the 412): read the index before deleting anything.
  auto theirs = client_.get(index_key, std::nullopt, deadline);
  if (!theirs) return theirs.error();
  if (!*theirs) return make_error(ErrorCode::kIo, index_key + ": gone after a 412");
  auto decoded = decode_snapshot_index((*theirs)->bytes);
  if (!decoded) return make_error(ErrorCode::kIo, index_key + ": " + decoded.error().message);
  if ((*theirs)->bytes == bytes) {
    written.created = true;  // ours, every part it names ours
    return written;
  }
  bool names_ours =
      std::any_of(decoded->parts.begin(), decoded->parts.end(),
                  [&](const SnapshotPart& part) { return part.key.starts_with(mine); });
  if (!names_ours) {
    if (Status s = remove_all(mine, deadline); !s) return s.error();
  }
  if (decoded->stream_sha256 != index.stream_sha256) {
    written.diverged = "this host's state at seq " + std::to_string(index.seq) + " (stream " +
                       index.stream_sha256 + ") is not that of host " + decoded->host + " (" +
                       decoded->stream_sha256 + ")";
  }
  return written;
}

Result<std::vector<std::pair<uint64_t, bool>>> Snapshots::list(s3::Deadline deadline) {
  std::vector<std::pair<uint64_t, bool>> seqs;
  s3::ListQuery query;
  query.prefix = "snap/";
  query.delimiter = "/";
  do {
    auto page = client_.list(query, deadline);
    if (!page) return page.error();
    for (const std::string& prefix : page->prefixes) {
      // snap/<20 digits>/
      if (prefix.size() != 26 || prefix.find_first_not_of("0123456789", 5) != 25) continue;
      // snap/<20 digits>/ is log/<20 digits>'s form: the same checked parse.
      std::optional<uint64_t> seq = seq_of_log_key("log/" + prefix.substr(5, 20));
      if (!seq) continue;
      auto index = client_.head(prefix + "index", deadline);
      if (!index) return index.error();
      seqs.emplace_back(*seq, index->has_value());
    }
    query.continuation_token = page->next_token;
  } while (!query.continuation_token.empty());
  std::sort(seqs.begin(), seqs.end());
  return seqs;
}

Result<std::vector<uint64_t>> Snapshots::complete(s3::Deadline deadline) {
  auto all = list(deadline);
  if (!all) return all.error();
  std::vector<uint64_t> seqs;
  for (const auto& [seq, complete] : *all) {
    if (complete) seqs.push_back(seq);
  }
  return seqs;
}

Result<FetchedSnapshot> Snapshots::get(uint64_t seq, s3::Deadline deadline) {
  std::string index_key = snapshot_prefix(seq) + "index";
  auto got = client_.get(index_key, std::nullopt, deadline);
  if (!got) return got.error();
  if (!*got) return make_error(ErrorCode::kIo, index_key + ": absent");
  auto index = decode_snapshot_index((*got)->bytes);
  if (!index) return make_error(ErrorCode::kIo, index_key + ": " + index.error().message);
  if (index->seq != seq) return make_error(ErrorCode::kIo, index_key + ": names another seq");
  FetchedSnapshot out;
  Sha256 stream;
  for (const SnapshotPart& part : index->parts) {
    auto object = client_.get(part.key, std::nullopt, deadline);
    if (!object) return object.error();
    if (!*object) return make_error(ErrorCode::kIo, part.key + ": absent");
    const std::string& bytes = (*object)->bytes;
    if (bytes.size() != part.bytes || xxh3_of(bytes_of(bytes)) != part.xxh3) {
      return make_error(ErrorCode::kIo, part.key + ": not the bytes its index names");
    }
    Result<std::string> plain = decompress(part.key, bytes);
    if (!plain) return plain.error();
    stream.update(bytes_of(*plain));
    out.parts.push_back(std::move(plain).value());
  }
  if (blob_id_hex(stream.finish()) != index->stream_sha256) {
    return make_error(ErrorCode::kIo, index_key + ": the stream is not the one its index names");
  }
  out.index = std::move(index).value();
  return out;
}

Status Snapshots::remove(uint64_t seq, s3::Deadline deadline) {
  if (Status s = client_.remove(snapshot_prefix(seq) + "index", deadline); !s) return s;
  return remove_all(snapshot_prefix(seq), deadline);
}

Status Snapshots::remove_all(const std::string& prefix, s3::Deadline deadline) {
  s3::ListQuery query;
  query.prefix = prefix;
  for (;;) {
    auto page = client_.list(query, deadline);
    if (!page) return page.error();
    for (const s3::ListedObject& object : page->objects) {
      if (Status s = client_.remove(object.key, deadline); !s) return s;
    }
    if (page->next_token.empty()) return Status::Ok();
    query.continuation_token = page->next_token;
  }
}

}  // namespace iafs::sync
