#include "store/records.h"

#include <cstring>

namespace iafs {
namespace {

constexpr uint8_t kVersion = 1;
// Set records since focal points and placeholders: the extension's length
// first, then the optional fields.
constexpr uint8_t kSetVersion2 = 2;

class Writer {
 public:
  explicit Writer(uint8_t version = kVersion) { out_.push_back(version); }
  template <typename T>
  Writer& add(const T& v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    out_.insert(out_.end(), p, p + sizeof(T));
    return *this;
  }
  Writer& add_bytes(std::span<const uint8_t> bytes) {
    out_.insert(out_.end(), bytes.begin(), bytes.end());
    return *this;
  }
  std::vector<uint8_t> take() { return std::move(out_); }

 private:
  std::vector<uint8_t> out_;
};

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in, uint8_t version = kVersion) : in_(in) {
    ok_ = !in.empty() && in[0] == version;
    pos_ = 1;
  }
  template <typename T>
  Reader& get(T& v) {
    if (!ok_ || pos_ + sizeof(T) > in_.size()) {
      ok_ = false;
      return *this;
    }
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return *this;
  }
  Reader& get_bytes(std::string& out, size_t n) {
    if (!ok_ || pos_ + n > in_.size()) {
      ok_ = false;
      return *this;
    }
    out.assign(in_.begin() + static_cast<long>(pos_), in_.begin() + static_cast<long>(pos_ + n));
    pos_ += n;
    return *this;
  }
  std::span<const uint8_t> rest() const { return in_.subspan(std::min(pos_, in_.size())); }
  bool ok() const { return ok_; }

 private:
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  bool ok_ = false;
};

}  // namespace

std::vector<uint8_t> encode_record(const SetRecord& r) {
  Writer w(kSetVersion2);
  w.add(r.blob).add(r.size).add(r.format).add(r.width).add(r.height);
  w.add(r.created_ns).add(r.mtime_ns).add(r.revision);
  w.add(static_cast<uint8_t>(r.ext.size()));
  w.add_bytes({reinterpret_cast<const uint8_t*>(r.ext.data()), r.ext.size()});
  w.add(static_cast<uint8_t>(r.focus ? 1 : 0));
  if (r.focus) w.add(r.focus->x).add(r.focus->y);
  w.add(static_cast<uint8_t>(r.color ? 1 : 0));
  if (r.color) w.add(*r.color);
  w.add_bytes({reinterpret_cast<const uint8_t*>(r.blurhash.data()), r.blurhash.size()});
  return w.take();
}

template <>
std::optional<SetRecord> decode_record<SetRecord>(std::span<const uint8_t> bytes) {
  SetRecord r;
  bool v2 = !bytes.empty() && bytes[0] == kSetVersion2;
  Reader in(bytes, v2 ? kSetVersion2 : kVersion);
  in.get(r.blob).get(r.size).get(r.format).get(r.width).get(r.height);
  in.get(r.created_ns).get(r.mtime_ns).get(r.revision);
  if (!v2) {  // the extension was the rest
    if (!in.ok()) return std::nullopt;
    r.ext.assign(in.rest().begin(), in.rest().end());
    return r;
  }
  uint8_t ext_size = 0, has_focus = 0, has_color = 0;
  in.get(ext_size).get_bytes(r.ext, ext_size).get(has_focus);
  if (has_focus != 0) {
    FocalPoint focus;
    in.get(focus.x).get(focus.y);
    r.focus = focus;
  }
  in.get(has_color);
  if (has_color != 0) {
    uint32_t color = 0;
    in.get(color);
    r.color = color;
  }
  if (!in.ok() || has_focus > 1 || has_color > 1) return std::nullopt;
  r.blurhash.assign(in.rest().begin(), in.rest().end());
  return r;
}

std::vector<uint8_t> encode_record(const ThumbRecord& r) {
  Writer w;
  w.add(r.blob).add(r.size).add(r.width).add(r.height).add(r.created_ns).add(r.revision);
  w.add(r.source).add(r.used_ns);
  return w.take();
}

template <>
std::optional<ThumbRecord> decode_record<ThumbRecord>(std::span<const uint8_t> bytes) {
  ThumbRecord r;
  Reader in(bytes);
  in.get(r.blob).get(r.size).get(r.width).get(r.height).get(r.created_ns).get(r.revision);
  in.get(r.source);
  if (!in.ok()) return std::nullopt;
  // used_ns came later, at the end: a record without it (written before)
  // was last used, as far as anyone knows, when it was made. Readers that
  // predate it ignore the trailing bytes.
  r.used_ns = r.created_ns;
  if (in.rest().size() >= sizeof(r.used_ns)) in.get(r.used_ns);
  if (!in.ok()) return std::nullopt;
  return r;
}

std::vector<uint8_t> encode_record(const BlobRecord& r) {
  Writer w;
  w.add(r.size).add(r.xxh3).add(r.refs);
  // Only a blob without its bytes has the flag: older records read as cached.
  if (!r.cached) w.add(uint8_t{0});
  if (!r.cached && r.partial != 0) w.add(r.partial);
  return w.take();
}

template <>
std::optional<BlobRecord> decode_record<BlobRecord>(std::span<const uint8_t> bytes) {
  BlobRecord r;
  Reader in(bytes);
  in.get(r.size).get(r.xxh3).get(r.refs);
  if (!in.ok()) return std::nullopt;
  if (!in.rest().empty()) {
    uint8_t cached = 1;
    in.get(cached);
    if (cached != 0) return std::nullopt;
    r.cached = false;
    if (!in.rest().empty()) {
      in.get(r.partial);
      // Some of its bytes, or all of them not checked yet (a crash between
      // Store::cache_blob_range and its check: the ranges are served as
      // they are, and dropped like any others).
      if (r.partial == 0 || r.partial > r.size) return std::nullopt;
    }
    if (!in.ok() || !in.rest().empty()) return std::nullopt;
  }
  return r;
}

Status for_each_set(
    StoreTxn& txn,
    const std::function<Status(std::span<const uint8_t> key, std::span<const uint8_t> value,
                               const SetRecord& record)>& fn) {
  Cursor sets(txn, txn.dbs().sets);
  if (!sets.ok()) return sets.error();
  auto at = sets.seek({});
  for (; at && *at; at = sets.next()) {
    auto record = decode_record<SetRecord>(sets.value());
    if (!record) return corrupt_record("set");
    if (Status s = fn(sets.key(), sets.value(), *record); !s) return s;
  }
  if (!at) return at.error();
  return Status::Ok();
}

}  // namespace iafs
