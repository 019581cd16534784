#include "store/keys.h"

#include <algorithm>
#include <string>

namespace iafs {
namespace {

constexpr uint8_t kIntegerIdTag = 0x01;
constexpr uint8_t kStringIdTag = 0x02;

void put_name(Key& out, std::string_view name) {
  out.insert(out.end(), name.begin(), name.end());
  out.push_back(0);
}

void put_id(Key& out, const EntityId& id) {
  if (id.is_integer) {
    out.push_back(kIntegerIdTag);
    put_u64_be(out, id.number);
    return;
  }
  out.push_back(kStringIdTag);
  put_name(out, id.text);
}

}  // namespace

void put_u32_be(Key& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

void put_u64_be(Key& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

uint32_t get_u32_be(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

uint64_t get_u64_be(const uint8_t* p) {
  return (uint64_t{get_u32_be(p)} << 32) | get_u32_be(p + 4);
}

Key type_prefix(std::string_view type) {
  Key key;
  put_name(key, type);
  return key;
}

Key entity_prefix(std::string_view type, const EntityId& id) {
  Key key = type_prefix(type);
  put_id(key, id);
  return key;
}

Key attachment_prefix(std::string_view type, const EntityId& id, std::string_view attachment) {
  Key key = entity_prefix(type, id);
  put_name(key, attachment);
  return key;
}

Key set_key(const ImageSetKey& set) {
  Key key = attachment_prefix(set.type, set.id, set.attachment);
  put_u32_be(key, set.index);
  return key;
}

Key thumbnail_key(const ImageSetKey& set, const ThumbnailSpec& spec) {
  Key key = set_key(set);
  key.push_back(static_cast<uint8_t>(spec.fit));
  uint32_t size = 0;
  switch (spec.fit) {
    case ThumbFit::kWidth:
      size = spec.width;
      break;
    case ThumbFit::kHeight:
      size = spec.height;
      break;
    case ThumbFit::kLqip:
      break;
    default:  // a box: its sides are at most kMaxBoxSide
      size = spec.width << 16 | (spec.height & 0xFFFF);
      break;
  }
  put_u32_be(key, size);
  key.push_back(static_cast<uint8_t>(spec.format));
  return key;
}

Key chunk_key(const BlobId& id, uint32_t n) {
  Key key(id.begin(), id.end());
  put_u32_be(key, n);
  return key;
}

Key after_prefix(const Key& prefix) {
  Key key = prefix;
  key.push_back(0xFF);
  return key;
}

std::optional<EntityId> decode_entity_id(std::span<const uint8_t> key, size_t type_prefix_size) {
  if (key.size() <= type_prefix_size) return std::nullopt;
  const uint8_t* p = key.data() + type_prefix_size;
  size_t left = key.size() - type_prefix_size - 1;
  EntityId id;
  if (*p == kIntegerIdTag) {
    if (left < 8) return std::nullopt;
    id.is_integer = true;
    id.number = get_u64_be(p + 1);
    id.text = std::to_string(id.number);
    return id;
  }
  if (*p != kStringIdTag) return std::nullopt;
  const uint8_t* begin = p + 1;
  const uint8_t* end = begin;
  while (end < key.data() + key.size() && *end != 0) ++end;
  if (end == key.data() + key.size()) return std::nullopt;
  id.text.assign(begin, end);
  return id;
}

uint32_t decode_index(std::span<const uint8_t> set_key) {
  return get_u32_be(set_key.data() + set_key.size() - 4);
}

std::optional<ImageSetKey> decode_set_key(std::span<const uint8_t> key, bool thumbnail) {
  constexpr size_t kSpecSize = 6;
  if (thumbnail) {
    if (key.size() < kSpecSize) return std::nullopt;
    key = key.first(key.size() - kSpecSize);
  }
  auto type_end = std::find(key.begin(), key.end(), uint8_t{0});
  if (type_end == key.end() || type_end == key.begin()) return std::nullopt;
  size_t type_size = static_cast<size_t>(type_end - key.begin());
  auto id = decode_entity_id(key, type_size + 1);
  if (!id) return std::nullopt;
  size_t at = type_size + 1 + (id->is_integer ? 9 : id->text.size() + 2);
  if (at > key.size()) return std::nullopt;
  auto attachment_end = std::find(key.begin() + static_cast<long>(at), key.end(), uint8_t{0});
  if (key.end() - attachment_end != 5) return std::nullopt;
  ImageSetKey set;
  set.type.assign(key.begin(), type_end);
  set.id = std::move(*id);
  set.attachment.assign(key.begin() + static_cast<long>(at), attachment_end);
  set.index = decode_index(key);
  return set;
}

std::optional<ThumbnailSpec> decode_thumbnail_spec(std::span<const uint8_t> thumb_key) {
  if (thumb_key.size() < 6) return std::nullopt;
  const uint8_t* p = thumb_key.data() + thumb_key.size() - 6;
  if (p[0] > static_cast<uint8_t>(ThumbFit::kLqip)) return std::nullopt;
  ThumbnailSpec spec;
  spec.fit = static_cast<ThumbFit>(p[0]);
  uint32_t size = get_u32_be(p + 1);
  switch (spec.fit) {
    case ThumbFit::kWidth:
      spec.width = size;
      break;
    case ThumbFit::kHeight:
      spec.height = size;
      break;
    case ThumbFit::kLqip:
      break;
    default:
      spec.width = size >> 16;
      spec.height = size & 0xFFFF;
      break;
  }
  spec.format = static_cast<ImageFormat>(p[5]);
  return spec;
}

Key thumb_gen_key(const BlobId& original, std::string_view recipe, std::string_view name) {
  Key key;
  key.reserve(sizeof(kThumbGenPrefix) + original.size() + recipe.size() + name.size());
  for (uint8_t byte : kThumbGenPrefix) key.push_back(byte);
  key.insert(key.end(), original.begin(), original.end());
  key.insert(key.end(), recipe.begin(), recipe.end());
  key.insert(key.end(), name.begin(), name.end());
  return key;
}

Key dir_mtime_key(std::string_view dir) {
  Key key;
  key.reserve(sizeof(kDirMtimePrefix) + dir.size());
  for (uint8_t byte : kDirMtimePrefix) key.push_back(byte);
  for (char c : dir) key.push_back(static_cast<uint8_t>(c));
  return key;
}

}  // namespace iafs
