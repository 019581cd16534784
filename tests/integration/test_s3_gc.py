"""Garbage collection across hosts (SCALEOUT.md §9), against the fixture's
RGW: a maintenance host (-o s3_maintain) with a grace of 1-2 s lists b/ and
t/ every second; what no set names is condemned, swept after the grace,
deleted, then swept — each a log entry every host applies alike.

- A removed original's b/ object and its t/ thumbnails are deleted from the
  bucket; another original stays, and fsck --remote stays clean.
- While GC runs, B uploads and removes the same bytes again and again: every
  close() returns 0 (an attach GC refused is put again and resubmitted), no
  reference dangles (fsck --remote), and a fresh host reads every set.
"""

import os
import random
import time

from s3_hosts import S3HostsCase, read_bytes, sha256, write_file
from tiny_images import png

GC = ("s3_maintain", "s3_gc_grace=2", "s3_gc_interval=1", "s3_heartbeat=1")


class S3GcTest(S3HostsCase):

    def exists(self, key):
        return self.s3.head_object(key)[0] == 200

    def thumbnails_of(self, sha):
        keys, _, _ = self.s3.list_all(prefix=f"t/{sha}/")
        return keys

    def gc_ops(self):
        """The GC steps in the log: [(op, [shas])]."""
        _, entries = self.log_entries()
        return [(op["op"], op["shas"]) for entry in entries for op in entry["ops"]
                if op["op"] in ("condemn", "sweep", "swept")]

    def test_a_removed_originals_objects_leave_the_bucket_after_the_grace(self):
        a, b = self.host("a", extra=GC), self.host("b")
        gone, kept = png(12, 10, seed=1201), png(12, 10, seed=1202)
        write_file(a.path("posts/1/photos/0/original.png"), gone)
        write_file(a.path("posts/2/photos/0/original.png"), kept)
        # A thumbnail made through B: t/<sha>/... in the bucket.
        self.assertGreater(len(read_bytes(b.path("posts/1/photos/0/thumb/8.png"))), 0)
        self.wait_for("the thumbnail shared", lambda: self.thumbnails_of(sha256(gone)), 10)
        os.unlink(b.path("posts/1/photos/0/original.png"))

        def collected():
            return (not self.exists("b/" + sha256(gone)) and
                    not self.thumbnails_of(sha256(gone)))
        _, seconds = self.wait_for("the removed original's objects deleted", collected, 40,
                                   interval=0.2, mounts=[a])
        steps = self.gc_ops()
        for name in ("condemn", "sweep", "swept"):
            self.assertTrue(any(op == name and sha256(gone) in shas for op, shas in steps),
                            f"no {name} of it in the log: {steps}")
        self.assertTrue(self.exists("b/" + sha256(kept)), "a named original stays")
        self.assertFalse(any(sha256(kept) in shas for _, shas in steps), steps)
        status, out = self.fsck_remote()
        self.assertEqual(status, 0, out)
        c = self.host("c")
        self.assertEqual(read_bytes(c.path("posts/2/photos/0/original.png")), kept)
        self.assertFalse(os.path.exists(c.path("posts/1/photos/0/original.png")))
        print(f"\n(collected {seconds:.1f} s after the rm, grace 2 s; {len(steps)} GC steps)")

    def test_re_uploads_racing_gc_leave_no_dangling_reference(self):
        a = self.host("a", extra=("s3_maintain", "s3_gc_grace=1", "s3_gc_interval=1"))
        b = self.host("b")
        data, other = png(11, 9, seed=1301), png(11, 9, seed=1302)
        write_file(a.path("posts/9/photos/0/original.png"), other)
        seed = int(os.environ.get("IAFS_GC_SEED", random.randrange(1 << 30)))
        rng = random.Random(seed)
        path = b.path("posts/1/photos/0/original.png")
        sha = sha256(data)

        def count(name):
            return sum(1 for op, shas in self.gc_ops() if op == name and sha in shas)
        # Each round removes the bytes, waits until GC reaches one of its
        # steps for them, then uploads the same bytes again at once or a
        # little later: while condemned (a revival), while sweeping or just
        # swept (refused, put again), or after.
        phases = ["condemn", "sweep", "swept"] + [rng.choice(["condemn", "sweep", "swept"])
                                                  for _ in range(3)]
        for phase in phases:
            write_file(path, data)  # raises on a failed close()
            os.unlink(path)
            before = count(phase)
            self.wait_for(f"a {phase} of the removed bytes", lambda: count(phase) > before, 20,
                          interval=0.05, mounts=[a])
            time.sleep(rng.choice([0, 0, rng.uniform(0, 0.6)]))
        write_file(path, data)
        self.assertEqual(read_bytes(path), data)
        swept = count("swept")
        # Let GC go on past its grace: what is named must stay.
        time.sleep(3)
        status, out = self.fsck_remote()
        self.assertEqual(status, 0, f"seed {seed}: {out}" + self.logs())
        self.assertTrue(self.exists("b/" + sha), f"seed {seed}")
        c = self.host("c")
        self.assertEqual(read_bytes(c.path("posts/1/photos/0/original.png")), data)
        self.assertEqual(read_bytes(c.path("posts/9/photos/0/original.png")), other)
        refused = sum(line.count("put it in the bucket again") for line in
                      b.read_log().splitlines())
        print(f"\n(seed {seed}: phases {phases}; swept {swept} times, {refused} attaches "
              f"refused and put again)")
        self.assertGreater(swept, 0, f"seed {seed}")
