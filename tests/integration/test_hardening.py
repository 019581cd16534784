"""What a hostile or busy client does to uploads and readers: writes racing a
flush, truncation during a flush, invalidations with few workers, readers of
an original while cp and rename replace it."""

import errno
import hashlib
import os
import subprocess
import threading
import time

from harness import Mount, MountedTestCase, run

SET = "posts/1/photos/0"
HOSTILE = b"<html><script>alert(1)</script></html>" * 20


def sha(data):
    return hashlib.sha256(data).hexdigest()


def run_threads(targets, seconds):
    """Runs each target(stop_time) in a thread; returns when all end."""
    stop = time.monotonic() + seconds
    threads = [threading.Thread(target=t, args=(stop,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 60)
    return all(not t.is_alive() for t in threads)


class HardeningTest(MountedTestCase):
    def genuine(self, name="g.jpg", width=400, height=300):
        return self.read(self.image(name, width, height))

    def assert_committed_is(self, relative, allowed):
        """The original at `relative`, if any, reads back as one of `allowed`
        and its bytes hash to the sha256 the mount shows."""
        path = self.p(relative)
        if not os.path.exists(path):
            return
        data = self.read(path)
        self.assertIn(sha(data), {sha(a) for a in allowed}, "committed bytes were never uploaded")
        self.assertEqual(os.getxattr(path, "user.image.sha256").decode(), sha(data))

    def test_writes_racing_a_flush_never_change_what_is_committed(self):
        genuine = self.genuine()
        relative = f"{SET}/original.jpg"
        for _ in range(40):
            fd = os.open(self.p(relative), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, genuine)
            other = os.dup(fd)
            done = threading.Event()

            def scribble():
                while not done.is_set():
                    try:
                        os.pwrite(other, HOSTILE, 0)
                    except OSError:
                        return

            writer = threading.Thread(target=scribble)
            writer.start()
            try:
                os.close(fd)  # FLUSH: judges and commits while the scribbler writes
            except OSError:
                pass  # refused: the scribble landed before the flush judged
            done.set()
            writer.join()
            try:
                os.close(other)  # flushes the hostile bytes: refused, or the genuine ones
            except OSError:
                pass
            self.assert_committed_is(relative, [genuine])
        # An innocent upload of the same photo reads back true (no poisoned blob).
        self.put("posts/2/photos/0/original.jpg", self.image("g.jpg", 400, 300))
        self.assertEqual(self.read(self.p("posts/2/photos/0/original.jpg")), genuine)

    def test_truncating_an_upload_during_its_flush_does_not_kill_the_daemon(self):
        genuine = self.genuine(width=1600, height=1200)
        relative = f"{SET}/original.jpg"
        for _ in range(20):
            fd = os.open(self.p(relative), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, genuine)
            other = os.dup(fd)
            done = threading.Event()

            def shrink():
                size = 0
                while not done.is_set():
                    try:
                        os.ftruncate(other, size)
                        os.pwrite(other, genuine, 0)
                    except OSError:
                        return
                    size = (size + 4096) % len(genuine)

            cutter = threading.Thread(target=shrink)
            cutter.start()
            try:
                os.close(fd)
            except OSError:
                pass
            done.set()
            cutter.join()
            try:
                os.close(other)
            except OSError:
                pass
            self.assertIsNone(self.mount.proc.poll(), "the daemon died: " + self.mount.read_log())
            self.assert_committed_is(relative, [genuine])

    def test_replacement_by_cp_and_rename_gives_readers_whole_images_and_no_enoent(self):
        small = self.image("small.jpg", 300, 200)
        big = self.image("big.jpg", 1200, 900)
        versions = {sha(self.read(small)), sha(self.read(big))}
        original = self.put(f"{SET}/original.jpg", small)
        counts = {"reads": 0, "torn": 0, "enoent": 0, "writes": 0}

        def reader(stop):
            while time.monotonic() < stop:
                try:
                    os.stat(original)
                    data = self.read(original)
                except FileNotFoundError:
                    counts["enoent"] += 1
                    continue
                counts["reads"] += 1
                if sha(data) not in versions:
                    counts["torn"] += 1

        def cp_writer(stop):
            i = 0
            while time.monotonic() < stop:
                run("cp", big if i % 2 else small, original)
                counts["writes"] += 1
                i += 1

        def rename_writer(stop):
            i = 0
            while time.monotonic() < stop:
                staging = self.p(f"{SET}/.original.jpg.{i}")
                run("cp", small if i % 2 else big, staging)
                os.rename(staging, original)
                counts["writes"] += 1
                i += 1

        finished = run_threads([reader] * 4 + [cp_writer, rename_writer], 6)
        self.assertTrue(finished, "the workload hung")
        print(f"replacement: {counts}")
        self.assertGreater(counts["reads"], 100)
        self.assertGreater(counts["writes"], 10)
        self.assertEqual(counts["torn"], 0, f"torn reads: {counts}")
        self.assertEqual(counts["enoent"], 0, f"ENOENT for a name that exists: {counts}")

    # Invalidation must never wait on a request that needs a free worker.

    def concurrent_uploads_finish(self):
        sources = [self.image(f"s{i}.jpg", 640 + 16 * i, 480) for i in range(3)]
        failures = []

        def uploader(index):
            def work(stop):
                n = 0
                while time.monotonic() < stop:
                    # Each uploader its own entity: two cp creating one new
                    # file race on O_EXCL (EEXIST) on any filesystem.
                    target = self.p(f"posts/{index}/photos/{n % 2}/original.jpg")
                    result = subprocess.run(["cp", sources[(index + n) % 3], target],
                                            capture_output=True, timeout=60)
                    if result.returncode != 0:
                        failures.append(result.stderr)
                    n += 1
            return work

        def reader(stop):
            while time.monotonic() < stop:
                for entity in (0, 1, 2):
                    try:
                        self.read(self.p(f"posts/{entity}/photos/0/original.jpg"))
                        self.read(self.p(f"posts/{entity}/photos/0/thumb/64.jpg"))
                    except FileNotFoundError:
                        pass

        finished = run_threads([uploader(i) for i in range(3)] + [reader, reader], 5)
        self.assertTrue(finished, "uploads hung: " + self.mount.read_log()[-2000:])
        self.assertEqual(failures, [])

    def test_three_concurrent_cp_with_two_workers_finish(self):
        self.mount.stop()
        self.mount = Mount(self.tmp, options=["max_threads=2"])
        self.addCleanup(self.mount.stop)
        self.mount.start()
        self.concurrent_uploads_finish()

    def test_three_concurrent_cp_single_threaded_finish(self):
        self.mount.stop()
        self.mount = Mount(self.tmp, flags=["-s"])
        self.addCleanup(self.mount.stop)
        self.mount.start()
        self.concurrent_uploads_finish()


    def test_one_client_holding_many_uploads_gets_emfile_and_others_go_on(self):
        held = []
        refused = None
        try:
            for n in range(300):
                try:
                    held.append(os.open(self.p(f"posts/{n}/photos/0/original.jpg"),
                                        os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644))
                except OSError as e:
                    refused = e
                    break
            self.assertIsNotNone(refused, "300 uploads held open by one client")
            self.assertEqual(refused.errno, errno.EMFILE)
            self.assertEqual(len(held), 256)
            other = self.put("posts/999/photos/0/original.jpg", self.image("o.jpg", 100, 80))
            self.assertTrue(os.path.exists(other))
        finally:
            for fd in held:
                try:
                    os.close(fd)  # empty uploads: refused (EINVAL)
                except OSError:
                    pass

    def test_writes_past_max_bytes_fail_when_written(self):
        fd = os.open(self.p(f"{SET}/original.jpg"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            with self.assertRaises(OSError) as caught:
                os.pwrite(fd, b"x", 1 << 40)  # 1 TiB in: over the 100 MB limit
            self.assertEqual(caught.exception.errno, errno.EFBIG)
            with self.assertRaises(OSError) as caught:
                os.ftruncate(fd, 200 * 1000 * 1000)
            self.assertEqual(caught.exception.errno, errno.EFBIG)
        finally:
            try:
                os.close(fd)
            except OSError:
                pass

    def test_unchanged_scratch_files_expire_and_changed_ones_stay(self):
        self.mount.stop()
        self.mount = Mount(self.tmp, options=["scratch_ttl=2"])
        self.addCleanup(self.mount.stop)
        self.mount.start()
        set_dir = self.p(SET)
        abandoned = os.path.join(set_dir, ".original.jpg.abandoned")
        with open(abandoned, "wb") as f:
            f.write(b"x" * 100000)  # a transfer that died here
        kept = os.path.join(set_dir, ".original.jpg.active")
        old = os.path.join(set_dir, ".original.jpg.old-mtime")
        with open(old, "wb") as f:
            f.write(b"y")
        fd = os.open(kept, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + 5
            i = 0
            while time.monotonic() < deadline:
                os.pwrite(fd, b"z", i)  # a slow transfer, still going
                # rsync sets the source's (old) mtime before its rename: the
                # file is changed by that, not abandoned.
                os.utime(old, (946684800, 946684800))
                i += 1
                time.sleep(0.3)
            names = os.listdir(set_dir)
        finally:
            os.close(fd)
        self.assertNotIn(".original.jpg.abandoned", names)
        self.assertIn(".original.jpg.active", names)
        self.assertIn(".original.jpg.old-mtime", names)
        self.assertFalse(os.path.exists(abandoned))
        self.assertRegex(self.mount.read_log(),
                         r"scratch file \.original\.jpg\.abandoned in .* removed: unchanged")
        self.assertEqual(os.path.getsize(kept), i)
