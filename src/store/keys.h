// The key layout: keys sort in LMDB's byte order as users list (DESIGN §5a).
//
//   sets:   type 0x00 | id | attachment 0x00 | index (u32 BE)
//   thumbs: set key | fit (u8, ThumbFit) | size (u32 BE) | format (u8), where
//           size is the width, the height, width << 16 | height for a box,
//           0 for lqip (a store written before boxes reads the same)
//   chunks: BlobId (32) | chunk number (u32 BE)
//
// An id is 0x01 + u64 BE for an integer id, or 0x02 + bytes + 0x00 for a string
// id, so integer ids list first in numeric order, then string ids in byte order.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "imageattachfs/blob_store.h"
#include "imageattachfs/image_path.h"

namespace iafs {

using Key = std::vector<uint8_t>;

// The meta key of the store's totals (store_totals.cc): four u64 BE.
inline constexpr uint8_t kTotalsKey[] = {'t', 'o', 't', 'a', 'l', 's'};

// The meta key of a directory's mtime (SetDirMtime): this prefix, then the
// directory's path. Its value is an i64 BE (ns since the epoch).
inline constexpr uint8_t kDirMtimePrefix[] = {'d', 'i', 'r', '-', 'm', 't', 'i', 'm', 'e', 0};
Key dir_mtime_key(std::string_view dir);

// The meta key of a thumbnail object's generation on a bucket (DropThumb,
// store_thumb_gen.cc): this prefix, the original's sha, the recipe's 16 hex
// digits and the name. Its value is the u64 BE seq of its last drop_thumb.
inline constexpr uint8_t kThumbGenPrefix[] = {'t', 'g', 'e', 'n', 0};
Key thumb_gen_key(const BlobId& original, std::string_view recipe, std::string_view name);

// The prefix of every set key of a type.
Key type_prefix(std::string_view type);
// The prefix of every set key of an entity.
Key entity_prefix(std::string_view type, const EntityId& id);
// The prefix of every set key of an entity's attachment.
Key attachment_prefix(std::string_view type, const EntityId& id, std::string_view attachment);
// The key of one image set (also the prefix of its thumbnails' keys).
Key set_key(const ImageSetKey& set);
// The key of one thumbnail.
Key thumbnail_key(const ImageSetKey& set, const ThumbnailSpec& spec);
// The key of chunk `n` of a blob.
Key chunk_key(const BlobId& id, uint32_t n);

// A key greater than every key starting with `prefix` and smaller than the
// next prefix of the same level (appends 0xFF).
Key after_prefix(const Key& prefix);

// The entity id that a set key of `type` holds, from a key that starts with
// type_prefix(type). nullopt for a malformed key.
std::optional<EntityId> decode_entity_id(std::span<const uint8_t> key, size_t type_prefix_size);
// The index at the end of a set key.
uint32_t decode_index(std::span<const uint8_t> set_key);
// The image set a set key names, or (`thumbnail`) the set of a thumbnail
// key; nullopt if malformed.
std::optional<ImageSetKey> decode_set_key(std::span<const uint8_t> key, bool thumbnail = false);
// The thumbnail spec at the end of a thumbnail key; nullopt if malformed.
std::optional<ThumbnailSpec> decode_thumbnail_spec(std::span<const uint8_t> thumb_key);

// Big-endian and little-endian fixed-width integers.
void put_u32_be(Key& out, uint32_t v);
void put_u64_be(Key& out, uint64_t v);
uint32_t get_u32_be(const uint8_t* p);
uint64_t get_u64_be(const uint8_t* p);

}  // namespace iafs
