"""Backing up a mount and restoring it into a fresh one with real tools: tar
(thumbnails after their originals, and before them), rsync and cp. Each
restore ends with exit status 0, every original comes back byte-exact, each
thumbnail entry is accepted and its bytes dropped (the mount keeps or makes
its own from the original), and the daemon goes on serving.
(test_roundtrip.py: round trips with rsync -aAX and cp -a, hostile backups,
directory mtimes, stable thumbnail mtimes.)"""

import hashlib
import os
import re
import threading

from harness import MountedTestCase, run

# A tool that loops (open(O_EXCL) -> EEXIST -> unlink -> again) never ends; a
# restore of these few files takes seconds. Under ctest's 120 s per test, so
# that a hang fails the test and its mounts are still unmounted.
TOOL_TIMEOUT = 60

ORIGINALS = {
    "posts/1/photos/0/original.jpg": ("rocket.jpg", None),
    "posts/1/photos/1/original.png": ("chelsea.png", None),
    "posts/2/photos/0/original.jpg": (None, (500, 320)),
    "posts/2/photos/3/original.webp": (None, (300, 400)),
    "users/7/picture/original.png": (None, (200, 200)),
}
THUMBNAILS = [
    "posts/1/photos/0/thumb/300.jpg",
    "posts/1/photos/0/thumb/x64.webp",
    "posts/1/photos/1/thumb/100.png",
    "posts/2/photos/0/thumb/120.jpg",
    "posts/2/photos/0/thumb/x50.png",
    "posts/2/photos/3/thumb/64.webp",
    "users/7/picture/thumb/64.png",
]


def sha(data):
    return hashlib.sha256(data).hexdigest()


def refusals(log, thumb):
    """The refusals the log names for `thumb`: "create", "open"."""
    directory, name = thumb.rsplit("/", 1)
    create = rf"create {re.escape(name)} in /{re.escape(directory)}: refused"
    open_ = rf"open for writing /{re.escape(thumb)}: refused"
    found = re.findall(rf"^imageattachfs: warning: (?:({create})|({open_}))", log, re.M)
    return ["create" if c else "open" for c, _ in found]


def tool(*args, cwd=None):
    """Runs a restore tool; a hang fails the test with TimeoutExpired."""
    return run(*args, check=False, cwd=cwd, timeout=TOOL_TIMEOUT)


