#include "attach/file_version.h"

namespace iafs {

FileVersion version_of(const SetRecord& record) {
  FileVersion v;
  v.blob = record.blob;
  v.size = record.size;
  v.revision = record.revision;
  v.format = record.format;
  v.width = record.width;
  v.height = record.height;
  v.created_ns = record.created_ns;
  v.mtime_ns = record.mtime_ns;
  v.color = record.color;
  v.blurhash = record.blurhash;
  return v;
}

FileVersion version_of(const ThumbRecord& record, ImageFormat format, const SetRecord& original) {
  FileVersion v;
  v.is_thumbnail = true;
  v.blob = record.blob;
  v.size = record.size;
  v.revision = record.revision;
  v.format = format;
  v.width = record.width;
  v.height = record.height;
  v.created_ns = original.created_ns;
  v.mtime_ns = original.mtime_ns;
  return v;
}

}  // namespace iafs
