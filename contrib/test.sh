#!/bin/sh
# Builds ImageAttachFS twice and runs the whole test suite on each build:
# Release (what users build) and Debug with AddressSanitizer and UBSan; then
# builds the libFuzzer targets with clang and runs each for IAFS_FUZZ_SECONDS
# (default 60) from its seed corpus (tests/fuzz/run.sh).
# Installs the Debian packages first (contrib/install-deps.sh).
set -eu
top="$(cd "$(dirname "$0")/.." && pwd)"
"$top/contrib/install-deps.sh" >/dev/null
jobs="$(nproc)"
status=0
for config in Release Debug-asan; do
  build="$top/build/$config"
  case "$config" in
    Release) flags="-DCMAKE_BUILD_TYPE=Release" ;;
    Debug-asan) flags="-DCMAKE_BUILD_TYPE=Debug -DIAFS_SANITIZE=ON" ;;
  esac
  echo "== $config: build"
  # shellcheck disable=SC2086
  cmake -S "$top" -B "$build" $flags >/dev/null
  cmake --build "$build" -j "$jobs" >/dev/null
  echo "== $config: test"
  # Integration tests wait on the daemon and fsync: run twice as many as cores.
  (cd "$build" && ctest -j "$((jobs * 2))" --output-on-failure) || status=1
done
build="$top/build/fuzz"
echo "== Fuzz: build"
CC=clang CXX=clang++ cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DIAFS_FUZZ=ON -DIAFS_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target fuzzers >/dev/null
echo "== Fuzz: run"
"$top/tests/fuzz/run.sh" "$build" "${IAFS_FUZZ_SECONDS:-60}" || status=1
exit $status
