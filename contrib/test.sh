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
# phase NAME: ends the running phase with its seconds and starts NAME.
began=$(date +%s)
phase() {
  now=$(date +%s)
  [ -z "${started:-}" ] || echo "   ($((now - started)) s)"
  started=$now
  [ -z "$1" ] || echo "== $1"
}
for config in Release Debug-asan; do
  build="$top/build/$config"
  case "$config" in
    Release) flags="-DCMAKE_BUILD_TYPE=Release" ;;
    # Line tables are what a sanitizer's report needs; full -g costs a fifth
    # more compile time.
    Debug-asan) flags="-DCMAKE_BUILD_TYPE=Debug -DIAFS_SANITIZE=ON -DCMAKE_CXX_FLAGS_DEBUG=-g1" ;;
  esac
  phase "$config: build"
  # shellcheck disable=SC2086
  cmake -S "$top" -B "$build" $flags >/dev/null
  cmake --build "$build" -j "$jobs" >/dev/null
  phase "$config: test"
  # Integration tests wait on the daemon and fsync: run twice as many as cores.
  (cd "$build" && ctest -j "$((jobs * 2))" --output-on-failure) | tee "$log" || status=1
  grep -q "tests passed, 0 tests failed" "$log" || status=1
  total=$(sed -n 's/.* tests failed out of \([0-9]*\)$/\1/p' "$log" | tail -n 1)
  bad=$(sed -n 's/.* \([0-9]*\) tests failed out of .*/\1/p' "$log" | tail -n 1)
  passed=$((passed + ${total:-0} - ${bad:-0}))
  failed=$((failed + ${bad:-1}))
  if [ "$config" = Release ]; then
    phase "clang-tidy"
    "$top/contrib/tidy.sh" "$build" || { echo "clang-tidy: findings above"; status=1; }
  fi
done
build="$top/build/fuzz"
phase "Fuzz: build"
# -O1 and line tables, as libFuzzer's documentation builds its targets.
CC=clang CXX=clang++ cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  -DIAFS_FUZZ=ON -DIAFS_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target fuzzers >/dev/null
phase "Fuzz: run"
"$top/tests/fuzz/run.sh" "$build" "${IAFS_FUZZ_SECONDS:-60}" || status=1
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
phase ""
echo "== all phases: $(( $(date +%s) - began )) s"
echo "total: $passed passed, $failed failed"
exit $status
