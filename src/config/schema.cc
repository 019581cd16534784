#include "imageattachfs/schema.h"

#include <algorithm>

namespace iafs {

bool SizePolicy::allows(uint32_t size) const {
  if (size < 1 || size > max) return false;
  if (!sizes.empty() && std::find(sizes.begin(), sizes.end(), size) == sizes.end()) return false;
  return step == 0 || size % step == 0;
}

// An empty list accepts every format: a hand-built OriginalLimits{} behaves
// like the default schema. The parser never produces an empty list.
bool OriginalLimits::accepts(ImageFormat format) const {
  return formats.empty() || std::find(formats.begin(), formats.end(), format) != formats.end();
}

const AttachmentSchema* TypeSchema::find_attachment(std::string_view name) const {
  for (const AttachmentSchema& attachment : attachments) {
    if (attachment.name == name) return &attachment;
  }
  return nullptr;
}

const TypeSchema* Schema::find_type(std::string_view name) const {
  for (const TypeSchema& type : types) {
    if (type.name == name) return &type;
  }
  return nullptr;
}

const AttachmentSchema* Schema::find_attachment(std::string_view type,
                                                std::string_view attachment) const {
  const TypeSchema* found = find_type(type);
  return found == nullptr ? nullptr : found->find_attachment(attachment);
}

}  // namespace iafs
