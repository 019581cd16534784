"""The serve mount (-o serve=PATH): the store read-only for web servers, with
no OPEN, RELEASE or FLUSH round trips once a file is cached, and every change
made through the main mount visible there before the change returns."""

import errno
import hashlib
import os
import re
import signal
import subprocess
import threading
import time

from harness import Mount, MountedTestCase, run


def sha(data):
    return hashlib.sha256(data).hexdigest()


class ServeTest(MountedTestCase):
    mount_serve = True

    def s(self, relative):
        return os.path.join(self.serve, relative.lstrip("/"))

    def two_images(self):
        a = self.image("a.jpg", 640, 480)
        b = self.image("b.jpg", 320, 200)
        return a, b

    def test_serves_what_the_main_mount_commits(self):
        a, _ = self.two_images()
        self.put("users/7/picture/original.jpg", a)
        self.assertEqual(self.read(self.s("users/7/picture/original.jpg")), self.read(a))
        thumb = self.read(self.s("users/7/picture/thumb/100.jpg"))
        self.assertTrue(thumb.startswith(b"\xff\xd8"))
        self.assertEqual(thumb, self.read(self.p("users/7/picture/thumb/100.jpg")))
        st = os.stat(self.s("users/7/picture/original.jpg"))
        self.assertEqual(st.st_size, os.path.getsize(a))
        self.assertEqual(os.listxattr(self.s("users/7/picture/original.jpg")),
                         os.listxattr(self.p("users/7/picture/original.jpg")))
        self.assertEqual(sorted(os.listdir(self.s("users"))), ["7"])

    def test_metrics_read_there_are_fresh_each_time(self):
        a, _ = self.two_images()
        metrics = self.s(".imageattachfs/metrics")

        def committed():
            fd = os.open(metrics, os.O_RDONLY)
            try:
                size = os.fstat(fd).st_size
                text = os.read(fd, 1 << 20)
            finally:
                os.close(fd)
            self.assertEqual(len(text), size)  # the snapshot this open reads, whole
            match = re.search(rb"^imageattachfs_uploads_committed_total (\d+)$", text, re.M)
            self.assertIsNotNone(match, text)
            return int(match.group(1))

        before = committed()
        self.put("users/7/picture/original.jpg", a)
        self.read(self.s("users/7/picture/original.jpg"))  # no-open from here on
        self.assertEqual(committed(), before + 1)
        self.put("users/8/picture/original.jpg", a)
        self.assertEqual(committed(), before + 2)

    def test_warm_reads_send_no_request(self):
        # A mount of its own, with -d: every request is a line of the log.
        self.mount.stop()
        mount = Mount(self.tmp, flags=["-d"], serve=True)
        self.addCleanup(mount.stop)
        mount.start()
        a, _ = self.two_images()
        run("cp", a, mount.path("users/7/picture/original.jpg"))
        original = os.path.join(mount.serve, "users/7/picture/original.jpg")
        thumb = os.path.join(mount.serve, "users/7/picture/thumb/100.jpg")
        for path in (original, thumb):  # cold: looked up, opened once, read
            self.read(path)
        time.sleep(0.2)
        before = mount.read_log().count("unique:")
        for _ in range(50):
            for path in (original, thumb):
                fd = os.open(path, os.O_RDONLY)
                try:
                    self.assertGreater(len(os.read(fd, 1 << 20)), 0)
                finally:
                    os.close(fd)
        time.sleep(0.2)
        log = mount.read_log()
        after = log.count("unique:")
        self.assertEqual(after, before, "warm reads reached the daemon:\n" +
                         "\n".join(log.splitlines()[-40:]))
        self.assertIsNotNone(re.search(r"opcode: OPEN.*\n.*Function not implemented", log))

    def test_replacement_is_visible_before_cp_returns(self):
        a, b = self.two_images()
        c = self.image("c.png", 200, 100)
        served = self.s("posts/1/photos/0/original.jpg")
        for i in range(6):
            source = (a, b)[i % 2]
            self.put("posts/1/photos/0/original.jpg", source)
            self.assertEqual(self.read(served), self.read(source))
            thumb = self.s("posts/1/photos/0/thumb/100.jpg")
            height = int(run("vipsheader", "-f", "height", thumb).stdout)
            self.assertEqual(height, 75 if source == a else 62, "a stale thumbnail")
        # Another extension replaces the original: the old name is gone there too.
        self.put("posts/1/photos/0/original.png", c)
        self.assertErrno(errno.ENOENT, os.stat, served)
        self.assertEqual(self.read(self.s("posts/1/photos/0/original.png")), self.read(c))

    def test_rm_mv_and_touch_are_visible(self):
        a, b = self.two_images()
        self.put("posts/1/photos/0/original.jpg", a)
        self.put("posts/1/photos/1/original.jpg", b)
        for d in ("0", "1"):  # the serve mount's kernel caches both sets
            self.read(self.s(f"posts/1/photos/{d}/original.jpg"))
            self.read(self.s(f"posts/1/photos/{d}/thumb/50.jpg"))
        run("mv", "-T", self.p("posts/1/photos/1"), self.p("posts/1/photos/2"))
        self.assertErrno(errno.ENOENT, os.stat, self.s("posts/1/photos/1/original.jpg"))
        self.assertEqual(self.read(self.s("posts/1/photos/2/original.jpg")), self.read(b))
        self.assertEqual(int(run("vipsheader", "-f", "height",
                                 self.s("posts/1/photos/2/thumb/50.jpg")).stdout), 31)
        os.unlink(self.p("posts/1/photos/0/original.jpg"))
        self.assertErrno(errno.ENOENT, os.stat, self.s("posts/1/photos/0/original.jpg"))
        self.assertErrno(errno.ENOENT, os.stat, self.s("posts/1/photos/0/thumb/50.jpg"))
        self.assertEqual(os.listdir(self.s("posts/1/photos")), ["2"])
        os.utime(self.p("posts/1/photos/2/original.jpg"), (1577836800, 1577836800))
        self.assertEqual(os.stat(self.s("posts/1/photos/2/original.jpg")).st_mtime, 1577836800)
        # The bytes of a touched file stay what they were.
        self.assertEqual(self.read(self.s("posts/1/photos/2/original.jpg")), self.read(b))

    def test_writes_are_refused(self):
        a, _ = self.two_images()
        self.put("users/7/picture/original.jpg", a)
        target = self.s("users/7/picture/original.jpg")
        self.assertErrno(errno.EROFS, self.write_through_fd, target, b"x")
        self.assertErrno(errno.EROFS, self.write_through_fd, self.s("users/8/picture/original.jpg"),
                         self.read(a))
        self.assertErrno(errno.EROFS, os.unlink, target)
        self.assertErrno(errno.EROFS, os.rename, self.s("users/7/picture"), self.s("users/9/picture"))
        self.assertErrno(errno.EROFS, os.mkdir, self.s("users/7/x"))
        self.assertErrno(errno.EROFS, os.utime, target, (0, 0))
        self.assertErrno(errno.EROFS, os.setxattr, target, "user.x", b"1")
        self.assertErrno(errno.EROFS, os.truncate, target, 0)
        self.assertEqual(self.read(target), self.read(a))
        self.assertEqual(self.read(self.p("users/7/picture/original.jpg")), self.read(a))

    def test_uploads_in_progress_are_not_shown(self):
        a, _ = self.two_images()
        self.put("users/7/picture/original.jpg", a)
        scratch = self.p("users/7/picture/.original.jpg.part")
        with open(scratch, "wb") as f:
            f.write(self.read(a)[:1000])
            f.flush()
            self.assertIn(".original.jpg.part", os.listdir(self.p("users/7/picture")))
            self.assertEqual(sorted(os.listdir(self.s("users/7/picture"))),
                             ["original.jpg", "thumb"])
            self.assertErrno(errno.ENOENT, os.stat, self.s("users/7/picture/.original.jpg.part"))
            f.write(self.read(a)[1000:])
        os.rename(scratch, self.p("users/7/picture/original.jpg"))
        self.assertEqual(sorted(os.listdir(self.s("users/7/picture"))), ["original.jpg", "thumb"])

    def test_an_open_file_keeps_its_version(self):
        a, b = self.two_images()
        self.put("users/7/picture/original.jpg", a)
        fd = os.open(self.s("users/7/picture/original.jpg"), os.O_RDONLY)
        try:
            self.assertEqual(os.pread(fd, 1 << 20, 0), self.read(a))
            self.put("users/7/picture/original.jpg", b)
            # Drop the cached pages: the bytes come from the daemon again, of
            # the version this file was opened on.
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            self.assertEqual(os.pread(fd, 1 << 20, 0), self.read(a))
        finally:
            os.close(fd)
        self.assertEqual(self.read(self.s("users/7/picture/original.jpg")), self.read(b))

    def test_readers_see_whole_images_during_replacements(self):
        images = [self.image(f"r{i}.jpg", 400 + 40 * i, 300) for i in range(3)]
        wanted = {sha(self.read(path)) for path in images}
        self.put("posts/5/photos/0/original.jpg", images[0])
        served = self.s("posts/5/photos/0/original.jpg")
        stop = threading.Event()
        seen = {"reads": 0, "torn": 0, "errors": []}
        lock = threading.Lock()

        def reader():
            while not stop.is_set():
                try:
                    with open(served, "rb") as f:
                        data = f.read()
                except OSError as e:
                    with lock:
                        seen["errors"].append(e)
                    continue
                with lock:
                    seen["reads"] += 1
                    if sha(data) not in wanted:
                        seen["torn"] += 1

        threads = [threading.Thread(target=reader) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            deadline = time.monotonic() + 4
            i = 0
            while time.monotonic() < deadline:
                i += 1
                if i % 2:
                    self.put("posts/5/photos/0/original.jpg", images[i % 3])
                else:  # staging + rename
                    tmp = self.p("posts/5/photos/0/.original.jpg.tmp")
                    run("cp", images[i % 3], tmp)
                    os.rename(tmp, self.p("posts/5/photos/0/original.jpg"))
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertGreater(seen["reads"], 0)
        self.assertEqual(seen["torn"], 0)
        self.assertEqual(seen["errors"], [])

    def test_stops_cleanly(self):
        a, _ = self.two_images()
        self.put("users/7/picture/original.jpg", a)
        self.read(self.s("users/7/picture/original.jpg"))
        proc = self.mount.proc
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=20), 0, self.mount.read_log())
        self.assertFalse(self.mount.is_mounted())
        self.assertFalse(self.mount.is_mounted(self.serve))

    def test_unmounting_the_serve_mount_leaves_the_main_one(self):
        a, b = self.two_images()
        self.put("users/7/picture/original.jpg", a)
        run("fusermount3", "-u", self.serve)
        self.assertFalse(self.mount.is_mounted(self.serve))
        self.put("users/7/picture/original.jpg", b)
        self.assertEqual(self.read(self.p("users/7/picture/original.jpg")), self.read(b))
        run("fusermount3", "-u", self.mnt)
        self.assertEqual(self.mount.proc.wait(timeout=20), 0, self.mount.read_log())

    def test_bad_serve_options(self):
        afile = os.path.join(self.tmp, "afile")
        with open(afile, "w") as f:
            f.write("x")
        for serve, message in ((self.mnt, "is the MOUNTPOINT itself"),
                               (os.path.join(self.mnt, "posts"), "one inside the other"),
                               (afile, "not a directory"),
                               (os.path.join(self.tmp, "missing"), "not a directory")):
            result = subprocess.run([os.environ["IAFS_BINARY"], "-o", "serve=" + serve,
                                     os.path.join(self.tmp, "s2"), self.mnt, "-f"],
                                    capture_output=True, text=True, timeout=20)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn(message, result.stderr)
        # A serve point that cannot be mounted: one line, and the main mount undone.
        other = Mount(os.path.join(self.tmp, "other"),
                      options=["serve=" + os.path.join(self.tmp, "missing")])
        os.makedirs(other.root, exist_ok=True)
        args = [os.environ["IAFS_BINARY"], "-o", "serve=" + os.path.join(self.tmp, "missing"),
                other.store, other.mnt, "-f"]
        result = subprocess.run(args, capture_output=True, text=True, timeout=20)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("not a directory", result.stderr)
        self.assertFalse(other.is_mounted())
