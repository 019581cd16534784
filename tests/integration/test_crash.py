"""A crash campaign: SIGKILL of the daemon at random moments (seeded; the
seed is printed, IAFS_CRASH_SEED replays one) during concurrent uploads,
replacements, staging renames, removals, `mv -T` and thumbnail reads. After
each kill and remount: every original whose writer saw success is there byte
for byte (an op in flight at the kill may or may not have landed: either
state is accepted, never a mix), listings agree with stat, and fsck, run
read-only beside the daemon, finds nothing. A daemon that SIGKILL cannot end
at once (a thread sending an invalidation waits, uninterruptibly, for a
directory lock that the kernel holds for a request only the killed daemon
could answer: a limit of the kernel's FUSE notifications, see the README) has
its FUSE connection aborted (fusectl), as an admin would, and must then have
lost nothing either; such kills are counted and reported with the stuck
threads' kernel stacks."""

import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from harness import BINARY, Mount, make_image, run, sanitized_or

SETS = 4      # image sets per worker: posts/<worker + 1>/photos/0..3
WORKERS = 3
KILLS = sanitized_or(25, 10)  # per test method; three methods: 75 kills (30)


class Worker:
    """One thread's ops, on its own entity (so its sets' joint state before and
    after its one op in flight is all a kill can leave)."""

    def __init__(self, number, mnt, images, rng, weights):
        self.entity = os.path.join(mnt, "posts", str(number + 1), "photos")
        self.images, self.rng, self.weights = images, rng, weights
        self.state = {i: None for i in range(SETS)}  # index -> bytes committed, or None
        self.in_flight = None  # the state the op in flight at the kill would leave
        self.errors = []
        self.confirmed = 0
        self.current = None  # the op being performed

    def original(self, index):
        return os.path.join(self.entity, str(index), "original.jpg")

    def choose(self):
        present = [i for i, v in self.state.items() if v is not None]
        absent = [i for i, v in self.state.items() if v is None]
        ops = [("cp", i) for i in range(SETS)] * self.weights["cp"]
        ops += [("stage", i) for i in range(SETS)] * self.weights["stage"]
        ops += [("rm", i) for i in present] * self.weights["rm"]
        ops += [("thumb", i) for i in present] * self.weights["thumb"]
        ops += [("mv", (a, b)) for a in present for b in absent] * self.weights["mv"]
        return self.rng.choice(ops)

    def perform(self, op, target, after):
        """Runs one op; True when it returned success."""
        try:
            if op == "cp":
                image = self.rng.choice(self.images)
                after[target] = image[1]
                return run("cp", image[0], self.original(target), check=False).returncode == 0
            if op == "stage":
                image = self.rng.choice(self.images)
                after[target] = image[1]
                staging = os.path.join(self.entity, str(target),
                                       f".original.jpg.{self.rng.randrange(1 << 30):08x}")
                fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                try:
                    os.write(fd, image[1])
                finally:
                    os.close(fd)
                os.rename(staging, self.original(target))
                return True
            if op == "rm":
                after[target] = None
                os.unlink(self.original(target))
                return True
            if op == "mv":
                source, dest = target
                after[dest], after[source] = after[source], None
                result = run("mv", "-T", os.path.join(self.entity, str(source)),
                             os.path.join(self.entity, str(dest)), check=False)
                return result.returncode == 0
            with open(os.path.join(self.entity, str(target), "thumb", "32.jpg"), "rb") as f:
                data = f.read()
            return data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
        except OSError:
            return False

    def loop(self, campaign):
        while campaign.killed_at is None:
            op, target = self.choose()
            self.current = (op, target)
            after = dict(self.state)
            self.in_flight = after
            ok = self.perform(op, target, after)
            if campaign.killed_at is not None:
                return  # ended at or after the kill: either state may be there
            if not ok:
                self.errors.append(f"{op} {target} failed with the daemon running")
            else:
                self.state = after
                self.confirmed += 1
            self.in_flight = None

    def observe(self):
        """The sets' state as the mount shows it now."""
        seen = {}
        for i in range(SETS):
            try:
                with open(self.original(i), "rb") as f:
                    seen[i] = f.read()
            except FileNotFoundError:
                seen[i] = None
        return seen


def connection_of(mnt):
    """The FUSE connection number of the mount at `mnt`, from mountinfo (a
    stat of a hung mount would hang too)."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == mnt:
                return fields[2].split(":")[1]
    return None


def stuck_threads(pid):
    """The kernel stacks of a process's threads in uninterruptible sleep."""
    stuck = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            with open(f"/proc/{pid}/task/{tid}/stack") as f:
                frames = [line.split()[-1].split("+")[0] for line in f]
        except OSError:
            continue
        if state == "D":
            stuck.append(f"thread {tid}: " + " < ".join(frames[:6]))
    return stuck


