// An immutable file of the namespace: one version of an original or of a
// thumbnail. Its bytes never change; a replaced original is a new version.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "imageattachfs/blob_store.h"
#include "imageattachfs/format.h"
#include "imageattachfs/records.h"

namespace iafs {

struct FileVersion {
  bool is_thumbnail = false;
  BlobId blob{};
  uint64_t size = 0;
  uint64_t revision = 0;  // names this version: unique in the store
  ImageFormat format = ImageFormat::kJpeg;
  uint32_t width = 0;
  uint32_t height = 0;
  int64_t created_ns = 0;
  int64_t mtime_ns = 0;
  // An original's placeholders, computed from its bytes at commit (none for
  // thumbnails and for originals committed before they existed).
  std::optional<uint32_t> color;
  std::string blurhash;
};

FileVersion version_of(const SetRecord& record);
// A thumbnail's mtime and created_at are its original's, not when it was
// made: the same thumbnail made again (after rm, on another host) shows the
// same mtime, size and attributes, so a web server's ETag and Last-Modified
// stay, and a backup's copy of it looks unchanged to rsync -aX.
FileVersion version_of(const ThumbRecord& record, ImageFormat format, const SetRecord& original);

}  // namespace iafs
