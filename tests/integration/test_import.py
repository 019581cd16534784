"""imageattachfs import DIR STORE and import-imageattach --map MAP.csv SRC STORE:
a plain tree (and the anchor's FileSystemStore layout) loaded into an unmounted
store, each original validated as an upload is, mtimes kept; refusals counted
and named; reruns skip; a kill -9 midway loses nothing committed; a mounted
store is refused."""

import csv
import hashlib
import os
import pty
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import unittest

from harness import BINARY, Mount, make_image, sanitized_or


def sha(data):
    return hashlib.sha256(data).hexdigest()


def jpeg_variant(base, n):
    """`base` (a JPEG) with a comment segment naming `n` after its SOI: other
    bytes, the same valid image."""
    text = b"variant %d" % n
    return base[:2] + b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text + base[2:]


def write(path, data, mtime_ns=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


class ImportTest(unittest.TestCase):
    def setUp(self):
        if not BINARY:
            raise unittest.SkipTest("IAFS_BINARY not set (run through ctest)")
        self.tmp = tempfile.mkdtemp(prefix="iafs-import-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.store = os.path.join(self.tmp, "store")
        self.tree = os.path.join(self.tmp, "tree")
        os.makedirs(self.tree)
        self.jpeg = self.read(make_image(os.path.join(self.tmp, "base.jpg"), 64, 48))
        self.png = self.read(make_image(os.path.join(self.tmp, "base.png"), 40, 30))
        self.webp = self.read(make_image(os.path.join(self.tmp, "base.webp"), 32, 32))
        self.mounts = []

    def tearDown(self):
        for m in self.mounts:
            m.stop()

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def run_import(self, *args, command="import", tree=None):
        return subprocess.run([BINARY, command, *args] if command != "import" else
                              [BINARY, "import", tree or self.tree, self.store, *args],
                              capture_output=True, text=True, timeout=110)

    def mount(self, options=()):
        m = Mount(self.tmp, store=self.store, options=options)
        self.mounts.append(m)
        return m.start()

    def summary(self, result):
        lines = [l for l in result.stdout.splitlines() if " imported (" in l]
        self.assertEqual(len(lines), 1, result.stdout + result.stderr)
        return lines[0]

    def assert_stored(self, mount, expected):
        """Each relative path of `expected` holds exactly those bytes with that mtime."""
        for rel, (data, mtime_ns) in expected.items():
            path = mount.path(rel)
            self.assertEqual(self.read(path), data, rel)
            if mtime_ns is not None:
                self.assertEqual(os.stat(path).st_mtime_ns, mtime_ns, rel)

    def test_a_tree_imports_byte_exact_with_mtimes_and_skips_metadata_and_thumbnails(self):
        t = 1_500_000_000_123_456_789
        expected = {
            "posts/1/photos/0/original.jpg": (jpeg_variant(self.jpeg, 1), t),
            "posts/1/photos/7/original.png": (self.png, t + 1),
            "posts/abc-2/photos/0/original.webp": (self.webp, t + 2),
            "users/7/picture/original.jpeg": (jpeg_variant(self.jpeg, 2), 86_400_000_000_000),
            # identical bytes twice: stored once, listed at both places
            "users/8/picture/original.jpeg": (jpeg_variant(self.jpeg, 2), t + 4),
        }
        for rel, (data, mtime_ns) in expected.items():
            write(os.path.join(self.tree, rel), data, mtime_ns)
        write(os.path.join(self.tree, "posts/1/photos/index.json"), b"{}")
        write(os.path.join(self.tree, "posts/1/photos/0/meta.json"), b"{}")
        write(os.path.join(self.tree, "posts/1/photos/0/thumb/16.jpg"), self.jpeg)
        write(os.path.join(self.tree, "posts/1/photos/0/.original.jpg.Xy12ab"), b"partial")
        result = self.run_import()
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        line = self.summary(result)
        self.assertIn("5 imported (0 replaced), 0 skipped, 0 refused, 4 ignored", line)
        self.assertNotIn("refused ", result.stdout.replace("0 refused", ""))
        self.assertNotIn("\r", result.stdout)  # no bar when stdout is no terminal
        m = self.mount()
        self.assert_stored(m, expected)
        self.assertEqual(sorted(os.listdir(m.path("posts/1/photos"))), ["0", "7"])
        self.assertEqual(os.listdir(m.path("posts/1/photos/0/thumb")), [])  # none imported
        self.assertEqual(sorted(os.listdir(m.path("posts"))), ["1", "abc-2"])

    def test_refusals_are_counted_and_named_and_nothing_of_them_is_stored(self):
        schema = os.path.join(self.tmp, "schema.conf")
        with open(schema, "w") as f:
            f.write("[posts.photos]\nmultiple = true\nmax_bytes = 4K\nmax_pixels = 50M\n"
                    "[users.picture]\nmax_pixels = 2000\n")
        good = jpeg_variant(self.jpeg, 1)
        self.assertLess(len(good), 4000)
        write(os.path.join(self.tree, "posts/1/photos/0/original.jpg"), good, 10**18)
        refused = {
            "posts/1/photos/1/original.jpg": b"hello, I am text\n" * 10,   # not a JPEG
            "posts/1/photos/2/original.jpg": self.png,                    # a PNG named .jpg
            "posts/1/photos/3/original.jpg": good + b"\0" * 5000,         # over max_bytes
            "users/1/picture/original.jpg": good,                         # 64x48 > 2000 px
            "nope/1/photos/0/original.jpg": good,                         # unknown type
            "posts/1/photos/007/original.jpg": good,                      # not an index
            "posts/2/photos/0/original.jpg": good,                        # two originals
            "posts/2/photos/0/original.png": self.png,
        }
        for rel, data in refused.items():
            write(os.path.join(self.tree, rel), data)
        fifo = "posts/1/photos/4/original.jpg"  # would block a plain open()
        os.makedirs(os.path.dirname(os.path.join(self.tree, fifo)))
        os.mkfifo(os.path.join(self.tree, fifo))
        refused[fifo] = None
        result = self.run_import("--schema", schema)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("1 imported (0 replaced), 0 skipped, 9 refused", self.summary(result))
        lines = [l for l in result.stdout.splitlines() if l.startswith("refused ")]
        self.assertEqual(len(lines), 9, result.stdout)
        for rel in refused:
            self.assertEqual(len([l for l in lines if l.startswith("refused " + rel + ": ")]), 1,
                             rel + "\n" + result.stdout)
        self.assertIn("import: refused: invalid_image 2, not_in_schema 2, too_large 2, "
                      "two_originals 2, unreadable 1", result.stdout)
        m = self.mount(options=["schema=" + schema])
        self.assertEqual(os.listdir(m.path("posts")), ["1"])
        self.assertEqual(os.listdir(m.path("posts/1/photos")), ["0"])
        self.assertEqual(os.listdir(m.path("users")), [])
        self.assertEqual(self.read(m.path("posts/1/photos/0/original.jpg")), good)
        m.stop()
        again = self.run_import("--schema", schema)  # the refusals stay refusals
        self.assertEqual(again.returncode, 1, again.stdout)
        self.assertIn("0 imported (0 replaced), 1 skipped, 9 refused", self.summary(again))

    def test_a_rerun_skips_all_and_replaces_what_changed_in_the_tree(self):
        files = {f"posts/{i}/photos/0/original.jpg": jpeg_variant(self.jpeg, i) for i in range(20)}
        for rel, data in files.items():
            write(os.path.join(self.tree, rel), data, 10**18 + 1)
        first = self.run_import()
        self.assertEqual(first.returncode, 0, first.stdout + first.stderr)
        self.assertIn("20 imported", self.summary(first))
        again = self.run_import()
        self.assertEqual(again.returncode, 0, again.stdout + again.stderr)
        self.assertIn("0 imported (0 replaced), 20 skipped, 0 refused", self.summary(again))
        # the tree is the truth: new bytes replace, a new mtime is set
        changed = jpeg_variant(self.jpeg, 100)
        write(os.path.join(self.tree, "posts/3/photos/0/original.jpg"), changed, 10**18 + 2)
        os.utime(os.path.join(self.tree, "posts/4/photos/0/original.jpg"), ns=(5, 10**18 + 3))
        third = self.run_import()
        self.assertEqual(third.returncode, 0, third.stdout + third.stderr)
        self.assertIn("1 imported (1 replaced), 19 skipped", self.summary(third))
        m = self.mount()
        self.assertEqual(self.read(m.path("posts/3/photos/0/original.jpg")), changed)
        self.assertEqual(os.stat(m.path("posts/4/photos/0/original.jpg")).st_mtime_ns,
                         10**18 + 3)
        self.assertEqual(os.stat(m.path("posts/5/photos/0/original.jpg")).st_mtime_ns,
                         10**18 + 1)

    def test_a_kill_9_midway_leaves_no_partial_original_and_a_rerun_completes(self):
        count = sanitized_or(1500, 600)  # 94 or 38 MB: killed past 20 MB
        padding = b"\xff\xfe\xff\xff" + b"p" * 65533  # a 64 KiB comment: a bigger store
        files = {}
        for i in range(count):
            base = jpeg_variant(self.jpeg, i)
            files[f"posts/{i}/photos/0/original.jpg"] = base[:2] + padding + base[2:]
        for rel, data in files.items():
            write(os.path.join(self.tree, rel), data, 10**18 + 7)
        proc = subprocess.Popen([BINARY, "import", self.tree, self.store, "--threads", "1"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        data_mdb = os.path.join(self.store, "data.mdb")
        while proc.poll() is None:
            if os.path.exists(data_mdb) and os.path.getsize(data_mdb) > 20 << 20:
                break
            time.sleep(0.005)
        if proc.poll() is not None:
            self.skipTest("the import ended before it could be killed")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        m = self.mount()
        listed = os.listdir(m.path("posts"))
        self.assertGreater(len(listed), 0)
        self.assertLess(len(listed), count)
        for i in listed:  # every committed original is whole
            rel = f"posts/{i}/photos/0/original.jpg"
            self.assertEqual(self.read(m.path(rel)), files[rel], rel)
        m.stop()
        rerun = self.run_import()
        self.assertEqual(rerun.returncode, 0, rerun.stdout + rerun.stderr)
        self.assertIn(f"{count - len(listed)} imported (0 replaced), {len(listed)} skipped",
                      self.summary(rerun))
        m = self.mount()
        self.assertEqual(len(os.listdir(m.path("posts"))), count)
        self.assert_stored(m, {rel: (data, 10**18 + 7) for rel, data in files.items()})

    def test_a_terminal_gets_a_progress_bar_that_the_refusals_and_summary_clear(self):
        for i in range(30):
            write(os.path.join(self.tree, f"posts/{i}/photos/0/original.jpg"),
                  jpeg_variant(self.jpeg, i))
        write(os.path.join(self.tree, "posts/99/photos/0/original.jpg"), b"text, no image")
        master, slave = pty.openpty()
        proc = subprocess.Popen([BINARY, "import", self.tree, self.store], stdout=slave,
                                stderr=subprocess.DEVNULL)
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        os.close(master)
        self.assertEqual(proc.wait(timeout=60), 1, out)
        text = out.decode().replace("\r\n", "\n")  # the terminal's line ends
        # Every bar is drawn after a wipe, and wiped before any line is printed.
        bars = [s for s in text.split("\r\x1b[K") if s.startswith("[")]
        self.assertGreater(len(bars), 0, text)
        for bar in bars:
            self.assertRegex(bar, r"^\[[#.]{30}\] +\d+% \d+/31 files, \d+ files/s, \d refused$")
        # Lines start a line, or follow the wipe of a bar.
        for line in (r"refused posts/99/photos/0/original\.jpg: ",
                     r"import: 30 imported \(0 replaced\), 0 skipped, 1 refused"):
            self.assertRegex(text, r"(^|\n|\r\x1b\[K)" + line)
        self.assertTrue(text.endswith("import: refused: invalid_image 1\n"), text)

    def test_a_mounted_store_is_refused_with_one_line(self):
        write(os.path.join(self.tree, "posts/1/photos/0/original.jpg"), self.jpeg)
        m = self.mount()
        result = self.run_import()
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        self.assertIn("mounted", result.stderr)
        self.assertEqual(os.listdir(m.path("posts")), [])
        map_csv = write(os.path.join(self.tmp, "map.csv"),
                        b"object_type,object_id,width,height,mimetype,type,id,attachment,index\n")
        imageattach = self.run_import("--map", map_csv, self.tree, self.store,
                                      command="import-imageattach")
        self.assertEqual(imageattach.returncode, 2, imageattach.stderr)
        self.assertIn("mounted", imageattach.stderr)

    def anchor_tree(self, src):
        """A FileSystemStore as SQLAlchemy-ImageAttach lays it out: originals and
        thumbnails side by side; returns (MAP.csv rows, what the store must hold)."""
        t = 1_400_000_000_000_000_000
        big_id = 2**100 + 12345  # an object_id override (e.g. a hash) of any size
        entries = [
            # object_type, object_id, w, h, mimetype, file suffix, bytes, place
            ("user-picture", 7, 64, 48, "image/jpeg", ".jpe", jpeg_variant(self.jpeg, 7),
             ("users", "7", "picture", "")),
            ("post-photo", 1234567, 40, 30, "image/png", ".png", self.png,
             ("posts", "5", "photos", "0")),
            ("post-photo", big_id, 32, 32, "image/webp", "None", self.webp,
             ("posts", "5", "photos", "1")),
            ("post-photo", -5, 64, 48, "image/jpeg", ".jpe", jpeg_variant(self.jpeg, 8),
             ("posts", "neg", "photos", "3")),
        ]
        rows, expected = [], {}
        for n, (otype, oid, w, h, mime, suffix, data, place) in enumerate(entries):
            d = os.path.join(src, otype, str(oid % 1000), str(oid // 1000))
            write(os.path.join(d, f"{oid}.{w}x{h}{suffix}"), data, t + n)
            # a thumbnail of it, as the anchor stores them: never imported
            write(os.path.join(d, f"{oid}.{w // 2}x{h // 2}{suffix}"), self.jpeg, t)
            rows.append([otype, str(oid), str(w), str(h), mime, *place])
            ext = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}[mime]
            set_dir = "/".join(p for p in place if p)
            expected[f"{set_dir}/original.{ext}"] = (data, t + n)
        return rows, expected

    def test_the_anchor_layout_imports_originals_to_their_places_and_no_thumbnail(self):
        src = os.path.join(self.tmp, "anchor")
        rows, expected = self.anchor_tree(src)
        rows.append(["post-photo", "99", "10", "10", "image/png", "posts", "9", "photos", "0"])
        rows.append(["post-photo", "98", "10", "10", "image/tiff", "posts", "9", "photos", "1"])
        rows.append(["post-photo", "1234567", "40", "30", "image/png", "posts", "5", "photos",
                     "0"])
        # one column per component: no smuggled path
        rows.append(["post-photo", "1234567", "40", "30", "image/png", "posts", "5",
                     "photos/2", ""])
        map_csv = os.path.join(self.tmp, "map.csv")
        with open(map_csv, "w", newline="") as f:
            w = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
            w.writerow(["object_type", "object_id", "width", "height", "mimetype",
                        "type", "id", "attachment", "index"])
            w.writerows(rows)
            f.write("\r\n")  # a blank line at the end is no row
        result = self.run_import("--map", map_csv, src, self.store, command="import-imageattach")
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("4 imported (0 replaced), 0 skipped, 4 refused", self.summary(result))
        refusals = [l for l in result.stdout.splitlines() if l.startswith("refused ")]
        self.assertEqual(len(refusals), 4, result.stdout)
        self.assertTrue(refusals[0].startswith("refused line 6: "), refusals)
        self.assertIn("post-photo/99/0/99.10x10.png (missing)", refusals[0])
        self.assertIn("image/tiff", refusals[1])
        self.assertTrue(refusals[2].startswith("refused line 8: posts/5/photos/0 is named at "
                                               "line 3 (duplicate_place)"), refusals)
        self.assertEqual(refusals[3], "refused line 9: attachment holds a '/' (bad_row)")
        m = self.mount()
        self.assert_stored(m, expected)
        self.assertEqual(sorted(os.listdir(m.path("posts/5/photos"))), ["0", "1"])
        self.assertEqual(os.listdir(m.path("posts/5/photos/0/thumb")), [])
        self.assertEqual(sorted(os.listdir(m.path("posts"))), ["5", "neg"])
        m.stop()
        again = self.run_import("--map", map_csv, src, self.store, command="import-imageattach")
        self.assertIn("0 imported (0 replaced), 4 skipped, 4 refused", self.summary(again))

    def test_a_bad_map_is_refused_before_the_store_is_touched(self):
        src = os.path.join(self.tmp, "anchor")
        os.makedirs(src)
        for text, why in [("object_type,object_id\n", "no column"),
                          ("object_type,object_id,width,height,mimetype,type,id,attachment,"
                           "index,extra\n", "unknown column"),
                          ("object_type,object_id,width,height,mimetype,type,id,attachment,"
                           "index\n\"post,1\n", "not closed")]:
            map_csv = write(os.path.join(self.tmp, "bad.csv"), text.encode())
            result = self.run_import("--map", map_csv, src, self.store,
                                     command="import-imageattach")
            self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
            self.assertIn(why, result.stderr)
            self.assertFalse(os.path.exists(self.store))
