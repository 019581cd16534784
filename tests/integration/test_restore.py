"""Backing up a mount and restoring it into a fresh one with real tools: tar
(thumbnails after their originals, and before them), rsync and cp. Each
restore ends, every original comes back byte-exact, each thumbnail entry is
refused with an error the tool prints and one log line, and the daemon goes
on serving (thumbnails are made again from the restored originals)."""

import errno
import hashlib
import os
import re
import threading

from harness import Mount, MountedTestCase, run

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

    def fresh_mount(self):
        """A second, empty store mounted beside the first; always unmounted."""
        root = os.path.join(self.tmp, f"restore-{len(os.listdir(self.tmp))}")
        os.makedirs(root)
        mount = Mount(root)
        self.addCleanup(mount.stop)
        return mount.start()

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

    def assert_restored(self, mount, refused_stderr, errors):
        """Originals byte-exact; each thumbnail refused once, by the tool
        (`errors` of refused_stderr name it) and in the log; the daemon
        serves, and makes the thumbnails again with the same bytes."""
        for relative, digest in self.hashes.items():
            self.assertEqual(sha(self.read(mount.path(relative))), digest, relative)
        self.assertEqual(sorted(name for name, _ in errors), sorted(THUMBNAILS), refused_stderr)
        for _, message in errors:
            self.assertEqual(message, "Operation not permitted", refused_stderr)
        self.assertIsNone(mount.proc.poll(), "the daemon is running")
        log = mount.read_log()
        for thumb in THUMBNAILS:
            self.assertEqual(refusals(log, thumb), ["create"], f"{thumb}: {log}")
        self.assertEqual(log.count("refused"), len(THUMBNAILS), log)
        for thumb, digest in self.thumbs.items():
            self.assertEqual(sha(self.read(mount.path(thumb))), digest, thumb)

    def tar_errors(self, stderr):
        return re.findall(r"^tar: (.+): Cannot open: (.+)$", stderr, re.M)

    def test_tar_extract_of_the_mount_into_a_fresh_mount_ends(self):
        backup = self.archive(self.full_tree())
        listed = run("tar", "-tf", backup).stdout.split()
        self.assertTrue(set(THUMBNAILS) <= set(listed), listed)
        restored = self.fresh_mount()
        result = tool("tar", "-xf", backup, cwd=restored.mnt)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assert_restored(restored, result.stderr, self.tar_errors(result.stderr))

    def test_tar_extract_with_thumbnails_before_and_after_their_originals_ends(self):
        tree = self.full_tree()
        first = [t for t in THUMBNAILS if t.startswith("posts/1/")]  # before their originals
        rest = [name for name in tree if name not in first]
        self.assertLess(rest.index("posts/2/photos/0/original.jpg"),
                        rest.index("posts/2/photos/0/thumb/120.jpg"))
        backup = self.archive(first + rest)
        restored = self.fresh_mount()
        result = tool("tar", "-xf", backup, cwd=restored.mnt)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assert_restored(restored, result.stderr, self.tar_errors(result.stderr))

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
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assert_restored(restored, result.stderr, self.tar_errors(result.stderr))

    def test_tar_extract_over_a_restored_mount_ends_and_keeps_the_originals(self):
        backup = self.archive(self.full_tree())
        restored = self.fresh_mount()
        result = tool("tar", "-xf", backup, "--exclude", "thumb", cwd=restored.mnt)
        self.assertEqual(result.returncode, 0, result.stderr)
        for thumb in THUMBNAILS:  # a reader makes each, then the archive is extracted over
            self.read(restored.path(thumb))
        result = tool("tar", "-xf", backup, cwd=restored.mnt)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assert_restored(restored, result.stderr, self.tar_errors(result.stderr))

    def test_rsync_of_a_backup_into_a_fresh_mount_ends(self):
        backup = os.path.join(self.tmp, "copy")
        result = tool("rsync", "-a", self.mnt + "/", backup + "/")
        self.assertEqual(result.returncode, 0, result.stderr)
        restored = self.fresh_mount()
        result = tool("rsync", "-a", "--exclude", "thumb", backup + "/", restored.mnt + "/")
        self.assertEqual(result.returncode, 0, result.stderr)
        for relative, digest in self.hashes.items():
            self.assertEqual(sha(self.read(restored.path(relative))), digest, relative)
        self.assertNotIn("refused", restored.read_log())
        # Without --exclude (and with -I: thumbnails made within the same
        # second as the backup's would look unchanged), each is refused.
        result = tool("rsync", "-a", "-I", backup + "/", restored.mnt + "/")
        self.assertEqual(result.returncode, 23, result.stderr)
        errors = re.findall(r'mkstemp "(.+)/\.([^/]+)\.\w+" failed: (.+) \(\d+\)$',
                            result.stderr, re.M)
        refused = [os.path.relpath(os.path.join(d, n), restored.mnt) for d, n, _ in errors]
        self.assertEqual(sorted(refused), sorted(THUMBNAILS), result.stderr)
        self.assertEqual({m for _, _, m in errors}, {"Operation not permitted"}, result.stderr)
        for thumb, digest in self.thumbs.items():
            self.assertEqual(sha(self.read(restored.path(thumb))), digest, thumb)

    def cp_errors(self, stderr, target):
        found = re.findall(r"^cp: cannot create regular file '(.+)': (.+)$", stderr, re.M)
        return [(os.path.relpath(path, target), message) for path, message in found]

    def test_cp_a_of_a_tree_with_thumbnails_ends(self):
        backup = os.path.join(self.tmp, "copy")
        result = tool("cp", "-a", self.mnt, backup)
        self.assertEqual(result.returncode, 0, result.stderr)
        restored = self.fresh_mount()
        # cp creates a name it believes new (a thumbnail copied before its
        # original: the lookup finds none) and opens an existing one with
        # O_TRUNC; either is refused once. Again with -f over the restored
        # tree, where every thumbnail exists: cp unlinks the one it cannot
        # open and creates it, which is refused too (not EEXIST, not a loop).
        for flags, allowed in (("-a", [["create"], ["open"]]), ("-af", [["open", "create"]])):
            before = restored.read_log()
            result = tool("cp", flags, backup + "/.", restored.mnt)
            self.assertEqual(result.returncode, 1, result.stderr)
            errors = self.cp_errors(result.stderr, restored.mnt)
            for relative, digest in self.hashes.items():
                self.assertEqual(sha(self.read(restored.path(relative))), digest, relative)
            self.assertEqual(sorted(name for name, _ in errors), sorted(THUMBNAILS), result.stderr)
            self.assertEqual({m for _, m in errors}, {"Operation not permitted"}, result.stderr)
            log = restored.read_log()[len(before):]
            for thumb in THUMBNAILS:
                self.assertIn(refusals(log, thumb), allowed, f"{flags} {thumb}: {log}")
            self.assertEqual(log.count("refused"),
                             sum(len(refusals(log, t)) for t in THUMBNAILS), log)
            self.assertIsNone(restored.proc.poll())
        for thumb, digest in self.thumbs.items():
            self.assertEqual(sha(self.read(restored.path(thumb))), digest, thumb)

    def test_after_removing_a_thumbnail_the_same_thread_can_try_to_create_it(self):
        thumb = self.p("posts/1/photos/0/thumb/300.jpg")
        os.unlink(thumb)
        self.assertErrno(errno.EPERM, os.open, thumb, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        self.assertEqual(sha(self.read(thumb)), self.thumbs["posts/1/photos/0/thumb/300.jpg"])
        self.assertEqual(self.mount.read_log().count("refused"), 1)
