"""-o thumb_budget=SIZE, imageattachfs gc --budget and imageattachfs stat
(README "Thumbnail budget"): thumbnails over the budget are evicted least
recently used first, in the background, and made again on read; originals
never; a file open on an evicted thumbnail reads it whole."""

import json
import os
import re
import random
import subprocess
import threading
import time

from harness import BINARY, Mount, MountedTestCase

METRICS = ".imageattachfs/metrics"
SET = "posts/1/photos/{}"
BUDGET = 60000
# Eviction is asynchronous: waits for a state, never asserts a time.
PATIENCE = 120


def admin(*args):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=120)


class BudgetTest(MountedTestCase):
    def setUp(self):
        super().setUp()
        self.sources = []
        for index in range(3):
            # Three different originals: their thumbnails differ.
            source = self.image(f"s{index}.jpg", 640 + 16 * index, 480)
            self.put(SET.format(index) + "/original.jpg", source)
            self.drop_lqip(SET.format(index))
            self.sources.append(self.read(source))
        self.made = {}  # thumbnail path -> its bytes, as first read

    def drop_lqip(self, set_dir):
        """Removes the lqip.webp made at the commit: these tests count and
        order the thumbnails they make themselves."""
        os.remove(self.p(set_dir + "/thumb/lqip.webp"))

    def with_budget(self, budget=BUDGET):
        self.mount.stop()
        self.mount.options = [f"thumb_budget={budget}"]
        self.mount.start()

    def metric(self, name):
        with open(self.p(METRICS)) as f:
            for line in f:
                if line.startswith(name + " "):
                    return int(float(line.split()[1]))
        raise AssertionError(f"no {name} in the metrics")

    def thumb(self, index, width):
        return f"{SET.format(index)}/thumb/{width}.jpg"

    def make(self, index, width):
        """Reads a thumbnail (making it); returns its size."""
        relative = self.thumb(index, width)
        data = self.read(self.p(relative))
        self.assertGreater(len(data), 0)
        if relative in self.made:
            self.assertEqual(data, self.made[relative], relative + " made again differs")
        self.made[relative] = data
        return len(data)

    def stored(self, index):
        return set(os.listdir(self.p(SET.format(index) + "/thumb")))

    def wait_within_budget(self, budget=BUDGET):
        deadline = time.monotonic() + PATIENCE
        while self.metric("imageattachfs_thumbnail_bytes") > budget:
            if time.monotonic() > deadline:
                self.fail("thumbnails stayed over the budget: " +
                          str(self.metric("imageattachfs_thumbnail_bytes")))
            time.sleep(0.1)
        return self.metric("imageattachfs_thumbnail_bytes")

    def stat_json(self):
        result = admin("stat", self.mount.store, "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)

    def assert_originals_intact(self):
        for index, data in enumerate(self.sources):
            self.assertEqual(self.read(self.p(SET.format(index) + "/original.jpg")), data)

    # --- thumb_budget while mounted -------------------------------------

    def test_thumbnails_stay_within_the_budget_and_originals_intact(self):
        self.with_budget()
        total = 0
        for width in range(40, 640, 8):
            for index in range(3):
                total += self.make(index, width)
        self.assertGreater(total, 10 * BUDGET, "the test made far more than the budget")
        self.wait_within_budget()
        # A pass may still be evicting (it goes down to 7/8 of the budget):
        # the numbers are compared once two looks in a row agree.
        deadline = time.monotonic() + PATIENCE
        while True:
            bytes_now = self.metric("imageattachfs_thumbnail_bytes")
            stats = self.stat_json()
            listed = sum(len(self.stored(i)) for i in range(3))
            if (stats["total"]["thumbnail_bytes"] == bytes_now and
                    stats["total"]["thumbnails"] == listed and
                    self.metric("imageattachfs_thumbnail_bytes") == bytes_now):
                break
            self.assertLess(time.monotonic(), deadline, "the thumbnails kept changing")
            time.sleep(0.2)
        self.assertLessEqual(bytes_now, BUDGET)
        self.assertGreater(self.metric("imageattachfs_thumbnails_evicted_total"), 0)
        self.assertEqual(self.metric("imageattachfs_thumbnail_budget_bytes"), BUDGET)
        self.assertEqual(stats["total"]["sets"], 3, "originals never")
        self.assertEqual(stats["total"]["original_bytes"], sum(map(len, self.sources)))
        self.assertLess(listed, len(self.made))
        self.assert_originals_intact()
        self.assertFsckClean()

    def assertFsckClean(self):
        """fsck of the store finds nothing. An evicted thumbnail's blob is
        freed when the kernel forgets its node, and the kernel sends FORGET
        when it gets round to it: fsck is clean once it has."""
        deadline = time.monotonic() + PATIENCE
        while (checked := admin("fsck", self.mount.store)).returncode != 0:
            self.assertLess(time.monotonic(), deadline, checked.stdout + checked.stderr)
            time.sleep(0.2)

    def test_an_evicted_thumbnail_is_made_again_with_identical_bytes(self):
        self.with_budget()
        self.make(0, 100)
        first_inode = os.stat(self.p(self.thumb(0, 100))).st_ino
        made_before = self.metric("imageattachfs_thumbnails_made_total")
        width = 200
        while "100.jpg" in self.stored(0):  # the oldest goes first
            self.make(1, width)
            width += 4
            self.assertLess(width, 640, "100.jpg was never evicted")
            if self.metric("imageattachfs_thumbnail_bytes") > BUDGET:
                self.wait_within_budget()
        # The kernel was told: the name is looked up again, and made again.
        again = self.read(self.p(self.thumb(0, 100)))
        self.assertEqual(again, self.made[self.thumb(0, 100)])
        self.assertNotEqual(os.stat(self.p(self.thumb(0, 100))).st_ino, first_inode)
        self.assertIn("100.jpg", self.stored(0))
        self.assertGreater(self.metric("imageattachfs_thumbnails_made_total"), made_before)

    def test_recently_used_thumbnails_survive_unused_ones(self):
        self.with_budget()
        # Hot ones first, so that only their use (not their making) keeps them.
        hot = [(0, w) for w in range(100, 110)]
        hot_bytes = sum(self.make(i, w) for i, w in hot)
        cold, cold_bytes, width = [], 0, 100
        while hot_bytes + cold_bytes < BUDGET * 7 // 10:
            cold_bytes += self.make(1, width)
            cold.append((1, width))
            width += 2
        self.assertEqual(self.metric("imageattachfs_thumbnails_evicted_total"), 0)
        for i, w in hot:  # used again: open and read
            self.make(i, w)
        # New ones until more than the budget was made: a pass evicts about
        # an eighth of the budget, far less than the cold ones hold.
        made, width = hot_bytes + cold_bytes, 100
        while made <= BUDGET:
            made += self.make(2, width)
            width += 2
        self.assertLess(made - BUDGET * 7 // 8, cold_bytes // 2, "the test's margin")
        self.wait_within_budget()
        self.assertGreater(self.metric("imageattachfs_thumbnails_evicted_total"), 0)
        stored = self.stored(0)
        self.assertEqual({f"{w}.jpg" for _, w in hot} - stored, set(), "hot ones evicted")
        self.assertLess(len(self.stored(1)), len(cold), "no cold one was evicted")
        self.assertIn(f"{width - 2}.jpg", self.stored(2), "the newest was evicted")

    def test_a_reader_holding_a_thumbnail_open_during_eviction_reads_it_whole(self):
        self.with_budget()
        relative = self.thumb(0, 300)
        self.make(0, 300)
        expected = self.made[relative]
        fd = os.open(self.p(relative), os.O_RDONLY)
        try:
            self.assertEqual(os.pread(fd, 100, 0), expected[:100])
            width = 100
            while "300.jpg" in self.stored(0):
                self.make(1, width)
                width += 4
                self.assertLess(width, 640, "300.jpg was never evicted")
                if self.metric("imageattachfs_thumbnail_bytes") > BUDGET:
                    self.wait_within_budget()
            # Its pages dropped: the rest is read from the daemon, which
            # serves the version the open file pins.
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            self.assertEqual(os.pread(fd, len(expected) + 100, 0), expected)
            self.assertEqual(os.fstat(fd).st_size, len(expected))
        finally:
            os.close(fd)
        self.assertEqual(self.read(self.p(relative)), expected)

    def test_readers_racing_eviction_always_read_whole_identical_thumbnails(self):
        budget = 20000  # a few thumbnails: most reads find theirs evicted or remade
        self.with_budget(budget)
        names = [self.thumb(i, w) for i in range(3) for w in range(200, 400, 20)]
        reference = {name: self.read(self.p(name)) for name in names}
        failures = []

        def reader(seed):
            rng = random.Random(seed)
            for _ in range(40):
                name = rng.choice(names)
                try:
                    data = self.read(self.p(name))
                except OSError as e:
                    failures.append(f"{name}: {e}")
                    continue
                if data != reference[name]:
                    failures.append(f"{name}: {len(data)} bytes, not the {len(reference[name])} made")

        # Rounds of readers, each round once the last one's thumbnails were
        # evicted (a thumbnail read within the last second is never evicted,
        # so evictions run between and into the rounds, not under busy reads).
        for round_ in range(3):
            threads = [threading.Thread(target=reader, args=(10 * round_ + seed,))
                       for seed in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            evicted = self.metric("imageattachfs_thumbnails_evicted_total")
            deadline = time.monotonic() + 60
            while (self.metric("imageattachfs_thumbnails_evicted_total") <= evicted and
                   time.monotonic() < deadline):
                time.sleep(0.05)
        self.assertEqual(failures, [])
        self.assertGreater(self.metric("imageattachfs_thumbnails_evicted_total"), 10)
        self.wait_within_budget(budget)
        self.assert_originals_intact()

    def test_the_serve_mount_forgets_an_evicted_thumbnail_too(self):
        self.mount.stop()
        self.mount = Mount(self.tmp, store=self.mount.store, options=[f"thumb_budget={BUDGET}"],
                           serve=True)
        self.addCleanup(self.mount.stop)
        self.mount.start()
        served = os.path.join(self.mount.serve, self.thumb(0, 100))
        with open(served, "rb") as f:
            first = f.read()
        first_inode = os.stat(served).st_ino
        width = 200
        while "100.jpg" in self.stored(0):
            self.make(1, width)
            width += 4
            self.assertLess(width, 640, "100.jpg was never evicted")
            if self.metric("imageattachfs_thumbnail_bytes") > BUDGET:
                self.wait_within_budget()
        with open(served, "rb") as f:
            self.assertEqual(f.read(), first)
        # The kernels are told after the eviction's commit, which listdir
        # above already sees: the serve mount's entry goes a moment later.
        deadline = time.monotonic() + PATIENCE
        while os.stat(served).st_ino == first_inode:
            self.assertLess(time.monotonic(), deadline, "the serve mount kept its entry")
            time.sleep(0.05)
        with open(served, "rb") as f:
            self.assertEqual(f.read(), first)
        self.assertIn("100.jpg", self.stored(0))

    def test_a_read_only_mount_refuses_a_budget(self):
        self.mount.stop()
        result = admin("-o", "ro,thumb_budget=1M", self.mount.store, self.mount.mnt, "-f")
        self.assertEqual(result.returncode, 1)
        self.assertIn("thumb_budget", result.stderr)
        for bad in ("0", "x", "12Q", ""):
            result = admin("-o", f"thumb_budget={bad}", self.mount.store, self.mount.mnt, "-f")
            self.assertEqual(result.returncode, 1, bad)
            self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
            self.assertIn("thumb_budget", result.stderr)

    # --- gc --budget, offline -------------------------------------------

    def test_gc_evicts_the_least_recently_used_offline(self):
        order = [(i, w) for w in range(60, 260, 20) for i in range(3)]
        sizes = [self.make(i, w) for i, w in order]
        self.mount.stop()
        budget = sum(sizes) // 2
        # The first made are the least recently used: they go, until the rest fits.
        kept_from = next(k for k in range(len(sizes)) if sum(sizes[k:]) <= budget)
        result = admin("gc", self.mount.store, "--budget", str(budget))
        self.assertEqual(result.returncode, 0, result.stderr)
        freed = sum(sizes[:kept_from])
        self.assertEqual(result.stdout.strip(),
                         f"gc {self.mount.store}: evicted {kept_from} thumbnails ({freed} bytes);"
                         f" thumbnails now {len(sizes) - kept_from} ({sum(sizes) - freed} bytes),"
                         f" budget {budget}")
        stats = self.stat_json()
        self.assertEqual(stats["total"]["thumbnail_bytes"], sum(sizes) - freed)
        self.assertEqual(stats["total"]["sets"], 3)
        again = admin("gc", self.mount.store, "--budget", str(budget))
        self.assertIn("evicted 0 thumbnails (0 bytes)", again.stdout)
        self.assertFsckClean()
        self.mount.start()
        kept = {f"{i}:{w}.jpg" for i, w in order[kept_from:]}
        listed = {f"{i}:{name}" for i in range(3) for name in self.stored(i)}
        self.assertEqual(listed, kept)
        self.assert_originals_intact()
        for i, w in order[:kept_from]:
            self.make(i, w)  # made again, identical

    def test_gc_of_a_mounted_store_is_refused_with_one_line(self):
        self.make(0, 100)
        result = admin("gc", self.mount.store, "--budget", "0")
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stdout, "")
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        self.assertIn("mounted", result.stderr)
        self.assertIn("100.jpg", self.stored(0))
        for args in ([], ["--budget"], ["--budget", "lots"], ["--bogus", "1"]):
            bad = admin("gc", self.mount.store, *args)
            self.assertEqual(bad.returncode, 2, args)
            self.assertEqual(len(bad.stderr.strip().splitlines()), 1, bad.stderr)

    # --- stat -----------------------------------------------------------

    def expected_stats(self):
        users = self.image("u.png", 300, 200)
        self.put("users/7/picture/original.png", users)
        self.drop_lqip("users/7/picture")
        posts_thumbs = [self.make(0, 100), self.make(0, 120), self.make(1, 64)]
        self.made.clear()
        user_thumb = len(self.read(self.p("users/7/picture/thumb/32.png")))
        sizes = list(map(len, self.sources))
        posts = {"sets": 3, "original_bytes": sum(sizes), "thumbnails": 3,
                 "thumbnail_bytes": sum(posts_thumbs)}
        users = {"sets": 1, "original_bytes": os.path.getsize(users), "thumbnails": 1,
                 "thumbnail_bytes": user_thumb}
        total = {k: posts[k] + users[k] for k in posts}
        return {"posts": posts, "users": users}, total

    def check_stat(self, types, total):
        stats = self.stat_json()
        self.assertEqual(stats["store"], self.mount.store)
        self.assertEqual(stats["types"], types)
        self.assertEqual(stats["total"], total)
        self.assertEqual(stats["file_bytes"],
                         os.path.getsize(os.path.join(self.mount.store, "data.mdb")))
        text = admin("stat", self.mount.store)
        self.assertEqual(text.returncode, 0, text.stderr)
        rows = {line.split()[0]: line.split()[1:] for line in text.stdout.splitlines()[2:]}
        for name, counts in list(types.items()) + [("total", total)]:
            self.assertEqual(rows[name], [str(counts[k]) for k in
                                          ("sets", "original_bytes", "thumbnails",
                                           "thumbnail_bytes")])
        self.assertRegex(text.stdout.splitlines()[0],
                         re.escape(f"store {self.mount.store}: data.mdb ") + r"\d+ bytes")

    def test_stat_of_a_mounted_and_an_unmounted_store(self):
        types, total = self.expected_stats()
        self.check_stat(types, total)  # mounted: read-only beside the daemon
        self.assertEqual(self.read(self.p(SET.format(0) + "/original.jpg")), self.sources[0])
        self.mount.stop()
        self.check_stat(types, total)

    def test_stat_of_a_directory_that_is_not_a_store_exits_2(self):
        empty = os.path.join(self.tmp, "empty")
        os.mkdir(empty)
        for target in (empty, os.path.join(self.tmp, "missing"), self.mnt):
            result = admin("stat", target)
            self.assertEqual(result.returncode, 2, target)
            self.assertEqual(result.stdout, "")
            self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
            self.assertIn("not a store", result.stderr)
        self.assertFalse(os.path.exists(os.path.join(empty, "data.mdb")), "stat created nothing")
        self.assertEqual(os.listdir(empty), [])
        self.assertEqual(admin("stat").returncode, 2)
