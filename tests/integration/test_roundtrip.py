"""Backups that round-trip through the mount with the real tools: rsync -aAX,
cp -a and tar, out and back, into the same store and into a fresh
one, twice in a row; each exits 0, every original comes back byte-exact (with
its attributes, where the tool keeps them). A hostile backup (a thumbnail with other bytes) changes
nothing the mount serves. Directory mtimes survive a remount, so rsync finds
nothing to do after a restore; a thumbnail's mtime is its original's, so it
is the same whenever it is made (stable ETags)."""

import hashlib
import os
import threading
import time

from harness import Mount, MountedTestCase, run

TOOL_TIMEOUT = 60  # a hang fails the test (ctest allows 120 s)

ORIGINALS = {
    "posts/1/photos/0/original.jpg": ("rocket.jpg", None),
    "posts/1/photos/2/original.png": ("chelsea.png", None),
    "posts/abc/photos/0/original.webp": (None, (300, 400)),
    "users/7/picture/original.png": (None, (200, 200)),
}
THUMBNAILS = [
    "posts/1/photos/0/thumb/300.jpg",
    "posts/1/photos/0/thumb/x64.webp",
    "posts/1/photos/2/thumb/100.png",
    "posts/abc/photos/0/thumb/64.webp",
    "users/7/picture/thumb/64.png",
]
HOSTILE_THUMB = "posts/1/photos/0/thumb/300.jpg"


def sha(data):
    return hashlib.sha256(data).hexdigest()


def tool(*args, cwd=None):
    result = run(*args, check=False, cwd=cwd, timeout=TOOL_TIMEOUT)
    return result


def user_xattrs(path):
    return {name: os.getxattr(path, name) for name in os.listxattr(path)
            if name.startswith("user.")}


def etag(st):
    """nginx's ETag of a file: "<mtime hex>-<size hex>"."""
    return f'"{int(st.st_mtime):x}-{st.st_size:x}"'


