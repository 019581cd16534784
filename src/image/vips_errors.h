// libvips' error buffer, which is process-wide: every thread's errors (and
// libjpeg's warnings) are appended to one buffer. Refusal messages are built
// from what this request knows, never from that buffer.
#pragma once

#include <string>

namespace iafs::image_detail {

// Empties libvips' error buffer, so that it never fills (libvips drops what
// does not fit) and never carries one request's text into another's. Call
// after every failed libvips call whose error was handled.
void discard_vips_errors();

// Joins a libvips message (possibly several lines) into one line.
std::string one_line(std::string message);

}  // namespace iafs::image_detail
