#include "image/vips_errors.h"

#include <vips/vips.h>

namespace iafs::image_detail {

void discard_vips_errors() { vips_error_clear(); }

std::string one_line(std::string message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  for (size_t i = 0; (i = message.find('\n', i)) != std::string::npos;) {
    message.replace(i, 1, "; ");
  }
  return message;
}

}  // namespace iafs::image_detail
