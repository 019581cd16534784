// SQLAlchemy-ImageAttach's FileSystemStore layout (import_imageattach_command.cc
// says where it was read).
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace iafs {

// `id % 1000` and `id // 1000` as Python computes them (floor division: -5
// gives 995 and -1), for an integer of any length in canonical decimal with
// an optional '-': the two directories of the anchor's path.
std::pair<std::string, std::string> anchor_id_segments(std::string_view id);

}  // namespace iafs
