"""Concurrency stress: 8 threads for IAFS_STRESS_SECONDS (default 20; 8 under
the sanitizers) on four
image sets that always hold an original: writers replace originals by `cp`
(the O_TRUNC path) and by staging + rename, readers read originals and
thumbnails whole. Every read must be one whole version ever committed to that
path (sha256 among the versions written there), and a name that always
exists must never answer ENOENT. Each invariant is its own test method; both
print every count."""

import errno
import hashlib
import os
import random
import threading
import time

from harness import MountedTestCase, make_image, run, sanitized_or

SECONDS = float(os.environ.get("IAFS_STRESS_SECONDS", sanitized_or("20", "8")))
SETS = 4


class Counts:
    def __init__(self):
        self.lock = threading.Lock()
        self.n = {f"{kind} {what}": 0 for what in ("reads", "torn", "enoent", "errors")
                  for kind in ("original", "thumbnail")}
        self.n.update({"cp writes": 0, "rename writes": 0, "failed writes": 0})
        self.examples = {}  # count -> up to 3 examples

    def add(self, key, example=None):
        with self.lock:
            self.n[key] += 1
            if example and len(self.examples.setdefault(key, [])) < 3:
                self.examples[key].append(example)

    def total(self, what):
        return self.n["original " + what] + self.n["thumbnail " + what]


class StressTest(MountedTestCase):
    def setUp(self):
        super().setUp()
        self.images = []
        for n, (w, h) in enumerate([(320, 240), (400, 300), (480, 360), (360, 360)]):
            path = make_image(os.path.join(self.tmp, f"v{n}.jpg"), w, h)
            with open(path, "rb") as f:
                self.images.append((path, f.read()))
        # Thumbnails are made deterministically: those of every version, from a
        # set of their own, are the only whole thumbnails the readers may see.
        self.thumbnails = set()
        for k, (source, _) in enumerate(self.images):
            run("cp", source, self.p(f"posts/2/photos/{k}/original.jpg"))
            self.thumbnails.add(hashlib.sha256(
                self.read(self.p(f"posts/2/photos/{k}/thumb/64.jpg"))).hexdigest())
        self.allowed = {}  # original path -> sha256 of every version written there
        for i in range(SETS):
            path = self.original(i)
            self.allowed[path] = {hashlib.sha256(self.images[0][1]).hexdigest()}
            run("cp", self.images[0][0], path)

    def original(self, i):
        return self.p(f"posts/1/photos/{i}/original.jpg")

    def thumbnail(self, i):
        return self.p(f"posts/1/photos/{i}/thumb/64.jpg")

    def cp_writer(self, rng, stop, counts):
        while not stop.is_set():
            i, (source, data) = rng.randrange(SETS), rng.choice(self.images)
            self.allowed[self.original(i)].add(hashlib.sha256(data).hexdigest())
            if run("cp", source, self.original(i), check=False).returncode == 0:
                counts.add("cp writes")
            else:
                counts.add("failed writes", f"cp onto {i} failed")

    def rename_writer(self, rng, stop, counts):
        while not stop.is_set():
            i, (_, data) = rng.randrange(SETS), rng.choice(self.images)
            self.allowed[self.original(i)].add(hashlib.sha256(data).hexdigest())
            staging = self.p(f"posts/1/photos/{i}/.original.jpg.{rng.randrange(1 << 30):08x}")
            try:
                self.write_through_fd(staging, data)
                os.rename(staging, self.original(i))
                counts.add("rename writes")
            except OSError as e:
                counts.add("failed writes", f"staging rename onto {i}: {e}")

    def read_whole(self, path, counts, kind, original):
        """One read; counts it and any ENOENT, torn read or other error."""
        try:
            os.stat(path)
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            if e.errno == errno.ENOENT:
                counts.add(kind + " enoent", f"{kind} {path}: ENOENT")
            else:
                counts.add(kind + " errors", f"{kind} {path}: {e}")
            return
        counts.add(kind + " reads")
        versions = self.allowed[original] if kind == "original" else self.thumbnails
        whole = hashlib.sha256(data).hexdigest() in versions
        if not whole:
            counts.add(kind + " torn", f"{kind} {path}: {len(data)} bytes, not a whole version")

    def reader(self, rng, stop, counts, kind):
        path_of = self.original if kind == "original" else self.thumbnail
        while not stop.is_set():
            i = rng.randrange(SETS)
            self.read_whole(path_of(i), counts, kind, self.original(i))

    def stress(self):
        seed = int(os.environ.get("IAFS_STRESS_SEED", time.time_ns() % (1 << 32)))
        rng = random.Random(seed)
        counts, stop = Counts(), threading.Event()
        roles = [(self.cp_writer, ()), (self.cp_writer, ()), (self.rename_writer, ()),
                 (self.rename_writer, ()), (self.reader, ("original",)),
                 (self.reader, ("original",)), (self.reader, ("thumbnail",)),
                 (self.reader, ("thumbnail",))]
        threads = [threading.Thread(target=fn, args=(random.Random(rng.random()), stop, counts,
                                                     *extra)) for fn, extra in roles]
        for t in threads:
            t.start()
        time.sleep(SECONDS)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        print(f"stress: seed {seed}, {SECONDS:g} s, 8 threads: " +
              ", ".join(f"{v} {k}" for k, v in counts.n.items()), flush=True)
        for examples in counts.examples.values():
            for example in examples:
                print("  " + example, flush=True)
        self.assertGreater(counts.n["original reads"], 0)
        self.assertGreater(counts.n["thumbnail reads"], 0)
        self.assertGreater(counts.n["cp writes"] + counts.n["rename writes"], 0)
        return counts

    def test_every_read_is_a_whole_committed_version(self):
        counts = self.stress()
        self.assertEqual(counts.total("torn"), 0, "torn reads")
        self.assertEqual(counts.total("errors"), 0, "reads that failed (other than ENOENT)")
        self.assertEqual(counts.n["failed writes"], 0, "writes that failed")

    def test_names_that_always_exist_never_give_enoent(self):
        counts = self.stress()
        self.assertEqual(counts.total("enoent"), 0, "ENOENT for an original or thumbnail")
