#!/bin/sh
# Runs each libFuzzer target of BUILD_DIR (configured with -DIAFS_FUZZ=ON) for
# SECONDS (default 60), all at once (CI's two cores run the suite's last
# minute this way instead of three), from a copy of its seed corpus tests/fuzz/corpus/<target>
# in a temporary directory: the repository is never written. Prints one line
# per target, "fuzz <target>: N executions, C crashes", and the reproducer of
# any crash (path, and bytes in hex when small). Exits 1 if any target crashed.
set -u
if [ $# -lt 1 ]; then
  echo "usage: $0 BUILD_DIR [SECONDS]" >&2
  exit 2
fi
build="$(cd "$1" && pwd)"
seconds="${2:-60}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/iafs-fuzz.XXXXXX")"
status=0

# Leaks of the codec libraries libvips loads are theirs (see tests/lsan.supp).
export LSAN_OPTIONS="suppressions=$here/../lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# fuzz TARGET MAX_LEN: runs fuzz_TARGET; writes its lines to WORK/TARGET/report
# and, if it failed, WORK/TARGET/failed (it runs in a background subshell).
fuzz() {
  fuzz_one "$@" >"$work/$1.report"
}

fuzz_one() {
  target="$1"
  binary="$build/tests/fuzz/fuzz_$target"
  dir="$work/$target"
  mkdir -p "$dir/artifacts"
  cp -R "$here/corpus/$target" "$dir/corpus"
  if [ ! -x "$binary" ]; then
    echo "fuzz $target: $binary not built"
    touch "$work/$target.failed"
    return
  fi
  "$binary" -max_total_time="$seconds" -print_final_stats=1 -max_len="$2" \
    -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=30 \
    -artifact_prefix="$dir/artifacts/" "$dir/corpus" >"$dir/log" 2>&1
  rc=$?
  runs="$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$dir/log" | tail -n 1)"
  crashes="$(find "$dir/artifacts" -type f | wc -l)"
  if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi
  echo "fuzz $target: ${runs:-0} executions, $crashes crashes"
  if [ "$crashes" -ne 0 ]; then
    touch "$work/$target.failed"
    tail -n 40 "$dir/log" | sed "s/^/  $target: /"
    for file in "$dir/artifacts"/*; do
      [ -f "$file" ] || continue
      echo "  reproducer: $file ($(wc -c <"$file") bytes)"
      if [ "$(wc -c <"$file")" -le 512 ]; then od -An -tx1 -v "$file" | sed 's/^/   /'; fi
    done
  fi
}

fuzz path 256 &
fuzz schema 4096 &
fuzz probe 16384 &
wait
for target in path schema probe; do
  cat "$work/$target.report"
  [ ! -e "$work/$target.failed" ] || status=1
done
if [ "$status" -eq 0 ]; then rm -rf "$work"; else echo "fuzz: logs and reproducers in $work"; fi
exit "$status"
