"""-o ro: a read-only mount serves what the store holds and changes nothing in
it (a thumbnail it lacks is ENOENT, every change EROFS), and serves a store on
read-only media, which a writable mount refuses with one line."""

import errno
import hashlib
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import BINARY, Mount, MountedTestCase, run

POST = "posts/1/photos/0"
USER = "users/7/picture"


def store_snapshot(store):
    """Every file and directory under `store`: name -> (mode, size, mtime_ns,
    sha256 of the bytes)."""
    snapshot = {}
    for root, dirs, files in os.walk(store):
        for name in dirs + files:
            path = os.path.join(root, name)
            st = os.lstat(path)
            digest = None
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
            snapshot[os.path.relpath(path, store)] = (st.st_mode, st.st_size, st.st_mtime_ns,
                                                      digest)
    return snapshot


class ReadOnlyTest(MountedTestCase):
    def setUp(self):
        if not BINARY:
            raise unittest.SkipTest("IAFS_BINARY not set (run through ctest)")
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root to mount a tmpfs")
        self.tmp = tempfile.mkdtemp(prefix="iafs-it-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        # The store lives on its own small tmpfs, so that the test can make
        # the medium read-only for real (mount -o remount,ro).
        self.media = os.path.join(self.tmp, "media")
        os.mkdir(self.media)
        run("mount", "-t", "tmpfs", "-o", "size=32m,mode=0700", "tmpfs", self.media)
        self.addCleanup(run, "umount", "-l", self.media, check=False)
        self.store = os.path.join(self.media, "store")
        self.mounts = 0
        self.fill_store()

    def new_mount(self, options=()):
        self.mounts += 1
        mount = Mount(self.tmp, store=self.store, options=options)
        mount.mnt = os.path.join(self.tmp, f"mnt{self.mounts}")
        os.makedirs(mount.mnt)
        self.addCleanup(mount.stop)
        return mount

    def fill_store(self):
        """A store filled by a read-write mount: two originals, one thumbnail
        of each stored."""
        self.jpg = self.sample("rocket.jpg")
        self.png = self.sample("chelsea.png")
        mount = self.new_mount().start()
        run("cp", self.jpg, mount.path(f"{POST}/original.jpg"))
        run("cp", self.png, mount.path(f"{USER}/original.png"))
        self.thumbs = {
            f"{POST}/thumb/300.jpg": self.read(mount.path(f"{POST}/thumb/300.jpg")),
            f"{USER}/thumb/64.png": self.read(mount.path(f"{USER}/thumb/64.png")),
        }
        mount.stop()

    def remount_media(self, mode):
        run("mount", "-o", f"remount,{mode}", self.media)

    def start_fails(self, *args):
        """Runs the daemon expecting it to exit at once; returns its one stderr line."""
        other = os.path.join(self.tmp, "mnt-refused")
        os.makedirs(other, exist_ok=True)
        try:
            result = subprocess.run([BINARY, *args, other, "-f"], capture_output=True, text=True,
                                    timeout=20)
        finally:
            # A daemon that mounted after all (and was killed by the timeout)
            # leaves a dead mount that os.path.ismount does not see.
            with open("/proc/self/mounts") as mounts:
                if any(line.split()[1] == other for line in mounts):
                    run("fusermount3", "-uz", other, check=False)
        self.assertNotEqual(result.returncode, 0, result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, result.stderr)
        return lines[0]

    def assert_serves_the_store(self, mount):
        """Originals byte-exact, stored thumbnails readable and the only ones
        listed, a thumbnail not stored ENOENT (and still not listed)."""
        self.assertEqual(self.read(mount.path(f"{POST}/original.jpg")), self.read(self.jpg))
        self.assertEqual(self.read(mount.path(f"{USER}/original.png")), self.read(self.png))
        for path, data in self.thumbs.items():
            self.assertEqual(self.read(mount.path(path)), data, path)
        self.assertEqual(sorted(os.listdir(mount.path(f"{POST}/thumb"))), ["300.jpg", "lqip.webp"])
        for missing in (f"{POST}/thumb/200.jpg", f"{POST}/thumb/x100.webp",
                        f"{USER}/thumb/64.jpg"):
            self.assertErrno(errno.ENOENT, os.stat, mount.path(missing))
            self.assertErrno(errno.ENOENT, open, mount.path(missing), "rb")
            self.assertErrno(errno.ENOENT, os.stat, mount.path(missing))  # still not made
        self.assertEqual(sorted(os.listdir(mount.path(f"{POST}/thumb"))), ["300.jpg", "lqip.webp"])
        self.assertEqual(sorted(os.listdir(mount.path(f"{USER}/thumb"))), ["64.png", "lqip.webp"])
        self.assertEqual(os.getxattr(mount.path(f"{POST}/original.jpg"), "user.image.sha256"),
                         hashlib.sha256(self.read(self.jpg)).hexdigest().encode())
        self.assertEqual(os.listdir(mount.path("posts")), ["1"])

    def assert_tool_refused(self, *args):
        result = subprocess.run(list(args), capture_output=True, text=True, timeout=60)
        self.assertNotEqual(result.returncode, 0, f"{args} succeeded on a read-only mount")
        self.assertIn("Read-only file system", result.stderr, args)

    def assert_refuses_every_change(self, mount):
        original = mount.path(f"{POST}/original.jpg")
        self.assert_tool_refused("cp", self.png, mount.path("posts/2/photos/0/original.png"))
        self.assert_tool_refused("cp", self.png, mount.path(f"{POST}/original.png"))
        self.assert_tool_refused("cp", self.jpg, original)
        self.assert_tool_refused("rm", "-f", original)
        self.assert_tool_refused("rm", "-f", mount.path(f"{POST}/thumb/300.jpg"))
        self.assert_tool_refused("mv", "-T", mount.path(POST), mount.path("posts/1/photos/9"))
        self.assert_tool_refused("touch", original)
        self.assert_tool_refused("touch", mount.path(f"{POST}/.upload.tmp"))
        self.assert_tool_refused("setfattr", "-n", "user.x", "-v", "1", original)
        self.assert_tool_refused("truncate", "-s", "0", original)
        self.assert_tool_refused("mkdir", mount.path(f"{POST}/dir"))
        self.assert_tool_refused("rmdir", mount.path(f"{POST}/thumb"))
        self.assertErrno(errno.EROFS, os.open, original, os.O_WRONLY)
        self.assertErrno(errno.EROFS, os.open, original, os.O_RDWR | os.O_TRUNC)
        self.assertErrno(errno.EROFS, os.utime, original, (1, 1))
        self.assertErrno(errno.EROFS, os.rename, original, mount.path(f"{POST}/.moved"))

    def test_a_read_only_mount_serves_the_store_and_changes_nothing(self):
        # A file left in staging: a read-write mount would empty it.
        leftover = os.path.join(self.store, "staging", "leftover")
        with open(leftover, "wb") as f:
            f.write(b"left by an earlier mount")
        before = store_snapshot(self.store)
        self.assertIn("data.mdb", before)
        mount = self.new_mount(["ro"]).start()
        self.assert_serves_the_store(mount)
        self.assert_refuses_every_change(mount)
        self.assert_serves_the_store(mount)
        mount.stop()
        self.assertEqual(store_snapshot(self.store), before)
        # Without LMDB's lock.mdb or staging, a read-only mount makes neither.
        os.unlink(os.path.join(self.store, "lock.mdb"))
        shutil.rmtree(os.path.join(self.store, "staging"))
        before = store_snapshot(self.store)
        mount = self.new_mount(["ro"]).start()
        self.assert_serves_the_store(mount)
        self.assert_tool_refused("cp", self.png, mount.path("posts/2/photos/0/original.png"))
        mount.stop()
        self.assertEqual(store_snapshot(self.store), before)
        result = run(BINARY, "fsck", self.store, check=False)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_a_read_only_mount_keeps_writers_out_and_lets_readers_in(self):
        reader = self.new_mount(["ro"]).start()
        line = self.start_fails(self.store)
        self.assertIn("in use", line)
        repair = run(BINARY, "fsck", self.store, "--repair", check=False)
        self.assertEqual(repair.returncode, 2, repair.stdout + repair.stderr)
        second = self.new_mount(["ro"]).start()  # read-only mounts share the store
        self.assert_serves_the_store(second)
        self.assert_serves_the_store(reader)
        second.stop()
        reader.stop()
        writer = self.new_mount().start()
        line = self.start_fails("-o", "ro", self.store)
        self.assertIn("in use", line)
        writer.stop()
        # ro then rw: the last one wins, as with mount(8).
        writable = self.new_mount(["ro", "rw"]).start()
        run("cp", self.png, writable.path("posts/2/photos/0/original.png"))
        writable.stop()

    def test_a_store_on_read_only_media_is_served_by_a_read_only_mount(self):
        before = store_snapshot(self.store)
        self.remount_media("ro")
        self.assertErrno(errno.EROFS, os.mkdir, os.path.join(self.store, "probe"))
        line = self.start_fails(self.store)
        self.assertIn("read-only filesystem", line)
        self.assertIn("-o ro", line)
        mount = self.new_mount(["ro"]).start()
        self.assert_serves_the_store(mount)
        self.assert_refuses_every_change(mount)
        mount.stop()
        self.assertEqual(store_snapshot(self.store), before)
        # Neither the store's lock file nor LMDB's lock.mdb is needed there.
        self.remount_media("rw")
        os.unlink(os.path.join(self.store, "lock"))
        os.unlink(os.path.join(self.store, "lock.mdb"))
        shutil.rmtree(os.path.join(self.store, "staging"))
        before = store_snapshot(self.store)
        self.remount_media("ro")
        mount = self.new_mount(["ro"]).start()
        self.assert_serves_the_store(mount)
        mount.stop()
        self.assertEqual(store_snapshot(self.store), before)

    def test_a_read_only_mount_still_checks_the_store_and_creates_none(self):
        os.chmod(self.store, 0o757)
        line = self.start_fails("-o", "ro", self.store)
        self.assertIn("writable by others", line)
        os.chmod(self.store, 0o700)
        os.chown(self.store, 65534, 65534)
        line = self.start_fails("-o", "ro", self.store)
        self.assertIn("owned by uid 65534", line)
        os.chown(self.store, 0, 0)
        absent = os.path.join(self.media, "absent")
        line = self.start_fails("-o", "ro", absent)
        self.assertIn("no such store", line)
        self.assertFalse(os.path.exists(absent))
        empty = os.path.join(self.media, "empty")
        os.mkdir(empty, 0o700)
        line = self.start_fails("-o", "ro", empty)
        self.assertIn("not a store", line)
        self.assertEqual(os.listdir(empty), [])


if __name__ == "__main__":
    unittest.main()