class RoundTripTest(MountedTestCase):
    def setUp(self):
        super().setUp()
        self.hashes = {}
        for relative, (photo, size) in ORIGINALS.items():
            source = self.sample(photo) if photo else self.image(
                relative.replace("/", "_"), *size)
            self.put(relative, source)
            self.hashes[relative] = sha(self.read(source))
        self.thumbs = {t: sha(self.read(self.p(t))) for t in THUMBNAILS}  # made now

    def backup_dir(self):
        path = os.path.join(self.tmp, f"backup-{len(os.listdir(self.tmp))}")
        os.makedirs(path)
        return path

    def files_under(self, root):
        found = []
        for directory, _, names in os.walk(root):
            found += [os.path.relpath(os.path.join(directory, n), root) for n in names]
        return sorted(found)

    def assert_same_tree(self, backup, mnt):
        """Every file of the backup is in the mount with the same bytes,
        mtime and user.image.* attributes (and no originals were lost)."""
        files = self.files_under(backup)
        self.assertTrue(set(ORIGINALS) | set(THUMBNAILS) <= set(files), files)
        for relative in files:
            ours, theirs = os.path.join(mnt, relative), os.path.join(backup, relative)
            self.assertEqual(sha(self.read(ours)), sha(self.read(theirs)), relative)
            self.assertEqual(os.stat(ours).st_mtime_ns, os.stat(theirs).st_mtime_ns, relative)
            self.assertEqual(user_xattrs(ours), user_xattrs(theirs), relative)
        for relative, digest in self.hashes.items():
            self.assertEqual(sha(self.read(os.path.join(mnt, relative))), digest, relative)

    def assert_ok(self, result):
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "", result.args)

    def assert_quiet(self, mount):
        self.assertIsNone(mount.proc.poll(), "the daemon is running")
        self.assertNotIn("refused", mount.read_log())

    def test_rsync_aAX_out_and_back_twice_into_the_same_and_a_fresh_store(self):
        fresh = self.fresh_mount()
        for target in (self.mount, fresh):
            for _ in range(2):
                backup = self.backup_dir()
                self.assert_ok(tool("rsync", "-aAX", self.mnt + "/", backup + "/"))
                self.assert_ok(tool("rsync", "-aAX", backup + "/", target.mnt + "/"))
                self.assert_same_tree(backup, target.mnt)
        # created_at was restored onto the fresh store's originals.
        for relative in ORIGINALS:
            self.assertEqual(os.getxattr(fresh.path(relative), "user.image.created_at"),
                             os.getxattr(self.p(relative), "user.image.created_at"), relative)
        self.assert_quiet(self.mount)
        self.assert_quiet(fresh)

    def test_cp_a_out_and_back_twice_into_the_same_and_a_fresh_store(self):
        fresh = self.fresh_mount()
        for target in (self.mount, fresh):
            for _ in range(2):
                backup = self.backup_dir()
                self.assert_ok(tool("cp", "-a", self.mnt + "/.", backup))
                self.assert_ok(tool("cp", "-a", backup + "/.", target.mnt))
                self.assert_same_tree(backup, target.mnt)
        self.assert_quiet(self.mount)
        self.assert_quiet(fresh)

    def test_rsync_a_and_cp_a_into_a_store_shown_with_another_owner_and_umask(self):
        # chown/chmod of every file and directory to the backup's owner and
        # modes succeed and change nothing.
        backup = self.backup_dir()
        self.assert_ok(tool("rsync", "-aAX", self.mnt + "/", backup + "/"))
        root = os.path.join(self.tmp, "owned")
        os.makedirs(root)
        owned = Mount(root, options=["uid=1000", "gid=33", "umask=027"])
        self.addCleanup(owned.stop)
        owned.start()
        for _ in range(2):
            self.assert_ok(tool("rsync", "-aAX", backup + "/", owned.mnt + "/"))
            self.assert_ok(tool("cp", "-a", backup + "/.", owned.mnt))
        self.assert_same_tree(backup, owned.mnt)
        st = os.stat(owned.path("posts/1/photos/0/original.jpg"))
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o777), (1000, 33, 0o640))
        backup_again = self.backup_dir()
        self.assert_ok(tool("rsync", "-aAX", owned.mnt + "/", backup_again + "/"))
        self.assert_ok(tool("rsync", "-aAX", backup_again + "/", self.mnt + "/"))
        self.assert_same_tree(backup, self.mnt)
        self.assert_quiet(owned)

    def test_tar_out_and_back_twice_into_the_same_and_a_fresh_store(self):
        # Plain tar keeps no xattrs (tar --xattrs makes each file with mknod
        # first, which the mount refuses): bytes and mtimes round-trip.
        fresh = self.fresh_mount()
        for target in (self.mount, fresh):
            for _ in range(2):
                archive = os.path.join(self.backup_dir(), "images.tar")
                self.assert_ok(tool("tar", "-cf", archive, ".", cwd=self.mnt))
                self.assert_ok(tool("tar", "-xf", archive, cwd=target.mnt))
                self.assert_ok(tool("tar", "--compare", "-f", archive, cwd=target.mnt))
                for relative, digest in self.hashes.items():
                    self.assertEqual(sha(self.read(target.path(relative))), digest, relative)
                for thumb, digest in self.thumbs.items():
                    self.assertEqual(sha(self.read(target.path(thumb))), digest, thumb)
        self.assert_quiet(self.mount)
        self.assert_quiet(fresh)

    def assert_serves_its_own(self, mount):
        thumb = mount.path(HOSTILE_THUMB)
        data = self.read(thumb)
        self.assertEqual(sha(data), self.thumbs[HOSTILE_THUMB])
        self.assertEqual(os.stat(thumb).st_size, len(data))  # the kernel's size too
        self.assertEqual(os.getxattr(thumb, "user.image.sha256").decode(), sha(data))

    def test_a_hostile_backup_does_not_change_what_the_mount_serves(self):
        backup = self.backup_dir()
        self.assert_ok(tool("cp", "-a", self.mnt + "/.", backup))
        planted = os.path.join(backup, HOSTILE_THUMB)
        st = os.stat(planted)
        # Other bytes, longer than the thumbnail, with its mtime: a valid
        # image of another picture, then garbage after it.
        with open(planted, "wb") as f:
            f.write(self.read(self.sample("chelsea.png")) + b"\0evil" * 4096)
        os.utime(planted, ns=(st.st_atime_ns, st.st_mtime_ns))
        fresh = self.fresh_mount()
        for mount in (self.mount, fresh):
            # rsync -I sends every file: the thumbnail through a scratch file
            # of thumb/, renamed onto its name; cp -a writes over it.
            self.assert_ok(tool("rsync", "-aAX", "-I", backup + "/", mount.mnt + "/"))
            self.assert_serves_its_own(mount)
            self.assert_ok(tool("cp", "-a", backup + "/.", mount.mnt))
            self.assert_serves_its_own(mount)
            self.assertIn(f"restore of /{HOSTILE_THUMB}: its bytes dropped", mount.read_log())
        # A writer that reads back what it wrote gets the mount's bytes too.
        with open(self.p(HOSTILE_THUMB), "r+b") as f:
            f.write(b"evil")
            f.seek(0)
            self.assertEqual(sha(f.read()), self.thumbs[HOSTILE_THUMB])
        self.remount()
        self.assert_serves_its_own(self.mount)
        # Nor can an attribute describe other bytes than the original's.
        original = self.p("posts/1/photos/0/original.jpg")
        result = tool("setfattr", "-n", "user.image.sha256", "-v", "0" * 64, original)
        self.assertIn("Operation not permitted", result.stderr)
        self.assertEqual(os.getxattr(original, "user.image.sha256").decode(),
                         self.hashes["posts/1/photos/0/original.jpg"])

    def test_readers_see_the_mounts_thumbnail_while_a_hostile_restore_writes_over_it(self):
        backup = self.backup_dir()
        self.assert_ok(tool("cp", "-a", self.mnt + "/.", backup))
        with open(os.path.join(backup, HOSTILE_THUMB), "wb") as f:
            f.write(b"\xff" * 200_000)  # longer than the thumbnail: the kernel's size grows
        done = threading.Event()
        failures = []

        def reader():
            while not done.is_set():
                with open(self.p(HOSTILE_THUMB), "rb") as f:
                    data = f.read()
                if sha(data) != self.thumbs[HOSTILE_THUMB]:
                    failures.append(len(data))

        readers = [threading.Thread(target=reader) for _ in range(3)]
        for t in readers:
            t.start()
        try:
            for _ in range(5):
                self.assert_ok(tool("cp", "-a", backup + "/.", self.mnt))
                self.assert_ok(tool("rsync", "-a", "-I", backup + "/", self.mnt + "/"))
        finally:
            done.set()
            for t in readers:
                t.join()
        self.assertEqual(failures, [])
        self.assert_serves_its_own(self.mount)

    def test_a_scratch_file_with_hostile_attributes_commits_what_its_bytes_are(self):
        scratch = self.p("posts/9/photos/0/.original.jpg.Xy12ab")
        self.write_through_fd(scratch, self.read(self.sample("rocket.jpg")))
        os.setxattr(scratch, "user.image.sha256", b"0" * 64)
        os.setxattr(scratch, "user.image.width", b"1")
        os.setxattr(scratch, "user.image.created_at", b"2001-02-03T04:05:06Z")
        self.assertErrno(22, os.setxattr, scratch, "user.image.created_at", b"yesterday")
        os.rename(scratch, self.p("posts/9/photos/0/original.jpg"))
        attrs = user_xattrs(self.p("posts/9/photos/0/original.jpg"))
        self.assertEqual(attrs["user.image.sha256"].decode(),
                         self.hashes["posts/1/photos/0/original.jpg"])
        self.assertEqual(attrs["user.image.width"], b"640")
        self.assertEqual(attrs["user.image.created_at"], b"2001-02-03T04:05:06Z")
        self.assertErrno(95, os.setxattr, self.p("posts/9/photos/0/original.jpg"),
                         "user.comment", b"x")  # ENOTSUP: only user.image.*

    def test_directory_mtimes_survive_a_remount_and_rsync_has_nothing_to_do(self):
        backup = self.backup_dir()
        for relative in ["", "posts", "posts/1", "posts/1/photos", "posts/1/photos/0",
                         "posts/1/photos/0/thumb", "users/7/picture", "users/7/picture/thumb"]:
            os.utime(self.p(relative), ns=(0, 1_500_000_000_123_456_789))
        self.assert_ok(tool("rsync", "-aAX", self.mnt + "/", backup + "/"))
        # Directories whose mtime was never set show the time of their mount,
        # and rsync sets a time only if it differs in whole seconds: a fresh
        # mount started within the second of this one would keep its own
        # times, unstored (a restore is never that quick after a backup).
        time.sleep(1.1)
        unset = ("posts/abc", "posts/abc/photos", "users")
        fresh = self.fresh_mount()
        self.assert_ok(tool("rsync", "-aAX", backup + "/", fresh.mnt + "/"))
        fresh.stop()  # the kernel forgets every inode
        fresh.start()
        self.assertEqual(os.stat(fresh.path("posts/1/photos/0/thumb")).st_mtime_ns,
                         1_500_000_000_123_456_789)
        for path in unset:  # set by rsync, not by us
            self.assertEqual(os.stat(fresh.path(path)).st_mtime_ns,
                             os.stat(os.path.join(backup, path)).st_mtime_ns, path)
        itemized = tool("rsync", "-aAX", "--dry-run", "--itemize-changes",
                        backup + "/", fresh.mnt + "/")
        self.assert_ok(itemized)
        self.assertEqual(itemized.stdout, "")
        deleting = tool("rsync", "-a", "--delete", "--dry-run", "--itemize-changes",
                        backup + "/", fresh.mnt + "/")
        self.assert_ok(deleting)
        self.assertEqual(deleting.stdout, "")
        self.assert_quiet(fresh)

    def test_a_thumbnail_made_again_has_the_same_mtime_size_and_bytes(self):
        thumb = self.p(HOSTILE_THUMB)
        original = self.p("posts/1/photos/0/original.jpg")
        first = os.stat(thumb)
        self.assertEqual(first.st_mtime_ns, os.stat(original).st_mtime_ns)
        os.unlink(thumb)
        self.read(self.p("posts/1/photos/0/thumb/50.jpg"))  # a lookup ends this thread's removal
        again = self.read(thumb)  # made again
        second = os.stat(thumb)
        self.assertNotEqual(second.st_ino, first.st_ino)  # another version
        self.assertEqual(sha(again), self.thumbs[HOSTILE_THUMB])
        self.assertEqual((second.st_mtime_ns, second.st_size), (first.st_mtime_ns, first.st_size))
        self.assertEqual(etag(second), etag(first))
        self.remount()
        self.assertEqual(etag(os.stat(thumb)), etag(first))
        # On another store (another host) it is made with the same ETag.
        other = self.fresh_mount()
        self.assert_ok(tool("cp", "-p", original, other.path("posts/1/photos/0/original.jpg")))
        self.assertEqual(etag(os.stat(other.path(HOSTILE_THUMB))), etag(first))
        # touch of the original moves its thumbnails' mtime with it.
        os.utime(original, ns=(0, 1_600_000_000_000_000_000))
        self.assertEqual(os.stat(thumb).st_mtime_ns, 1_600_000_000_000_000_000)
