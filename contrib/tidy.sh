#!/bin/sh
# Runs clang-tidy (the checks in .clang-tidy) over the project's sources,
# using BUILD_DIR/compile_commands.json; exits non-zero on any finding.
set -eu
top="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:?usage: contrib/tidy.sh BUILD_DIR}"
cd "$top"
ls src/*/*.cc src/main.cc mount-helper/*.cc |
  xargs -P "$(nproc)" -n 4 clang-tidy -p "$build" --quiet \
    --extra-arg=-Wno-unknown-warning-option 2>/dev/null
