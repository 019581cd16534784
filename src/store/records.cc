#include "store/records.h"

#include <cstring>

namespace iafs {
namespace {

constexpr uint8_t kVersion = 1;

class Writer {
 public:
  Writer() { out_.push_back(kVersion); }
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
  explicit Reader(std::span<const uint8_t> in) : in_(in) {
    ok_ = !in.empty() && in[0] == kVersion;
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
  std::span<const uint8_t> rest() const { return in_.subspan(std::min(pos_, in_.size())); }
  bool ok() const { return ok_; }

 private:
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  bool ok_ = false;
};

}  // namespace

std::vector<uint8_t> encode_record(const SetRecord& r) {
  Writer w;
  w.add(r.blob).add(r.size).add(r.format).add(r.width).add(r.height);
  w.add(r.created_ns).add(r.mtime_ns).add(r.revision);
  w.add_bytes({reinterpret_cast<const uint8_t*>(r.ext.data()), r.ext.size()});
  return w.take();
}

template <>
std::optional<SetRecord> decode_record<SetRecord>(std::span<const uint8_t> bytes) {
  SetRecord r;
  Reader in(bytes);
  in.get(r.blob).get(r.size).get(r.format).get(r.width).get(r.height);
  in.get(r.created_ns).get(r.mtime_ns).get(r.revision);
  if (!in.ok()) return std::nullopt;
  r.ext.assign(in.rest().begin(), in.rest().end());
  return r;
}

std::vector<uint8_t> encode_record(const ThumbRecord& r) {
  Writer w;
  w.add(r.blob).add(r.size).add(r.width).add(r.height).add(r.created_ns).add(r.revision);
  w.add(r.source);
  return w.take();
}

template <>
std::optional<ThumbRecord> decode_record<ThumbRecord>(std::span<const uint8_t> bytes) {
  ThumbRecord r;
  Reader in(bytes);
  in.get(r.blob).get(r.size).get(r.width).get(r.height).get(r.created_ns).get(r.revision);
  in.get(r.source);
  if (!in.ok()) return std::nullopt;
  return r;
}

std::vector<uint8_t> encode_record(const BlobRecord& r) {
  Writer w;
  w.add(r.size).add(r.xxh3).add(r.refs);
  return w.take();
}

template <>
std::optional<BlobRecord> decode_record<BlobRecord>(std::span<const uint8_t> bytes) {
  BlobRecord r;
  Reader in(bytes);
  in.get(r.size).get(r.xxh3).get(r.refs);
  if (!in.ok()) return std::nullopt;
  return r;
}

}  // namespace iafs
