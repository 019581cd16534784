// Serialization of records to LMDB values: a version byte, then fixed-width
// little-endian fields (and, for SetRecord, the extension).
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "imageattachfs/records.h"

namespace iafs {

std::vector<uint8_t> encode_set(const SetRecord& record);
std::optional<SetRecord> decode_set(std::span<const uint8_t> bytes);

std::vector<uint8_t> encode_thumb(const ThumbRecord& record);
std::optional<ThumbRecord> decode_thumb(std::span<const uint8_t> bytes);

std::vector<uint8_t> encode_blob(const BlobRecord& record);
std::optional<BlobRecord> decode_blob(std::span<const uint8_t> bytes);

}  // namespace iafs
