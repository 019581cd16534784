"""Snapshots, log truncation and rebuilding a host (SCALEOUT.md §8), against
the fixture's RGW: a maintenance host (-o s3_maintain) writes snap/<seq>/
every few entries and deletes the log below the second-newest snapshot and
every live host's cursor (hosts/<uuid>, s3_heartbeat=1 here).

- A fresh host loads the newest snapshot, the tail follows, and it lists
  what A lists, xattrs and bytes included; its own writes then chain on.
- A host that unmounted (its heartbeat deleted) and came back after the log
  was truncated past its cursor rebuilds from a snapshot at its remount.
- A SIGKILLed host's heartbeat still holds truncation back at its cursor,
  and it resumes from the log, with no rebuild.
- fsck --remote checks the snapshot, the log's chain and every original the
  state names, and finds a missing original and a hole in the log.
"""

import json
import os
import re


from s3_hosts import S3HostsCase, read_bytes, sha256, write_file
from tiny_images import png

MAINTAIN = ("s3_maintain", "s3_snapshot_entries=3", "s3_heartbeat=1")
BEAT = ("s3_heartbeat=1",)
LOADED = re.compile(r"state loaded from snap/(\d{20})/")
TRUNCATED = re.compile(r"s3: truncated the log below log/(\d{20})")


