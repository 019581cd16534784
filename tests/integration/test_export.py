"""imageattachfs export STORE DIR (README "Export"): while the store is
mounted, a plain tree of the namespace's originals byte-exact with their
mtimes, index.json/meta.json as the mount shows them; rerun skips what is
there; an export killed mid-way leaves no partial file and a rerun completes."""

import fcntl
import json
import os
import signal
import subprocess

from harness import BINARY, Mount, MountedTestCase, run, OPEN_SCHEMA


def export(store, target, *args):
    """The export, under the schema the tests mount (its srcsets follow it)."""
    if "--schema" not in args:
        args = (*args, "--schema", OPEN_SCHEMA)
    return subprocess.run([BINARY, "export", store, target, *args], capture_output=True,
                          text=True, timeout=300)


def tree(root):
    """{relative path: (bytes, mtime_ns)} of every file under root."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, root)] = (f.read(), os.stat(path).st_mtime_ns)
    return out


class ExportTest(MountedTestCase):

    def fill(self):
        a = self.image("a.jpg", 400, 300)
        b = self.image("b.png", 200, 100)
        run("cp", "-p", a, self.p("posts/42/photos/0/original.jpg"))
        run("cp", b, self.p("posts/42/photos/3/original.png"))
        run("cp", a, self.p("posts/abc/photos/7/original.jpg"))
        run("cp", "-p", b, self.p("users/7/picture/original.png"))
        self.read(self.p("posts/42/photos/3/thumb/100.png"))
        return ["posts/42/photos/0/original.jpg", "posts/42/photos/3/original.png",
                "posts/abc/photos/7/original.jpg", "users/7/picture/original.png"]

    def test_export_while_mounted_is_byte_exact_with_mtimes(self):
        originals = self.fill()
        self.settle()  # lqip.webp made at each commit: in index.json
        target = os.path.join(self.tmp, "export")
        result = export(self.mount.store, target)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")
        got = tree(target)
        metadata = ["posts/42/photos/index.json", "posts/abc/photos/index.json",
                    "users/7/picture/meta.json"]
        self.assertEqual(sorted(got), sorted(originals + metadata))
        for relative in originals:
            self.assertEqual(got[relative][0], self.read(self.p(relative)), relative)
            self.assertEqual(got[relative][1], os.stat(self.p(relative)).st_mtime_ns, relative)
        for relative in metadata:
            self.assertEqual(got[relative][0], self.read(self.p(relative)), relative)
            json.loads(got[relative][0])
        self.assertEqual(json.loads(got["posts/42/photos/index.json"][0])["sets"][1]["thumbnails"]
                         [0]["name"], "100.png")
        summary = result.stdout.strip().splitlines()[-1]
        self.assertIn("4 originals (4 written, 0 already there)", summary)
        self.assertIn("3 metadata files (3 written)", summary)

        # Rerun: nothing written; a changed store: only what changed.
        again = export(self.mount.store, target)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn("4 originals (0 written, 4 already there)", again.stdout)
        self.assertIn("3 metadata files (0 written)", again.stdout)
        self.assertEqual(tree(target), got)
        run("cp", self.image("c.jpg", 64, 48), self.p("posts/42/photos/0/original.jpg"))
        self.settle()
        third = export(self.mount.store, target)
        self.assertEqual(third.returncode, 0, third.stderr)
        self.assertIn("4 originals (1 written, 3 already there)", third.stdout)
        self.assertIn("3 metadata files (1 written)", third.stdout)
        self.assertEqual(self.read(os.path.join(target, "posts/42/photos/0/original.jpg")),
                         self.read(self.p("posts/42/photos/0/original.jpg")))
        self.assertEqual(self.read(os.path.join(target, "posts/42/photos/index.json")),
                         self.read(self.p("posts/42/photos/index.json")))
        # Replaced by another format: the export's set directory holds only the new one.
        run("cp", self.image("d.png", 64, 48), self.p("users/7/picture/original.png"))
        run("cp", self.image("e.webp", 64, 48), self.p("users/7/picture/original.webp"))
        self.settle()  # its lqip.webp is in meta.json
        fourth = export(self.mount.store, target)
        self.assertEqual(fourth.returncode, 0, fourth.stderr)
        self.assertEqual(sorted(os.listdir(os.path.join(target, "users/7/picture"))),
                         ["meta.json", "original.webp"])
        self.assertEqual(self.read(os.path.join(target, "users/7/picture/meta.json")),
                         self.read(self.p("users/7/picture/meta.json")))

    def test_an_export_killed_mid_way_leaves_no_partial_file_and_a_rerun_completes(self):
        photo = self.read(self.image("p.jpg", 32, 24))
        sets = 100
        for i in range(sets):
            self.write_through_fd(self.p(f"posts/{i}/photos/0/original.jpg"), photo,
                                  settle=False)
        self.settle()
        target = os.path.join(self.tmp, "export")
        # Progress lines on a pipe of one page that is not read past the first
        # line: the export blocks there, mid-way, until it is killed.
        read_end, write_end = os.pipe()
        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)
        proc = subprocess.Popen([BINARY, "export", self.mount.store, target],
                                stdout=write_end, stderr=subprocess.DEVNULL)
        os.close(write_end)
        first = b""
        while not first.endswith(b"\n"):  # one byte at a time: the rest stays in the pipe
            byte = os.read(read_end, 1)
            self.assertNotEqual(byte, b"", "the export printed no progress line")
            first += byte
        self.assertTrue(first.startswith(b"export: 1/100 sets"), first)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        os.close(read_end)
        self.assertEqual(proc.returncode, -signal.SIGKILL)
        done = [p for p in tree(target) if p.endswith("original.jpg")]
        self.assertGreater(len(done), 0)
        self.assertLess(len(done), sets)
        for relative in done:
            self.assertEqual(tree(target)[relative][0], photo, "no partial file under a real name")
        result = export(self.mount.store, target)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(f"{sets} originals ({sets - len(done)} written, {len(done)} already there)",
                      result.stdout)
        final = tree(target)
        self.assertEqual(sorted(p for p in final if p.endswith("original.jpg")),
                         sorted(f"posts/{i}/photos/0/original.jpg" for i in range(sets)))
        self.assertFalse([p for p in final if "export-tmp" in p], "temporary files are gone")
        self.assertTrue(all(final[f"posts/{i}/photos/0/original.jpg"][0] == photo
                            for i in range(sets)))
        # Plain progress lines (not a terminal), then the summary.
        lines = result.stdout.splitlines()
        self.assertTrue(lines[0].startswith("export: 1/100 sets (1%)"), lines[0])
        self.assertTrue(lines[-1].startswith("export "), lines[-1])

    def test_sigterm_stops_it_after_the_file_being_written_with_status_130(self):
        photo = self.read(self.image("p.jpg", 32, 24))
        sets = 100
        for i in range(sets):
            self.write_through_fd(self.p(f"posts/{i}/photos/0/original.jpg"), photo,
                                  settle=False)
        self.settle()
        target = os.path.join(self.tmp, "export")
        read_end, write_end = os.pipe()
        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)
        proc = subprocess.Popen([BINARY, "export", self.mount.store, target],
                                stdout=write_end, stderr=subprocess.PIPE)
        os.close(write_end)
        self.assertTrue(os.read(read_end, 1))  # it has begun, and blocks on the full pipe
        os.kill(proc.pid, signal.SIGTERM)
        with os.fdopen(read_end, "rb") as rest:
            output = rest.read()  # drained: it goes on to its summary and exits
        stderr = proc.stderr.read().decode()
        proc.stderr.close()
        self.assertEqual(proc.wait(), 130, stderr)
        self.assertIn("interrupted", stderr)
        self.assertEqual(len(stderr.strip().splitlines()), 1, stderr)
        summary = output.decode().strip().splitlines()[-1]
        self.assertTrue(summary.startswith("export "), summary)
        done = [p for p in tree(target) if p.endswith("original.jpg")]
        self.assertLess(len(done), sets)
        self.assertIn(f"{len(done)} originals ({len(done)} written", summary)
        self.assertFalse([p for p in tree(target) if "export-tmp" in p])
        self.assertEqual(export(self.mount.store, target).returncode, 0)
        self.assertEqual(len([p for p in tree(target) if p.endswith("original.jpg")]), sets)

    def test_an_export_imported_into_a_fresh_store_gives_the_same_namespace(self):
        """export, then import of what it wrote (the README's round trip):
        the fresh store shows the same originals, bytes and mtimes, and the
        same index.json and meta.json but for the thumbnails (made again on
        read); a second import skips everything."""
        originals = self.fill()
        self.settle()  # lqip.webp made at each commit: in index.json
        target = os.path.join(self.tmp, "export")
        self.assertEqual(export(self.mount.store, target).returncode, 0)
        fresh_root = os.path.join(self.tmp, "fresh")
        os.makedirs(fresh_root)
        fresh = Mount(fresh_root)
        for attempt in range(2):
            imported = subprocess.run([BINARY, "import", target, fresh.store], capture_output=True,
                                      text=True, timeout=300)
            self.assertEqual(imported.returncode, 0, imported.stdout + imported.stderr)
            self.assertNotIn("refused", imported.stderr)
        self.addCleanup(fresh.stop)
        fresh.start()

        def without_thumbnails(text):
            value = json.loads(text)
            for entry in value.get("sets", [value]):
                entry.pop("thumbnails")
            return value

        for relative in originals:
            with open(os.path.join(fresh.mnt, relative), "rb") as f:
                self.assertEqual(f.read(), self.read(self.p(relative)), relative)
            self.assertEqual(os.stat(os.path.join(fresh.mnt, relative)).st_mtime_ns,
                             os.stat(self.p(relative)).st_mtime_ns, relative)
        for relative in ["posts/42/photos/index.json", "posts/abc/photos/index.json",
                         "users/7/picture/meta.json"]:
            with open(os.path.join(fresh.mnt, relative), "rb") as f:
                self.assertEqual(without_thumbnails(f.read()),
                                 without_thumbnails(self.read(self.p(relative))), relative)

    def test_bad_arguments_get_one_line(self):
        for args in ([], [self.mount.store], [os.path.join(self.tmp, "nostore"), self.tmp]):
            result = subprocess.run([BINARY, "export", *args], capture_output=True, text=True)
            self.assertNotEqual(result.returncode, 0)
            self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        blocked = os.path.join(self.tmp, "file")
        with open(blocked, "w") as f:
            f.write("x")
        result = export(self.mount.store, blocked)
        self.assertEqual(result.returncode, 1)
        self.assertIn("not a directory", result.stderr)