class RestoreTest(MountedTestCase):
    def setUp(self):
        super().setUp()
        self.hashes = {}
        for relative, (photo, size) in ORIGINALS.items():
            source = self.sample(photo) if photo else self.image(
                relative.replace("/", "_"), *size)
            self.put(relative, source)
            self.hashes[relative] = sha(self.read(source))
        self.thumbs = {t: sha(self.read(self.p(t))) for t in THUMBNAILS}  # made now

    def archive(self, members):
        """tar -cf of `members` (paths relative to the mount), in that order."""
        path = os.path.join(self.tmp, f"backup-{len(os.listdir(self.tmp))}.tar")
        result = tool("tar", "-cf", path, "--no-recursion", *members, cwd=self.mnt)
        self.assertEqual(result.returncode, 0, result.stderr)
        return path

    def full_tree(self):
        """Every name under the mount, in the order `find` (and tar) walk it."""
        found = run("find", ".", "-mindepth", "1", cwd=self.mnt).stdout.split()
        return [name[2:] for name in found]

    def assert_restored(self, mount, result):
        """The tool exited 0 and printed nothing; originals byte-exact; no
        thumbnail refused; the daemon serves the thumbnails it makes from the
        restored originals, with the same bytes."""
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")
        for relative, digest in self.hashes.items():
            self.assertEqual(sha(self.read(mount.path(relative))), digest, relative)
        self.assertIsNone(mount.proc.poll(), "the daemon is running")
        log = mount.read_log()
        for thumb in THUMBNAILS:
            self.assertEqual(refusals(log, thumb), [], f"{thumb}: {log}")
        self.assertNotIn("refused", log)
        for thumb, digest in self.thumbs.items():
            self.assertEqual(sha(self.read(mount.path(thumb))), digest, thumb)

    def test_tar_extract_of_the_mount_into_a_fresh_mount_ends(self):
        backup = self.archive(self.full_tree())
        listed = run("tar", "-tf", backup).stdout.split()
        self.assertTrue(set(THUMBNAILS) <= set(listed), listed)
        restored = self.fresh_mount()
        result = tool("tar", "-xf", backup, cwd=restored.mnt)
        self.assert_restored(restored, result)

    def test_tar_extract_with_thumbnails_before_and_after_their_originals_ends(self):
        tree = self.full_tree()
        first = [t for t in THUMBNAILS if t.startswith("posts/1/")]  # before their originals
        rest = [name for name in tree if name not in first]
        self.assertLess(rest.index("posts/2/photos/0/original.jpg"),
                        rest.index("posts/2/photos/0/thumb/120.jpg"))
        backup = self.archive(first + rest)
        restored = self.fresh_mount()
        result = tool("tar", "-xf", backup, cwd=restored.mnt)
        self.assert_restored(restored, result)

    def test_tar_extract_ends_while_readers_make_the_thumbnails(self):
        backup = self.archive(self.full_tree())
        restored = self.fresh_mount()
        done = threading.Event()
        failures = []

        def reader():
            while not done.is_set():
                for thumb in THUMBNAILS:
                    try:
                        with open(restored.path(thumb), "rb") as f:
                            if sha(f.read()) != self.thumbs[thumb]:
                                failures.append(f"{thumb}: other bytes")
                    except FileNotFoundError:
                        pass  # its original is not restored yet
                    except OSError as e:
                        failures.append(f"{thumb}: {e}")

        readers = [threading.Thread(target=reader) for _ in range(3)]
        for t in readers:
            t.start()
        try:
            result = tool("tar", "-xf", backup, cwd=restored.mnt)
        finally:
            done.set()
            for t in readers:
                t.join()
        self.assertEqual(failures, [])
        self.assert_restored(restored, result)

    def test_tar_extract_over_a_restored_mount_ends_and_keeps_the_originals(self):
        backup = self.archive(self.full_tree())
        restored = self.fresh_mount()
        result = tool("tar", "-xf", backup, "--exclude", "thumb", cwd=restored.mnt)
        self.assertEqual(result.returncode, 0, result.stderr)
        for thumb in THUMBNAILS:  # a reader makes each, then the archive is extracted over
            self.read(restored.path(thumb))
        result = tool("tar", "-xf", backup, cwd=restored.mnt)
        self.assert_restored(restored, result)

    def test_rsync_of_a_backup_into_a_fresh_mount_ends(self):
        backup = os.path.join(self.tmp, "copy")
        result = tool("rsync", "-a", self.mnt + "/", backup + "/")
        self.assertEqual(result.returncode, 0, result.stderr)
        restored = self.fresh_mount()
        result = tool("rsync", "-a", "--exclude", "thumb", backup + "/", restored.mnt + "/")
        self.assert_restored(restored, result)
        # Without --exclude, and with -I (every file sent, whatever its size
        # and mtime): each thumbnail is written to a scratch file of thumb/
        # and renamed onto its name, which keeps the mount's own.
        result = tool("rsync", "-a", "-I", backup + "/", restored.mnt + "/")
        self.assert_restored(restored, result)
        log = restored.read_log()
        for thumb in THUMBNAILS:
            self.assertIn(f"restore of /{thumb}: its bytes dropped", log)

    def test_cp_a_of_a_tree_with_thumbnails_ends(self):
        backup = os.path.join(self.tmp, "copy")
        result = tool("cp", "-a", self.mnt, backup)
        self.assertEqual(result.returncode, 0, result.stderr)
        restored = self.fresh_mount()
        # cp creates a name it believes new (a thumbnail copied before its
        # original: the lookup finds none) and opens an existing one with
        # O_TRUNC; either is accepted and its bytes dropped. Again with -f
        # over the restored tree, where every thumbnail exists.
        for flags in ("-a", "-af"):
            result = tool("cp", flags, backup + "/.", restored.mnt)
            self.assert_restored(restored, result)

    def test_after_removing_a_thumbnail_the_same_thread_can_create_it(self):
        thumb = self.p("posts/1/photos/0/thumb/300.jpg")
        os.unlink(thumb)
        # Its create reaches the daemon (no loop of EEXIST), is accepted and
        # the bytes written are dropped: the thumbnail read is the mount's.
        self.write_through_fd(thumb, b"not these bytes",
                              os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        self.assertEqual(sha(self.read(thumb)), self.thumbs["posts/1/photos/0/thumb/300.jpg"])
        self.assertNotIn("refused", self.mount.read_log())