class S3RebuildTest(S3HostsCase):

    def snapshot_seqs(self):
        keys, _, _ = self.s3.list_all(prefix="snap/")
        return sorted(int(k.split("/")[1]) for k in keys if k.endswith("/index"))

    def log_seqs(self):
        keys, _, _ = self.s3.list_all(prefix="log/")
        return [int(k[len("log/"):]) for k in keys]

    def heartbeats(self):
        keys, _, _ = self.s3.list_all(prefix="hosts/")
        beats = {}
        for key in keys:
            status, _, body = self.s3.get_object(key)
            if status == 200:
                beats[key] = json.loads(body)
        return beats

    def same_tree(self, mount, reference, files):
        """Waits until `mount` shows `reference` (a tree()) whole: every
        listing, and every file with its bytes, time and xattrs (the kernel
        forgets a listing another host's change altered on its own time,
        after the change is applied); returns it."""
        wanted = {k: v[2] for k, v in reference.items() if not k.endswith("/")}
        self.assertEqual(len(wanted), files, "the reference tree")

        def check():
            tree = self.tree(mount)
            return tree if tree == reference else None
        tree, _ = self.wait_for(f"{mount.name} shows the reference tree", check, 15,
                                mounts=[mount])
        return tree

    def assertChainsOn(self, writer, reader, relative, seed):
        """A write on `writer` is read back through `reader`: the writer's
        entries follow the log it rebuilt."""
        data = png(13, 11, seed=seed)
        write_file(writer.path(relative), data)
        self.assertEqual(read_bytes(reader.path(relative)), data, relative + self.logs())

    def snapshot_at_head(self, maintainer):
        """Waits until the newest snapshot is as near the log's head as the
        maintainer promises (fewer than 3 entries behind: it snapshots once
        the log is 3 past the last one, and looks once a second, so a batch
        written within a second gets one snapshot)."""
        head = self.log_seqs()[-1]

        def check():
            snaps = self.snapshot_seqs()
            return snaps and snaps[-1] > head - 3 and snaps
        snaps, _ = self.wait_for("a snapshot at the head", check, 15, mounts=[maintainer])
        return snaps

    def assertTailContiguous(self):
        seqs = self.log_seqs()
        self.assertEqual(seqs, list(range(seqs[0], seqs[-1] + 1)), "the log kept has no hole")
        return seqs

    def test_a_fresh_host_loads_the_newest_snapshot_after_truncation(self):
        a, b = self.host("a", extra=MAINTAIN), self.host("b", extra=BEAT)
        img = {i: png(8 + i, 7 + i, seed=900 + i) for i in range(1, 13)}
        for i in range(1, 11):
            write_file((a if i % 2 else b).path(f"posts/{i}/photos/0/original.png"), img[i])
        self.snapshot_at_head(a)
        write_file(b.path("posts/1/photos/0/original.png"), img[11])
        os.unlink(a.path("posts/2/photos/0/original.png"))
        os.rename(a.path("posts/3/photos/0"), a.path("posts/3/photos/2"))
        touched = 1_600_000_000_123_456_789
        os.utime(b.path("posts/4/photos/0/original.png"), ns=(touched, touched))
        os.setxattr(a.path("posts/5/photos/0/original.png"), "user.image.focus", b"0.25,0.75")

        def truncated():
            below = TRUNCATED.findall(a.read_log())
            snaps, seqs = self.snapshot_seqs(), self.log_seqs()
            # Every entry below the point is deleted, none above.
            done = below and len(snaps) >= 2 and seqs[0] == int(below[-1])
            return done and (int(below[-1]), snaps)
        (point, snaps), _ = self.wait_for("two snapshots and a truncated log", truncated, 30,
                                          mounts=[a])
        self.assertLessEqual(point, snaps[-2], "kept from the second-newest snapshot on")
        self.assertGreater(point, 1)
        tree_a = self.same_tree(a, self.tree(a), 9)
        self.assertEqual(self.tree(b), tree_a)
        head = self.assertTailContiguous()[-1]

        c = self.host("c", start=False)
        self.assertFalse(os.path.exists(c.store), "C starts with an empty store directory")
        c.start()
        loaded = LOADED.search(c.read_log())
        self.assertIsNotNone(loaded, "C loaded a snapshot" + self.logs(c))
        self.assertEqual(int(loaded.group(1)), self.snapshot_seqs()[-1], "the newest one")
        self.assertEqual(self.same_tree(c, tree_a, 9), tree_a, "C's tree vs A's")
        xattrs = tree_a["posts/5/photos/0/original.png"][3]
        self.assertEqual(xattrs.get("user.image.focus"), b"0.25,0.75")
        self.assertEqual(tree_a["posts/4/photos/0/original.png"][1], touched)
        self.assertEqual(tree_a["posts/1/photos/0/original.png"][2], sha256(img[11]))
        self.assertChainsOn(c, a, "posts/20/photos/0/original.png", 990)
        self.assertChainsOn(a, c, "posts/21/photos/0/original.png", 991)
        self.assertGreater(self.assertTailContiguous()[-1], head)

        def two_left():
            return len(self.snapshot_seqs()) == 2
        self.wait_for("older snapshots deleted", two_left, 15, mounts=[a])

    def test_a_host_away_during_a_truncation_rebuilds_at_its_remount(self):
        a, b = self.host("a", extra=MAINTAIN), self.host("b", extra=BEAT)
        for i in range(1, 4):
            write_file(b.path(f"users/{i}/picture/original.png"), png(9, 9, seed=700 + i))
        self.wait_for("A sees B's uploads",
                      lambda: os.path.exists(a.path("users/3/picture/original.png")), 5)
        b.stop()
        self.assertEqual(len(self.heartbeats()), 1, "B's heartbeat is deleted at its unmount")
        away_at = self.log_seqs()[-1]
        for i in range(1, 11):
            write_file(a.path(f"posts/{i}/photos/0/original.png"), png(10, 8, seed=720 + i))
            if i in (5, 10):
                self.snapshot_at_head(a)

        def past_b():
            seqs = self.log_seqs()
            return seqs[0] > away_at + 1 and seqs
        self.wait_for("the log truncated past B's cursor", past_b, 30, mounts=[a])
        tree_a = self.tree(a)
        b.start()
        log = b.read_log()
        self.assertIsNotNone(LOADED.search(log), "B rebuilt" + self.logs(b))
        self.assertIn("were deleted (the log was truncated while this host was away)", log)
        self.assertEqual(self.same_tree(b, tree_a, 13), tree_a, "B's tree vs A's")
        self.assertChainsOn(b, a, "users/9/picture/original.png", 799)

    def test_a_killed_hosts_heartbeat_holds_truncation_at_its_cursor(self):
        a, b = self.host("a", extra=MAINTAIN), self.host("b", extra=BEAT)
        for i in range(1, 4):
            write_file(b.path(f"users/{i}/picture/original.png"), png(9, 9, seed=800 + i))
        head = self.log_seqs()[-1]

        def beats_at_head():
            beats = self.heartbeats()
            return len(beats) == 2 and all(v["cursor"] == head for v in beats.values()) and beats
        self.wait_for("both heartbeats at the head", beats_at_head, 10)
        b.kill9()
        for i in range(1, 13):
            write_file(a.path(f"posts/{i}/photos/0/original.png"), png(10, 8, seed=820 + i))
            if i in (4, 8, 12):
                self.snapshot_at_head(a)

        def held():
            snaps, seqs = self.snapshot_seqs(), self.log_seqs()
            return len(snaps) >= 2 and snaps[-2] > head and seqs[0] == head and seqs
        self.wait_for("truncation up to B's cursor, not past it", held, 30, mounts=[a])
        tree_a = self.tree(a)
        b.start()
        self.assertIsNone(LOADED.search(b.read_log()), "B resumes from the log")
        self.assertEqual(self.same_tree(b, tree_a, 15), tree_a, "B's tree vs A's")
        self.assertEqual(self.log_seqs()[0], head, "still held at B's heartbeat")
        self.assertChainsOn(b, a, "users/9/picture/original.png", 899)

    def test_fsck_remote_checks_the_snapshot_the_chain_and_every_original(self):
        a = self.host("a", extra=MAINTAIN)
        for i in range(1, 8):
            write_file(a.path(f"posts/{i}/photos/0/original.png"), png(9, 8, seed=950 + i))
            if i in (3, 7):
                self.snapshot_at_head(a)
        status, out = self.fsck_remote()
        self.assertEqual(status, 0, out)
        self.assertIn("clean", out)
        self.assertRegex(out, r"applied from snap/\d+ \(\d+ records\); 7 originals named")
        a.stop()
        # An original deleted behind the store's back: a dangling reference.
        victim = "b/" + sha256(png(9, 8, seed=952))
        self.assertEqual(self.s3.delete_object(victim)[0], 204)
        status, out = self.fsck_remote()
        self.assertEqual(status, 2, out)
        self.assertIn(f"{victim} is missing: a dangling reference", out)
        # A hole in the log above the snapshot.
        seqs = self.log_seqs()
        hole = seqs[-2]
        self.assertEqual(self.s3.delete_object(f"log/{hole:020d}")[0], 204)
        status, out = self.fsck_remote()
        self.assertEqual(status, 2, out)
        self.assertIn(f"entries log/{hole:020d} to log/{hole:020d} are missing", out)
