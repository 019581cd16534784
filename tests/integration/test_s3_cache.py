"""A host's cache of a bucket's bytes (SCALEOUT.md §10, issue 14 §8 and §9):
-o cache_size=20M on B while A committed over 200 MB of originals. B fetches
a large original in 8 MiB ranged GETs, only those a read covers, stores each
as it comes, and evicts what it has not read lately; every read, sequential,
random or concurrent with evictions, returns the committed bytes."""

import hashlib
import os
import random
import re
import threading
import urllib.parse

import harness
import tcp_proxy
from harness import run
from s3_hosts import S3HostsCase, uncached_read, write_file
from tiny_images import noise_png

RANGE = 8 << 20
BUDGET = 20_000_000


def pread(path, offset, length):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        return os.pread(fd, length, offset)
    finally:
        os.close(fd)


def metric(mount, name):
    """The value of metric `name` in the mount's metrics file."""
    with open(mount.path(".imageattachfs/metrics")) as f:
        for line in f:
            if line.startswith(name + " "):
                return float(line.split()[1])
    raise AssertionError(f"no metric {name}")


class S3CacheTest(S3HostsCase):
    def settled(self, mount):
        """Waits until `mount` has made or fetched its thumbnails of uploads."""
        self.wait_for("thumbnails of uploads made", lambda: metric(
            mount, "imageattachfs_eager_thumbnails_pending") == 0, timeout=120, mounts=(mount,))

    def test_a_20_mb_cache_over_200_mb_of_originals_reads_every_byte(self):
        a = self.host("a")
        # One over 64 MiB (a multipart upload), three of ~48 MB, two small.
        sides = [4900, 4000, 4000, 4000, 300, 200]
        originals = {}
        for i, side in enumerate(sides):
            data = noise_png(side, seed=40 + i, level=1)
            path = f"posts/{200 + i}/photos/0/original.png"
            write_file(a.path(path), data)
            originals[path] = data
        total = sum(len(d) for d in originals.values())
        self.assertGreater(total, 200_000_000)
        largest = max(originals, key=lambda p: len(originals[p]))
        self.assertGreater(len(originals[largest]), 64 << 20)
        # B comes once A's lqip.webp of each set is in t/: B fetches those
        # (small) rather than resizing, so what B caches next is what B reads.
        self.settled(a)
        # B's bucket behind a proxy that notes each ranged GET of the largest.
        key = "b/" + hashlib.sha256(originals[largest]).hexdigest()
        asked = []

        def tap(_number, direction, data):
            if direction == "request" and key.encode() in data.split(b"\r\n", 1)[0]:
                found = re.search(rb"(?i)\r\nrange: bytes=(\d+)-", data)
                asked.append(int(found.group(1)) if found else None)

        url = urllib.parse.urlsplit(self.rgw.endpoint)
        proxy = tcp_proxy.TcpProxy(url.hostname, url.port or 80, tap=tap).start()
        self.addCleanup(proxy.stop)
        b = self.host("b", endpoint=proxy.endpoint, extra=(f"cache_size={BUDGET}",))
        self.wait_for("B sees every original", lambda: all(
            os.path.exists(b.path(p)) for p in originals), timeout=10, mounts=(b,))
        self.settled(b)
        base = self.cached_bytes(b)
        self.assertLess(base, 1_000_000, "B holds only thumbnails")

        # A small read fetches only the range it falls in.
        data = originals[largest]
        at = 3 * RANGE + 12345
        self.assertEqual(pread(b.path(largest), at, 65536), data[at:at + 65536])
        self.assertEqual(self.cached_bytes(b), base + RANGE, "one ranged GET, not the whole")
        # A read across a range boundary fetches the next range too.
        at = 4 * RANGE - 100
        self.assertEqual(pread(b.path(largest), at, 200), data[at:at + 200])
        self.assertEqual(self.cached_bytes(b), base + 2 * RANGE)

        # Every original read whole, twice, in a shuffled order: byte-exact.
        self.assert_reads_exact(b, originals, seed=6)

        # Random reads from 4 threads while the budget evicts under them.
        errors = []

        def reader(seed):
            rng = random.Random(seed)
            try:
                for _ in range(60):
                    path = rng.choice(list(originals))
                    data = originals[path]
                    offset = rng.randrange(len(data))
                    length = rng.choice((1, 4096, 131072, RANGE + 1))
                    got = pread(b.path(path), offset, length)
                    if got != data[offset:offset + length]:
                        errors.append(f"{path} @{offset}+{length}: {len(got)} other bytes")
            except OSError as e:
                errors.append(f"{e!r}")

        threads = [threading.Thread(target=reader, args=(s,)) for s in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        self.assertFalse(any(t.is_alive() for t in threads), "readers hung" + self.logs(b))
        self.assertEqual(errors, [], self.logs(b))

        # B read over ten times its budget and keeps at most its budget.
        self.wait_for("B's cache under its budget", lambda: self.cached_bytes(b) <= BUDGET,
                      timeout=20, mounts=(b,))
        # The largest original resized on B, over a slow bucket: fetched again
        # range by range, longer than a just-read original is kept
        # (CacheBudget::kGrace), and far over the budget. The ranges fetched
        # first are kept for the read: none of them is fetched twice.
        proxy.latency = 0.5
        del asked[:]
        thumb = uncached_read(b.path(largest.replace("original.png", "thumb/64.png")))
        proxy.latency = 0
        self.assertTrue(thumb.startswith(b"\x89PNG"), self.logs(b))
        self.assertEqual(len(asked), len(set(asked)), f"a range fetched twice: {asked}")
        self.assertGreater(len(asked), 4, asked)
        log = b.read_log()
        self.assertNotIn("do not hash", log)
        self.assertNotIn("wrong size", log)

    def test_warm_reads_the_newest_originals_that_fit_in_the_cache(self):
        a = self.host("a")
        originals = {}
        for i in range(12):  # ~200 kB each, oldest first
            data = noise_png(256, seed=300 + i)
            path = f"posts/{300 + i}/photos/0/original.png"
            write_file(a.path(path), data)
            originals[path] = data
        newest_first = list(reversed(originals))
        self.settled(a)
        got = {}

        def tap(_number, direction, data):
            if direction == "request":
                line = data.split(b"\r\n", 1)[0].decode("latin-1")
                for path, body in originals.items():
                    if "/b/" + hashlib.sha256(body).hexdigest() in line:  # not t/
                        got[path] = got.get(path, 0) + 1

        url = urllib.parse.urlsplit(self.rgw.endpoint)
        proxy = tcp_proxy.TcpProxy(url.hostname, url.port or 80, tap=tap).start()
        self.addCleanup(proxy.stop)
        budget = 1_500_000  # 9/10 of it, 1.35 MB: the six newest
        b = self.host("b", endpoint=proxy.endpoint, extra=(f"cache_size={budget}",))
        self.wait_for("B sees every original", lambda: all(
            os.path.exists(b.path(p)) for p in originals), timeout=10, mounts=(b,))
        fit, total = [], 0
        for path in newest_first:
            if total + len(originals[path]) <= budget - budget // 10:
                fit.append(path)
                total += len(originals[path])
        self.assertTrue(4 <= len(fit) < len(originals), len(fit))

        out = run(harness.BINARY, "warm", b.mnt).stdout
        self.assertIn(f"read {len(fit)} of {len(originals)} originals ({total} of ", out)
        self.assertEqual(sorted(got), sorted(fit), "warm fetched exactly the newest that fit")
        # They are served from B's cache now: no GET of them again.
        got.clear()
        self.assert_reads_exact(b, {p: originals[p] for p in fit}, seed=8)
        self.assertEqual(got, {}, "a warmed original fetched again")
        # The rest are fetched when read, as before.
        older = newest_first[len(fit)]
        self.assertEqual(uncached_read(b.path(older)), originals[older])
        self.assertEqual(list(got), [older])

        # --budget picks fewer, and a directory that is no mount is refused.
        out = run(harness.BINARY, "warm", b.mnt, "--budget", str(len(originals[fit[0]]))).stdout
        self.assertIn("read 1 of 12 originals", out)
        bad = run(harness.BINARY, "warm", b.mnt, "--jobs", "0", check=False)
        self.assertEqual(bad.returncode, 2)
        bad = run(harness.BINARY, "warm", self.tmp, check=False)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("not an ImageAttachFS mount", bad.stderr)
