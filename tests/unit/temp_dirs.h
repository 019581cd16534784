// Temporary directories for unit tests, removed (with everything in them)
// when the test's process exits.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

namespace iafs::test {

// A new empty directory /tmp/iafs-PREFIX-XXXXXX, removed at exit.
inline std::string temp_dir(const std::string& prefix) {
  struct Registry {
    std::vector<std::string> dirs;
    ~Registry() {
      std::error_code ignored;
      for (const std::string& dir : dirs) std::filesystem::remove_all(dir, ignored);
    }
  };
  static Registry registry;
  std::string pattern = "/tmp/iafs-" + prefix + "-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) abort();
  registry.dirs.push_back(pattern);
  return pattern;
}

}  // namespace iafs::test
