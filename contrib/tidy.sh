#!/bin/sh
# Runs clang-tidy (the checks in .clang-tidy) over the project's sources,
# using BUILD_DIR/compile_commands.json; prints the findings and exits
# non-zero on any.
set -eu
top="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:?usage: contrib/tidy.sh BUILD_DIR}"
cd "$top"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
status=0
ls src/*/*.cc src/main.cc mount-helper/*.cc |
  xargs -P "$(nproc)" -n 4 clang-tidy -p "$build" --quiet \
    --extra-arg=-Wno-unknown-warning-option >"$out" 2>&1 || status=1
# Drop clang-tidy's counts of the (suppressed) warnings of system headers.
grep -v -e "warnings generated" -e "^Suppressed " -e "Use -header-filter" \
  -e "display errors from all non-system headers" "$out" || true
exit $status
