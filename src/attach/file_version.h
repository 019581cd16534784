// An immutable file of the namespace: one version of an original or of a
// thumbnail. Its bytes never change; a replaced original is a new version.
#pragma once

#include <cstdint>

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
};

FileVersion version_of(const SetRecord& record);
FileVersion version_of(const ThumbRecord& record, ImageFormat format);

}  // namespace iafs
