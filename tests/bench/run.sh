#!/bin/sh
# The benchmarks of issue 11 from one command on a fresh clone:
#   tests/bench/run.sh [--smoke] [bench.py options: --mount main|serve, --only reads,nginx,...]
# Installs nginx, wrk and libvips' tools through contrib/install-deps.sh when
# one is missing, builds Release (build/Release, or $IAFS_BUILD_DIR) when
# needed, then prints the table (tests/bench/bench.py). nginx runs as the
# bench's child on 127.0.0.1, on a free port; the system's nginx is not used.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${IAFS_BUILD_DIR:-$root/build/Release}
for tool in nginx wrk vips cmake; do
  if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
    "$root/contrib/install-deps.sh"
    break
  fi
done
if [ -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" >/dev/null  # picks up new targets
else
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" -j"$(nproc)" --target imageattachfs bench_read bench_resize >/dev/null
export PYTHONDONTWRITEBYTECODE=1
python=/usr/bin/python3
[ -x "$python" ] || python=python3
exec "$python" "$root/tests/bench/bench.py" \
  --daemon "$build/src/imageattachfs" \
  --bench-read "$build/tests/bench_read" \
  --bench-resize "$build/tests/bench_resize" "$@"
