"""The mountpoint is checked before anything is created: a missing one, a
regular file, or one where this store is mounted already (alive or dead) is
refused with one line and exit 1, and the store directory is not made."""

import os
import shutil
import subprocess
import tempfile
import unittest

from harness import BINARY, Mount, run


class MountpointTest(unittest.TestCase):
    def setUp(self):
        if not BINARY:
            raise unittest.SkipTest("IAFS_BINARY not set (run through ctest)")
        self.tmp = tempfile.mkdtemp(prefix="iafs-it-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def refused(self, *args):
        """Runs the daemon expecting exit 1 at once; returns its one stderr line.
        Should it mount instead, whatever it mounted is cleared afterwards."""
        for arg in args:
            if arg.startswith(self.tmp):
                self.addCleanup(run, "fusermount3", "-uz", arg, check=False)
        result = subprocess.run([BINARY, *args, "-f"], capture_output=True, text=True, timeout=20)
        self.assertEqual(result.returncode, 1, result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, result.stderr)
        return lines[0]

    def test_missing_mountpoint_creates_no_store(self):
        store = os.path.join(self.tmp, "store")
        point = os.path.join(self.tmp, "nowhere")
        line = self.refused(store, point)
        self.assertIn(point, line)
        self.assertIn("No such file or directory", line)
        self.assertFalse(os.path.exists(store))
        self.assertFalse(os.path.exists(point))

    def test_regular_file_as_mountpoint_is_refused(self):
        store = os.path.join(self.tmp, "store")
        point = os.path.join(self.tmp, "file")
        with open(point, "w") as f:
            f.write("not a directory\n")
        line = self.refused(store, point)
        self.assertIn(f"{point}: not a directory", line)
        self.assertFalse(os.path.exists(store))
        with open(point) as f:
            self.assertEqual(f.read(), "not a directory\n")

    def test_relative_file_mountpoint_is_named_absolute(self):
        with open(os.path.join(self.tmp, "file"), "w"):
            pass
        result = subprocess.run([BINARY, "store", "file", "-f"], capture_output=True, text=True,
                                timeout=20, cwd=self.tmp)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.strip().splitlines(),
                         [f"imageattachfs: {self.tmp}/file: not a directory"])
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "store")))

    def test_serve_point_that_is_a_file_creates_no_store(self):
        store = os.path.join(self.tmp, "store")
        os.mkdir(os.path.join(self.tmp, "mnt"))
        serve = os.path.join(self.tmp, "serve-file")
        open(serve, "w").close()
        line = self.refused("-o", f"serve={serve}", store, os.path.join(self.tmp, "mnt"))
        self.assertIn(f"serve={serve}: not a directory", line)
        self.assertFalse(os.path.exists(store))

    def test_store_already_mounted_there_is_refused(self):
        mount = Mount(self.tmp, serve=True)
        self.addCleanup(mount.stop)
        mount.start()
        for point in (mount.mnt, mount.serve):
            line = self.refused(mount.store, point)
            self.assertIn("already mounted", line)
            self.assertIn(mount.store, line)
            self.assertIn(point, line)
        # Relative spellings of the same store and point are the same mount.
        result = subprocess.run([BINARY, "store/", "./mnt", "-f"], capture_output=True,
                                text=True, timeout=20, cwd=self.tmp)
        self.assertEqual(result.returncode, 1)
        self.assertIn("already mounted", result.stderr)
        # The first daemon goes on serving, and its mounts are still there once.
        self.assertEqual(sorted(os.listdir(mount.mnt)), ["posts", "users"])
        with open("/proc/self/mounts") as f:
            points = [line.split()[1] for line in f]
        self.assertEqual(points.count(mount.mnt), 1)
        self.assertEqual(points.count(mount.serve), 1)

    def test_dead_mount_of_the_store_is_refused(self):
        mount = Mount(self.tmp)
        mount.start()
        mount.proc.kill()  # the daemon dies; its mount stays, ENOTCONN
        mount.proc.wait()
        mount.log.close()
        mount.proc = None
        self.addCleanup(run, "fusermount3", "-uz", mount.mnt, check=False)
        line = self.refused(mount.store, mount.mnt)
        self.assertIn("already mounted", line)
        self.assertIn("fusermount3 -u", line)
        run("fusermount3", "-uz", mount.mnt)
        # Cleared, the same command mounts again.
        again = Mount(self.tmp)
        self.addCleanup(again.stop)
        again.start()
        self.assertEqual(sorted(os.listdir(again.mnt)), ["posts", "users"])

    def test_other_store_mounted_there_is_not_this_store(self):
        # A dead mount of another store: the mountpoint cannot be reached.
        other = Mount(self.tmp, store=os.path.join(self.tmp, "other"))
        other.start()
        other.proc.kill()
        other.proc.wait()
        other.log.close()
        other.proc = None
        self.addCleanup(run, "fusermount3", "-uz", other.mnt, check=False)
        store = os.path.join(self.tmp, "store")
        line = self.refused(store, other.mnt)
        self.assertIn("whose daemon is gone", line)
        self.assertFalse(os.path.exists(store))
