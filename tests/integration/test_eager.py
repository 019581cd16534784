"""Thumbnails made at upload (README "Made at upload"): after a commit the
daemon makes the set's lqip.webp and its attachment's `eager` thumbnails in
the background, behind any thumbnail a reader waits for; close() does not
wait for them. Order is shown by the log, never by timing."""

import os
import re
import shutil
import time
import unittest

from harness import BINARY, Mount, MountedTestCase, run, testdata, vips_loader, vips_size

SCHEMA = """\
[posts.photos]
multiple = true
thumbnail_widths = 1-4096
thumbnail_heights = 1-4096
enlarge = no
preset.avatar = 96x96-cover
eager = 320.webp 64.jpg avatar.webp

[users.picture]
thumbnail_widths = 1-4096
thumbnail_heights = 1-4096
enlarge = no
"""

EAGER = {"lqip.webp", "320.webp", "64.jpg", "96x96-cover.webp"}
METRICS = ".imageattachfs/metrics"
MADE = re.compile(r"info: thumbnail (\S+): made (\d+)x(\d+) in")
DEADLINE_S = 90  # a bound for polling (ctest allows 120 s), never asserted on


def task_nice_and_ticks(pid):
    """{tid: (nice, user + system clock ticks)} of each thread of `pid`."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # ended meanwhile
            continue
        # After the name: state is field 3, utime 14, stime 15, nice 19.
        out[int(tid)] = (int(fields[16]), int(fields[11]) + int(fields[12]))
    return out


class EagerTest(MountedTestCase):
    def setUp(self):
        # Two resize threads: background work takes one of them at most, so
        # the order of background jobs in the log is the order they ran in.
        self.tmp_schema = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                       f"iafs-eager-{os.getpid()}-{time.monotonic_ns()}.conf")
        with open(self.tmp_schema, "w") as f:
            f.write(SCHEMA)
        self.addCleanup(os.unlink, self.tmp_schema)
        self.mount_options = ("schema=" + self.tmp_schema, "thumb_threads=2")
        super().setUp()

    # Helpers.

    def metric(self, name, mount=None):
        with open((mount or self.mount).path(METRICS)) as f:
            for line in f:
                if line.startswith(name + " "):
                    return float(line.split()[1])
        raise AssertionError(f"{name} not in the metrics")

    def thumb(self, set_dir):
        return self.p(set_dir + "/thumb")

    def wait_listed(self, set_dir, names, mount=None):
        """Polls `ls thumb/` until it lists `names`; returns the listing."""
        thumb = (mount or self.mount).path(set_dir + "/thumb")
        deadline = time.monotonic() + DEADLINE_S
        while True:
            listed = set(os.listdir(thumb))
            if names <= listed or time.monotonic() > deadline:
                return listed
            time.sleep(0.05)

    def wait_metric(self, name, at_least):
        deadline = time.monotonic() + DEADLINE_S
        while self.metric(name) < at_least and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.metric(name)

    def made_lines(self):
        """(index in the log, path, width, height) of each "made" line."""
        out = []
        for i, line in enumerate(self.mount.read_log().splitlines()):
            m = MADE.search(line)
            if m:
                out.append((i, m.group(1), int(m.group(2)), int(m.group(3))))
        return out

    def log_index(self, needle):
        for i, line in enumerate(self.mount.read_log().splitlines()):
            if needle in line:
                return i
        raise AssertionError(f"{needle!r} not logged: {self.mount.read_log()}")

    def upload(self, relative, source):
        """open/write/close of `source`'s bytes (close returns the commit's answer)."""
        with open(source, "rb") as f:
            self.write_through_fd(self.p(relative), f.read(), settle=False)

    def assertNoWarnings(self):
        bad = [line for line in self.mount.read_log().splitlines()
               if ": warning: " in line or ": error: " in line]
        self.assertEqual(bad, [])

    # Tests.

    def test_cp_makes_the_eager_thumbnails_and_lqip_without_a_read(self):
        photo = self.image("photo.jpg", 800, 600)
        portrait = self.image("portrait.png", 300, 600)
        # A lookup before the upload: ENOENT, and no negative entry survives it.
        self.assertFalse(os.path.exists(self.p("posts/1/photos/0/thumb/lqip.webp")))
        self.assertFalse(os.path.exists(self.p("users/7/picture/thumb/lqip.webp")))
        self.put("posts/1/photos/0/original.jpg", photo)
        self.put("users/7/picture/original.png", portrait)
        listed = self.wait_listed("posts/1/photos/0", EAGER)
        self.assertEqual(listed, EAGER, "ls thumb/ lists them, and nothing else")
        # lqip.webp for every attachment, whatever its eager list.
        self.assertEqual(self.wait_listed("users/7/picture", {"lqip.webp"}), {"lqip.webp"})
        self.assertEqual(self.metric("imageattachfs_eager_thumbnails_made_total"), 5)
        self.assertEqual(self.metric("imageattachfs_thumbnails_made_total"), 5)
        # Reads (by every name, aliases too) give the stored bytes: nothing is made again.
        thumb = self.thumb("posts/1/photos/0")
        stored = {name: self.read(os.path.join(thumb, name)) for name in EAGER}
        self.assertEqual(self.read(os.path.join(thumb, "avatar.webp")), stored["96x96-cover.webp"])
        self.assertEqual(self.metric("imageattachfs_thumbnails_made_total"), 5)
        # The same bytes a reader gets where nothing is made at upload.
        plain = Mount(os.path.join(self.tmp, "plain"))
        self.addCleanup(plain.stop)
        plain.start()
        shutil.copyfile(photo, plain.path("posts/1/photos/0/original.jpg"))
        plain_thumb = plain.path("posts/1/photos/0/thumb")
        for name in ("lqip.webp", "320.webp", "64.jpg", "96x96-cover.webp"):
            self.assertEqual(self.read(os.path.join(plain_thumb, name)), stored[name], name)
        # lqip.webp: a WebP 32 px on its longer side.
        for set_dir, size in (("posts/1/photos/0", (32, 24)), ("users/7/picture", (16, 32))):
            lqip = os.path.join(self.tmp, set_dir.replace("/", "-") + "-lqip.webp")
            shutil.copyfile(self.p(set_dir + "/thumb/lqip.webp"), lqip)
            self.assertEqual(vips_loader(lqip), "webpload")
            self.assertEqual(vips_size(lqip), size)
        for name in EAGER:  # each sized as asked
            path = os.path.join(self.tmp, "check-" + name)
            shutil.copyfile(os.path.join(thumb, name), path)
            self.assertEqual(vips_size(path), {"lqip.webp": (32, 24), "320.webp": (320, 240),
                                               "64.jpg": (64, 48),
                                               "96x96-cover.webp": (96, 96)}[name])
        self.assertNoWarnings()

    def test_close_returns_before_the_eager_thumbnails_are_made(self):
        big = testdata("safe-landing-5120x2880.jpg")
        self.upload("posts/1/photos/0/original.jpg", big)
        # Right after close returned: the commit is logged, the eager list is not all made.
        made_at_close = self.metric("imageattachfs_eager_thumbnails_made_total")
        committed = self.log_index("upload /posts/1/photos/0/original.jpg: committed")
        self.assertLess(made_at_close, len(EAGER))
        self.assertEqual(self.wait_listed("posts/1/photos/0", EAGER), EAGER)
        # A thumbnail is listed once stored; its "made" line follows just after.
        deadline = time.monotonic() + 10
        while True:
            made = [m for m in self.made_lines() if m[1].startswith("/posts/1/photos/0/thumb/")]
            if len(made) >= len(EAGER) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(sorted(os.path.basename(m[1]) for m in made), sorted(EAGER))
        self.assertTrue(all(i > committed for i, *_ in made), "each made after the commit")
        self.assertEqual(os.path.basename(made[0][1]), "lqip.webp", "lqip.webp first")
        self.assertEqual(self.metric("imageattachfs_eager_thumbnails_made_total"), len(EAGER))

    def test_a_reader_is_served_before_a_backlog_of_eager_work(self):
        # PNG: each of the five jobs of a set decodes it whole, as the upload's
        # check did once, and on one thread: a backlog grows as they are uploaded.
        photo = self.image("photo.png", 2400, 1600)
        sets = 10
        for i in range(sets):
            self.upload(f"posts/1/photos/{i}/original.png", photo)
        # Read a thumbnail nobody made: its lookup waits for it, with a backlog.
        made_before = self.metric("imageattachfs_eager_thumbnails_made_total")
        remaining = sets * len(EAGER) - made_before
        self.assertGreater(remaining, 2, "a backlog of eager work when the reader asks")
        reader = self.p(f"posts/1/photos/{sets - 1}/thumb/100.png")
        self.assertGreater(len(self.read(reader)), 0)
        reader_line = self.log_index(f"thumbnail /posts/1/photos/{sets - 1}/thumb/100.png: made")
        for i in range(sets):
            self.assertEqual(self.wait_listed(f"posts/1/photos/{i}", EAGER), EAGER | (
                {"100.png"} if i == sets - 1 else set()))
        eager = [i for i, path, *_ in self.made_lines() if not path.endswith("/100.png")]
        self.assertEqual(len(eager), sets * len(EAGER))
        after = sum(1 for i in eager if i > reader_line)
        # Without priority the reader's job would run after all of them.
        self.assertGreater(after, remaining // 2,
                           f"{after} of the {remaining} eager thumbnails waiting when the reader "
                           "asked were made after the reader's")
        self.assertNoWarnings()

    def test_a_set_replaced_or_removed_right_after_upload_keeps_no_old_thumbnails(self):
        wide = self.image("wide.jpg", 1200, 600)
        tall = self.image("tall.jpg", 500, 1000)
        self.upload("posts/1/photos/0/original.jpg", wide)
        self.upload("posts/1/photos/0/original.jpg", tall)  # replaced at once
        self.upload("posts/1/photos/1/original.jpg", wide)
        os.unlink(self.p("posts/1/photos/1/original.jpg"))  # removed
        self.upload("posts/1/photos/2/original.jpg", wide)
        small = self.image("small.png", 50, 40)  # too small for 320.webp and 64.jpg: none
        self.upload("posts/1/photos/3/original.png", small)
        self.upload("posts/1/photos/4/original.jpg", wide)
        # Background jobs run one at a time, in order; one of the first
        # original's running at the replacement runs again after them all.
        self.assertEqual(self.wait_listed("posts/1/photos/4", EAGER), EAGER)
        self.assertEqual(self.wait_listed("posts/1/photos/2", EAGER), EAGER)
        self.assertEqual(self.wait_listed("posts/1/photos/0", EAGER), EAGER)
        sizes = {"lqip.webp": (16, 32), "320.webp": (320, 640), "64.jpg": (64, 128),
                 "96x96-cover.webp": (96, 96)}
        for name, size in sizes.items():
            path = os.path.join(self.tmp, "tall-" + name)
            shutil.copyfile(self.p("posts/1/photos/0/thumb/" + name), path)
            self.assertEqual(vips_size(path), size, name + " is the new original's")
        small_listed = set(os.listdir(self.p("posts/1/photos/3/thumb")))
        self.assertIn("lqip.webp", small_listed)
        self.assertFalse({"320.webp", "64.jpg"} & small_listed, "larger than the original")
        self.assertNotIn("1", os.listdir(self.p("posts/1/photos")))
        # (A job of the first original, or of set 1, may have started before
        # the replacement or the removal: what it made is never stored, which
        # the sizes above and the count below check.)
        # Thumbnails stored: sets 0, 2, 4 (four each), set 3's that fit.
        stored = self.metric("imageattachfs_thumbnails_stored")
        self.assertEqual(stored, 12 + len(small_listed))
        self.assertEqual(self.metric("imageattachfs_thumbnail_failures_total"), 0)
        self.assertNoWarnings()

    def test_sigkill_during_eager_work_leaves_a_clean_store(self):
        photo = self.image("photo.png", 2400, 1600)
        for i in range(6):
            self.upload(f"posts/1/photos/{i}/original.png", photo)
        self.assertLess(self.metric("imageattachfs_eager_thumbnails_made_total"), 6 * len(EAGER))
        self.mount.kill9()
        fsck = run(BINARY, "fsck", self.mount.store, check=False)
        self.assertEqual(fsck.returncode, 0, fsck.stdout + fsck.stderr)
        self.mount.start()
        for i in range(6):
            thumb = self.p(f"posts/1/photos/{i}/thumb")
            for name in EAGER:  # made now if the kill came first
                self.assertGreater(len(self.read(os.path.join(thumb, name))), 0)
        self.mount.stop()
        fsck = run(BINARY, "fsck", self.mount.store, check=False)
        self.assertEqual(fsck.returncode, 0, fsck.stdout + fsck.stderr)

    def test_resizes_run_ten_nice_levels_below_the_daemon_libvips_workers_too(self):
        # libvips computes on a glib pool's threads, which copy the scheduling
        # of the thread that started libvips, not of the resize thread asking.
        photo = self.image("photo.png", 2400, 1600)  # PNG: no shrink-on-load
        self.upload("users/1/picture/original.png", photo)
        self.assertIn("lqip.webp", self.wait_listed("users/1/picture", {"lqip.webp"}))
        pid = self.mount.proc.pid
        base = task_nice_and_ticks(pid)[pid][0]
        before = task_nice_and_ticks(pid)
        for width in (1900, 1700, 1500, 1300, 1100, 900):
            self.read(self.p(f"users/1/picture/thumb/{width}.webp"))
        after = task_nice_and_ticks(pid)
        spent = {tid: ticks - before.get(tid, (0, 0))[1] for tid, (_, ticks) in after.items()}
        total = sum(spent.values())
        low = sum(t for tid, t in spent.items() if after[tid][0] >= base + 10)
        self.assertGreater(total, 10, "six resizes took under 0.1 s of CPU?")
        self.assertGreaterEqual(low / total, 0.8,
                                f"{low} of {total} ticks at nice {base + 10} or more: " +
                                str({tid: (after[tid][0], t) for tid, t in spent.items() if t}))

    def test_a_read_only_mount_makes_none(self):
        photo = self.image("photo.jpg", 800, 600)
        self.put("posts/1/photos/0/original.jpg", photo)
        self.assertEqual(self.wait_listed("posts/1/photos/0", EAGER), EAGER)
        os.unlink(self.p("posts/1/photos/0/thumb/lqip.webp"))
        self.mount.stop()
        self.mount.options = list(self.mount_options) + ["ro"]
        self.mount.start()
        self.assertErrno(30, self.write_through_fd, self.p("posts/1/photos/1/original.jpg"),
                         open(photo, "rb").read())  # EROFS
        self.assertEqual(set(os.listdir(self.thumb("posts/1/photos/0"))), EAGER - {"lqip.webp"})
        self.assertFalse(os.path.exists(self.p("posts/1/photos/0/thumb/lqip.webp")))
        self.assertEqual(self.metric("imageattachfs_eager_thumbnails_made_total"), 0)
        self.assertEqual(self.metric("imageattachfs_thumbnails_made_total"), 0)


if __name__ == "__main__":
    unittest.main()
