"""What hosts of one bucket share beside the log (SCALEOUT.md §6, §10):
thumbnails at t/<original sha256>/<recipe>/<name>, made once and served with
identical bytes, size and time by every host; and a host's cache of bytes kept
under -o cache_size, whose evicted originals are fetched again whole."""

import os
import threading

from s3_hosts import S3HostsCase, read_bytes, sha256, uncached_read, write_file
from tiny_images import noise_png, png


class S3SharingTest(S3HostsCase):
    def made_lines(self, *mounts, name=""):
        """The 'thumbnail ...NAME: made' lines of the daemons' logs (one per resize)."""
        return [line for mount in mounts for line in mount.read_log().splitlines()
                if ": info: thumbnail " in line and f"{name}: made " in line]

    def test_first_reads_of_one_thumbnail_on_both_hosts_make_one_object(self):
        a, b = self.host("a"), self.host("b")
        original = png(400, 300, seed=7)
        write_file(a.path("posts/1/photos/0/original.png"), original)
        name = "posts/1/photos/0/thumb/64.jpg"
        before = len(self.made_lines(a, b, name=name))
        barrier = threading.Barrier(64, timeout=60)
        results, errors = [], []

        def read(mount):
            try:
                barrier.wait()
                results.append((mount.name, read_bytes(mount.path(name))))
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(f"{mount.name}: {e!r}")

        threads = [threading.Thread(target=read, args=(m,)) for m in [a, b] * 32]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [], self.logs())
        self.assertEqual(len(results), 64)
        self.assertEqual(len({body for _, body in results}), 1,
                         "hosts served different bytes" + self.logs())
        self.assertEqual({host for host, _ in results}, {"a", "b"})
        made = len(self.made_lines(a, b, name=name)) - before
        self.assertGreaterEqual(made, 1)
        self.assertLessEqual(made, 2, "more than one resize per host" + self.logs())
        keys, _, _ = self.s3.list_all(prefix=f"t/{sha256(original)}/")
        self.assertEqual([k for k in keys if k.endswith("/64.jpg")].__len__(), 1, keys)
        # The same size and mtime, so the same ETag through nginx.
        sa, sb = os.stat(a.path(name)), os.stat(b.path(name))
        self.assertEqual((sa.st_size, sa.st_mtime_ns), (sb.st_size, sb.st_mtime_ns))

    def test_a_host_fetches_a_thumbnail_another_made_instead_of_resizing(self):
        a, b = self.host("a"), self.host("b")
        write_file(a.path("posts/2/photos/0/original.png"), png(320, 240, seed=11))
        name = "posts/2/photos/0/thumb/100.webp"
        on_a = read_bytes(a.path(name))
        self.assertEqual(read_bytes(b.path(name)), on_a)
        self.assertEqual(self.made_lines(b, name=name), [], "B resized what A made" + self.logs(b))
        # A replacement has other bytes: its thumbnail is another object,
        # which B serves once it has learnt of the replacement (by its poll).
        write_file(a.path("posts/2/photos/0/original.png"), png(320, 240, seed=12))
        replaced = read_bytes(a.path(name))
        self.assertNotEqual(replaced, on_a)
        self.wait_for("B serving the new thumbnail", lambda: read_bytes(b.path(name)) == replaced,
                      timeout=5, mounts=(a, b))
        self.assertEqual(len(self.made_lines(b, name=name)), 0, self.logs(b))

    def test_a_cache_budget_bounds_the_bytes_kept_and_every_read_is_correct(self):
        a = self.host("a")
        b = self.host("b", extra=("cache_size=1M",))
        originals = {}
        for i in range(24):  # 24 x ~200 kB: about 4.7 times the budget
            data = noise_png(256, seed=i)
            path = f"posts/{100 + i}/photos/0/original.png"
            write_file(a.path(path), data)
            originals[path] = data
        total = sum(len(d) for d in originals.values())
        self.assert_reads_exact(b, originals, seed=5)
        # B read every byte (more than its budget), and keeps at most its budget.
        self.wait_for("B's cache under its budget", lambda: self.cached_bytes(b) <= 1_000_000,
                      timeout=15, mounts=(b,))
        self.assertGreater(total, 4_000_000)
        # An evicted original's thumbnail is still made, from its bytes fetched again.
        thumb = uncached_read(b.path("posts/100/photos/0/thumb/64.png"))
        self.assertTrue(thumb.startswith(b"\x89PNG"))
        self.assertEqual(uncached_read(a.path("posts/100/photos/0/thumb/64.png")), thumb)

    def test_rm_of_a_thumbnail_on_one_host_drops_it_on_every_host(self):
        a, b = self.host("a"), self.host("b")
        original = png(400, 300, seed=21)
        write_file(a.path("posts/3/photos/0/original.png"), original)
        name = "posts/3/photos/0/thumb/64.jpg"
        first = read_bytes(a.path(name))
        self.assertEqual(read_bytes(b.path(name)), first)
        before = os.stat(a.path(name)).st_ino
        prefix = f"t/{sha256(original)}/"
        keys, _, _ = self.s3.list_all(prefix=prefix)
        old = [k for k in keys if k.endswith("/64.jpg")]
        self.assertEqual(len(old), 1, keys)

        made = len(self.made_lines(a, b, name=name))
        os.unlink(b.path(name))  # returns once the drop_thumb is in the log
        keys, _, _ = self.s3.list_all(prefix=prefix)
        self.assertNotIn(old[0], keys, "the ended generation is deleted")
        entries, _, _ = self.s3.list_all(prefix="log/")
        last = self.s3.get_object(entries[-1])[2]
        self.assertIn(b'"op":"drop_thumb"', last)
        self.assertIn(b'"name":"64.jpg"', last)

        # A learns of it: its copy goes and the kernel's entry with it; its
        # next lookup is of the new generation (another file: another inode).
        self.wait_for("A serves the new generation", lambda: os.stat(
            a.path(name)).st_ino != before, timeout=10, mounts=(a,))
        again = read_bytes(a.path(name))
        # (The remover's own next lookup of the name finds it gone, once:
        # RemovedThumbnails; another thread reads it.)
        on_b = []
        reader = threading.Thread(target=lambda: on_b.append(read_bytes(b.path(name))))
        reader.start()
        reader.join(60)
        self.assertEqual(on_b, [again])
        sa, sb = os.stat(a.path(name)), os.stat(b.path(name))
        self.assertEqual((sa.st_size, sa.st_mtime_ns), (sb.st_size, sb.st_mtime_ns))
        self.assertEqual(len(self.made_lines(a, b, name=name)), made + 1, "one resize" + self.logs())
        keys, _, _ = self.s3.list_all(prefix=prefix)
        now = [k for k in keys if "/64.jpg" in k]
        seq = int(entries[-1].rsplit("/", 1)[1])
        self.assertEqual(now, [old[0] + "~%020d" % seq], keys)
