#!/usr/bin/env python3
"""Benchmarks, as ratios against references measured in the same run:

- cold thumbnail: first read of thumb/300.jpg of the 14.7 MP photo from the
  mount, against `vipsthumbnail -s 300` of the same file (process per call);
- warm reads: reading an original and a thumbnail again through the mount,
  against reading the same bytes from a plain directory.

Usage: tests/bench/thumbnails.py BUILD_DIR [PHOTO] [ROUNDS]
Not part of ctest: the machines are shared and noisy; look at the ratios.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def read_all(path):
    with open(path, "rb") as f:
        while f.read(1 << 20):
            pass


def main():
    build = os.path.abspath(sys.argv[1])
    photo = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(__file__), "..", "..", "..", "shared", "testdata",
        "safe-landing-5120x2880.jpg")
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    os.environ["IAFS_BINARY"] = os.path.join(build, "src", "imageattachfs")
    import harness

    tmp = tempfile.mkdtemp(prefix="iafs-bench-")
    mount = harness.Mount(tmp)
    try:
        mount.start()
        for i in range(rounds):
            harness.run("cp", photo, mount.path(f"posts/1/photos/{i}/original.jpg"))
        cold = [timed(lambda i=i: read_all(mount.path(f"posts/1/photos/{i}/thumb/300.jpg")))
                for i in range(rounds)]
        out = os.path.join(tmp, "vt_%s.jpg")
        reference = [timed(lambda: harness.run("vipsthumbnail", "-s", "300", "-o", out, photo))
                     for _ in range(rounds)]
        plain = os.path.join(tmp, "plain")
        os.mkdir(plain)
        shutil.copy(photo, os.path.join(plain, "original.jpg"))
        shutil.copy(mount.path("posts/1/photos/0/thumb/300.jpg"), os.path.join(plain, "300.jpg"))
        size = os.path.getsize(photo)
        results = {}
        for name, rel in (("original", "original.jpg"), ("thumbnail", "thumb/300.jpg")):
            mounted = mount.path(f"posts/1/photos/0/{rel}")
            local = os.path.join(plain, os.path.basename(rel))
            read_all(mounted)
            read_all(local)
            n = 200 if name == "thumbnail" else 30
            results[name] = (min(timed(lambda: [read_all(mounted) for _ in range(n)]) for _ in range(3)),
                             min(timed(lambda: [read_all(local) for _ in range(n)]) for _ in range(3)), n)
        print(f"cold thumb/300.jpg of {os.path.basename(photo)}: median "
              f"{statistics.median(cold) * 1000:.0f} ms; vipsthumbnail -s 300: median "
              f"{statistics.median(reference) * 1000:.0f} ms; ratio "
              f"{statistics.median(cold) / statistics.median(reference):.2f} (target <= 0.6)")
        for name, (mounted, local, n) in results.items():
            print(f"warm read of the {name} x{n}: mount {mounted * 1000:.1f} ms, plain dir "
                  f"{local * 1000:.1f} ms; throughput ratio {local / mounted:.2f} (target >= 0.9)")
        print(f"original {size} bytes")
    finally:
        mount.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
