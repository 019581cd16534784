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
passed=0
failed=0
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
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
  (cd "$build" && ctest -j "$((jobs * 2))" --output-on-failure) | tee "$log" || status=1
  grep -q "tests passed, 0 tests failed" "$log" || status=1
  total=$(sed -n 's/.* tests failed out of \([0-9]*\)$/\1/p' "$log" | tail -n 1)
  bad=$(sed -n 's/.* \([0-9]*\) tests failed out of .*/\1/p' "$log" | tail -n 1)
  passed=$((passed + ${total:-0} - ${bad:-0}))
  failed=$((failed + ${bad:-1}))
  if [ "$config" = Release ]; then
    echo "== clang-tidy"
    "$top/contrib/tidy.sh" "$build" || { echo "clang-tidy: findings above"; status=1; }
  fi
done
build="$top/build/fuzz"
echo "== Fuzz: build"
CC=clang CXX=clang++ cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DIAFS_FUZZ=ON -DIAFS_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target fuzzers >/dev/null
echo "== Fuzz: run"
"$top/tests/fuzz/run.sh" "$build" "${IAFS_FUZZ_SECONDS:-60}" || status=1
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "total: $passed passed, $failed failed"
exit $status
