"""imageattachfs fsck: a clean store, bytes flipped inside data.mdb on disk,
read-only beside the daemon, --repair refused while mounted."""

import hashlib
import os
import subprocess

from harness import BINARY, MountedTestCase


def fsck(store, *args):
    return subprocess.run([BINARY, "fsck", store, *args], capture_output=True, text=True,
                          timeout=60)


def flip_stored_bytes(data_mdb, blob):
    """Flips 64 bytes of `blob` wherever they occur in data.mdb (the store
    unmounted); returns how many copies were found."""
    pattern = blob[len(blob) // 2:len(blob) // 2 + 64]
    with open(data_mdb, "r+b") as f:
        data = bytearray(f.read())
        found = 0
        at = data.find(pattern)
        while at >= 0:
            data[at:at + 64] = bytes(b ^ 0xFF for b in pattern)
            found += 1
            at = data.find(pattern, at + 64)
        f.seek(0)
        f.write(data)
    return found


class FsckTest(MountedTestCase):
    ORIGINAL = "posts/1/photos/0/original.jpg"
    THUMB = "posts/1/photos/0/thumb/300.jpg"

    def setUp(self):
        super().setUp()
        self.source = self.image("a.jpg", 640, 480)
        self.put(self.ORIGINAL, self.source)
        self.original = self.read(self.source)
        self.thumbnail = self.read(self.p(self.THUMB))
        self.store = self.mount.store

    def test_clean_store_exits_0_while_mounted_and_stopped(self):
        mounted = fsck(self.store)
        self.assertEqual(mounted.returncode, 0, mounted.stdout + mounted.stderr)
        self.assertIn("1 sets, 2 thumbnails, 3 blobs", mounted.stdout)  # lqip.webp too
        self.assertEqual(len(mounted.stdout.splitlines()), 1, mounted.stdout)
        self.assertEqual(self.read(self.p(self.ORIGINAL)), self.original)  # the daemon serves on
        self.mount.stop()
        stopped = fsck(self.store)
        self.assertEqual(stopped.returncode, 0, stopped.stdout + stopped.stderr)
        repaired = fsck(self.store, "--repair")
        self.assertEqual(repaired.returncode, 0, repaired.stdout + repaired.stderr)

    def test_repair_while_mounted_is_refused_with_one_line(self):
        result = fsck(self.store, "--repair")
        self.assertEqual(result.returncode, 2)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        self.assertIn("mounted", result.stderr)
        self.assertEqual(self.read(self.p(self.ORIGINAL)), self.original)

    def test_flipped_bytes_of_an_original_name_its_blob_and_set_and_exit_2(self):
        self.mount.stop()
        self.assertGreaterEqual(flip_stored_bytes(os.path.join(self.store, "data.mdb"),
                                                  self.original), 1)
        result = fsck(self.store)
        print(result.stdout, end="")
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        blob = hashlib.sha256(self.original).hexdigest()
        findings = [line for line in result.stdout.splitlines() if blob in line]
        self.assertEqual(len(findings), 1, result.stdout)
        self.assertIn("set " + self.ORIGINAL, findings[0])
        self.assertIn("SHA-256", findings[0])
        repaired = fsck(self.store, "--repair")
        self.assertEqual(repaired.returncode, 2, repaired.stdout)
        self.assertIn("left", repaired.stdout)
        self.mount.start()
        self.assertEqual(os.listdir(self.p("posts/1/photos")), ["0"])  # the set is kept

    def test_flipped_bytes_of_a_thumbnail_are_repaired_and_it_is_remade(self):
        self.mount.stop()
        self.assertGreaterEqual(flip_stored_bytes(os.path.join(self.store, "data.mdb"),
                                                  self.thumbnail), 1)
        result = fsck(self.store)
        self.assertEqual(result.returncode, 2, result.stdout)
        self.assertIn("thumbnail " + self.THUMB, result.stdout)
        self.assertIn(hashlib.sha256(self.thumbnail).hexdigest(), result.stdout)
        repaired = fsck(self.store, "--repair")
        print(repaired.stdout, end="")
        self.assertEqual(repaired.returncode, 1, repaired.stdout)
        self.assertEqual(fsck(self.store).returncode, 0)
        self.mount.start()
        self.assertEqual(self.read(self.p(self.ORIGINAL)), self.original)
        self.assertEqual(self.read(self.p(self.THUMB)), self.thumbnail)