def kill9(mount):
    """SIGKILLs the daemon and clears its mount. A daemon that cannot die (a
    thread stuck in the kernel on its own mount keeps /dev/fuse open, and every
    request on the mount waits for ever) has its connection aborted through
    fusectl so that the test ends; returns its stuck threads' stacks then."""
    proc, connection = mount.proc, connection_of(mount.mnt)
    proc.kill()
    stuck = []
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        stuck = stuck_threads(proc.pid) or ["(no thread in D state)"]
        if not os.listdir("/sys/fs/fuse/connections"):
            run("mount", "-t", "fusectl", "fusectl", "/sys/fs/fuse/connections", check=False)
        try:
            with open(f"/sys/fs/fuse/connections/{connection}/abort", "w") as f:
                f.write("1")
        except OSError as e:
            stuck.append(f"could not abort FUSE connection {connection}: {e}")
        proc.wait(timeout=30)
    mount.log.close()
    mount.proc = None
    run("fusermount3", "-uz", mount.mnt, check=False)
    return stuck


class Campaign:
    def __init__(self):
        self.killed_at = None


class CrashTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="iafs-crash-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.mount = Mount(self.tmp)
        self.addCleanup(self.mount.stop)
        self.mount.start()
        self.images = []
        for n, (w, h) in enumerate([(96, 64), (128, 96), (160, 120), (200, 150), (64, 64),
                                    (240, 160)]):
            path = make_image(os.path.join(self.tmp, f"img{n}.jpg"), w, h)
            with open(path, "rb") as f:
                self.images.append((path, f.read()))

    def check_listings(self, worker, seen):
        present = sorted(i for i, v in seen.items() if v is not None)
        entity = worker.entity
        listed = sorted(int(n) for n in os.listdir(entity)) if present else []
        self.assertEqual(listed, present, f"{entity} lists {listed}, stat finds {present}")
        for i in present:
            names = os.listdir(os.path.join(entity, str(i)))
            self.assertIn("original.jpg", names)
            self.assertEqual([n for n in names if n.startswith(".")], [],
                             "staging files survived the remount")
            self.assertEqual(os.stat(worker.original(i)).st_size, len(seen[i]))
        ids = os.listdir(os.path.join(self.mount.mnt, "posts"))
        self.assertEqual(os.path.basename(os.path.dirname(entity)) in ids, bool(present))

    def campaign(self, name, offset, weights):
        seed = int(os.environ.get("IAFS_CRASH_SEED", time.time_ns() % (1 << 32))) + offset
        print(f"crash {name}: seed {seed}", flush=True)
        rng = random.Random(seed)
        workers = [Worker(n, self.mount.mnt, self.images, random.Random(rng.random()), weights)
                   for n in range(WORKERS)]
        kills = checked = in_flight = 0
        unkillable = []  # kills that the daemon survived, stuck in the kernel
        for kill in range(KILLS):
            campaign = Campaign()
            threads = [threading.Thread(target=w.loop, args=(campaign,), daemon=True)
                       for w in workers]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.05, 0.6))
            campaign.killed_at = time.monotonic()
            ops = [w.current for w in workers]
            stuck = kill9(self.mount)
            if stuck:
                unkillable.append(f"kill {kill}: ops in flight {ops}; " + "; ".join(stuck))
            for t in threads:
                t.join(timeout=30)
                self.assertFalse(t.is_alive(), "a worker hangs after the kill")
            kills += not stuck
            self.mount.start()
            for w in workers:
                self.assertEqual(w.errors, [], f"kill {kill}")
                seen = w.observe()
                allowed = [w.state] + ([w.in_flight] if w.in_flight is not None else [])
                in_flight += w.in_flight is not None
                self.assertIn(seen, allowed, f"kill {kill} (seed {seed}): {w.entity} holds "
                              "neither the state before nor after the op in flight")
                checked += sum(v is not None for v in seen.values())
                w.state, w.in_flight = seen, None
                self.check_listings(w, seen)
            result = subprocess.run([BINARY, "fsck", self.mount.store], capture_output=True,
                                    text=True, timeout=60)
            self.assertEqual(result.returncode, 0, f"kill {kill}: {result.stdout}{result.stderr}")
        confirmed = sum(w.confirmed for w in workers)
        print(f"crash {name}: seed {seed}, {kills} kills survived, {checked} originals checked, "
              f"{confirmed} ops confirmed, {in_flight} in flight at a kill, "
              f"{len(unkillable)} kills the daemon could not die of", flush=True)
        for line in unkillable:
            print("  " + line, flush=True)
        self.assertEqual(kills + len(unkillable), KILLS)
        self.assertGreater(checked, 0)

    def test_survives_kills_during_uploads_and_replacements(self):
        self.campaign("uploads", 0, {"cp": 3, "stage": 1, "rm": 1, "mv": 1, "thumb": 1})

    def test_survives_kills_during_staging_renames_and_thumbnail_reads(self):
        self.campaign("renames", 1, {"cp": 1, "stage": 3, "rm": 1, "mv": 1, "thumb": 3})

    def test_survives_kills_during_removals_and_moves(self):
        self.campaign("removals", 2, {"cp": 2, "stage": 1, "rm": 2, "mv": 3, "thumb": 1})
