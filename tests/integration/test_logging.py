"""The daemon's log lines (its stderr in the foreground, which the harness
captures): one per thumbnail made and per upload committed at info, refused
renames naming source and target, unmount and exit; -o loglevel= filters."""

import errno
import os
import re
import signal
import subprocess

from harness import BINARY, Mount, MountedTestCase, run

THUMB_LINE = re.compile(r"^imageattachfs: info: thumbnail (\S+): made (\d+)x(\d+) in (\d+) ms$")
UPLOAD_LINE = re.compile(r"^imageattachfs: info: upload (\S+): committed (\d+) bytes, (\d+)x(\d+)$")


class LoggingTest(MountedTestCase):
    def lines(self, mount=None):
        return (mount or self.mount).read_log().splitlines()

    def matching(self, pattern, mount=None):
        return [m.groups() for m in map(pattern.match, self.lines(mount)) if m]

    def remount_with(self, *options):
        self.mount.stop()
        mount = Mount(self.tmp, options=list(options))
        self.addCleanup(mount.stop)
        mount.start()
        return mount

    def test_each_thumbnail_made_is_one_line_with_path_size_and_ms(self):
        self.put("posts/1/photos/0/original.jpg", self.image("a.jpg", 640, 480))
        os.stat(self.p("posts/1/photos/0/thumb/300.jpg"))
        os.stat(self.p("posts/1/photos/0/thumb/x60.webp"))
        os.stat(self.p("posts/1/photos/0/thumb/300.jpg"))  # stored: not made again
        self.read(self.p("posts/1/photos/0/thumb/300.jpg"))
        made = self.matching(THUMB_LINE)
        self.assertEqual([(p, w, h) for p, w, h, _ in made],
                         [("/posts/1/photos/0/thumb/lqip.webp", "32", "24"),  # at the commit
                          ("/posts/1/photos/0/thumb/300.jpg", "300", "225"),
                          ("/posts/1/photos/0/thumb/x60.webp", "80", "60")])
        self.assertTrue(all(int(ms) >= 0 for *_, ms in made))

    def test_each_committed_upload_is_one_line_with_bytes_and_size(self):
        first = self.image("a.png", 64, 48)
        self.put("users/7/picture/original.png", first)
        self.put("users/7/picture/original.png", first)  # identical bytes: no commit
        second = self.image("b.jpg", 100, 50)
        self.put("posts/9/photos/3/original.jpg", second)
        self.assertEqual(self.matching(UPLOAD_LINE),
                         [("/users/7/picture/original.png", str(os.path.getsize(first)), "64", "48"),
                          ("/posts/9/photos/3/original.jpg", str(os.path.getsize(second)), "100",
                           "50")])

    def test_refused_upload_is_a_warning_and_no_commit_line(self):
        bad = os.path.join(self.tmp, "bad.jpg")
        with open(bad, "wb") as f:
            f.write(b"not a jpeg at all")
        self.assertNotEqual(run("cp", bad, self.p("posts/1/photos/0/original.jpg"),
                                check=False).returncode, 0)
        self.assertEqual(self.matching(UPLOAD_LINE), [])
        warnings = self.mount.log_lines("warning: write /posts/1/photos/0/original.jpg")
        self.assertEqual(len(warnings), 1, self.lines())

    def test_refused_rename_names_source_and_target(self):
        self.put("posts/42/photos/3/original.jpg", self.image("a.jpg", 64, 64))
        self.assertErrno(errno.EPERM, os.rename, self.p("posts/42/photos/3/original.jpg"),
                         self.p("posts/42/photos/4/original.jpg"))
        self.assertErrno(errno.EXDEV, os.rename, self.p("posts/42/photos/3"),
                         self.p("users/42/picture"))
        # A target that is not a name of the namespace: named as written.
        self.assertErrno(errno.EPERM, os.rename, self.p("posts/42/photos/3/original.jpg"),
                         self.p("posts/42/photos/3/thumb/evil\nname"))
        refused = [l for l in self.lines() if ": warning: rename " in l]
        self.assertEqual(refused, [
            "imageattachfs: warning: rename /posts/42/photos/3/original.jpg to "
            "/posts/42/photos/4/original.jpg: refused: a committed original cannot be renamed",
            "imageattachfs: warning: rename /posts/42/photos/3 to /users/42/picture: refused: "
            "a set moves only within its type and attachment",
            "imageattachfs: warning: rename /posts/42/photos/3/original.jpg to "
            "/posts/42/photos/3/thumb/evil\\x0aname: refused: " +
            refused[2].rpartition("refused: ")[2]])

    def test_unmount_and_exit_are_logged(self):
        self.mount.stop()  # fusermount3 -u
        lines = self.lines()
        self.assertIn(f"imageattachfs: info: {self.mnt} was unmounted: stopping", lines)
        self.assertIn(f"imageattachfs: info: unmounted {self.mnt}", lines)
        self.assertEqual(lines[-1], "imageattachfs: info: exiting with status 0")

    def test_sigterm_unmounts_both_mounts_and_is_logged(self):
        self.mount.stop()
        mount = Mount(self.tmp, serve=True)
        self.addCleanup(mount.stop)
        mount.start()
        mount.proc.send_signal(signal.SIGTERM)
        self.assertEqual(mount.proc.wait(timeout=20), 0)
        lines = self.lines(mount)
        self.assertIn(f"imageattachfs: info: SIGTERM: unmounting {mount.mnt}", lines)
        self.assertIn(f"imageattachfs: info: unmounted {mount.serve}", lines)
        self.assertIn(f"imageattachfs: info: unmounted {mount.mnt}", lines)
        self.assertEqual(lines[-1], "imageattachfs: info: exiting with status 0")
        self.assertFalse(mount.is_mounted())
        self.assertFalse(mount.is_mounted(mount.serve))

    def test_loglevel_error_hides_info_and_warning_lines(self):
        mount = self.remount_with("loglevel=error")
        run("cp", self.image("a.jpg", 200, 100), mount.path("posts/1/photos/0/original.jpg"))
        os.stat(mount.path("posts/1/photos/0/thumb/50.jpg"))
        self.assertErrno(errno.EPERM, os.rename, mount.path("posts/1/photos/0/original.jpg"),
                         mount.path("posts/1/photos/1/original.jpg"))
        mount.stop()
        self.assertEqual(mount.read_log(), "")

    def test_loglevel_warning_keeps_refusals_only(self):
        mount = self.remount_with("loglevel=warning")
        run("cp", self.image("a.jpg", 200, 100), mount.path("posts/1/photos/0/original.jpg"))
        os.stat(mount.path("posts/1/photos/0/thumb/50.jpg"))
        self.assertErrno(errno.EPERM, os.rename, mount.path("posts/1/photos/0/original.jpg"),
                         mount.path("posts/1/photos/1/original.jpg"))
        mount.stop()
        lines = self.lines(mount)
        self.assertEqual(len(lines), 1, lines)
        self.assertTrue(lines[0].startswith("imageattachfs: warning: rename "), lines)

    def test_loglevel_debug_logs_refused_lookups(self):
        mount = self.remount_with("loglevel=debug")
        self.assertFalse(os.path.exists(mount.path("posts/1/photos/0/thumb/0.jpg")))
        self.assertTrue(any(l.startswith("imageattachfs: debug: lookup in ")
                            for l in self.lines(mount)), self.lines(mount))

    def test_bad_loglevel_is_one_line(self):
        for value in ("verbose", "INFO", "", "warn"):
            result = subprocess.run([BINARY, "-o", f"loglevel={value}", self.mount.store,
                                     os.path.join(self.tmp, "x"), "-f"],
                                    capture_output=True, text=True, timeout=20)
            self.assertEqual(result.returncode, 1, value)
            self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
            self.assertIn("loglevel", result.stderr)
        self.assertIn("loglevel=LEVEL", run(BINARY, "--help").stdout)
