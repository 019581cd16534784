"""Many clients on one name at once: a hundred threads replacing one original
(open with O_TRUNC, write, close), with readers opening and reading it whole
all along. Every open, write and close must succeed, every read must be one
whole version committed there, and the name must never answer ENOENT.

Two bugs lived here: a lookup could share a new version's node before that
node held its pin (a replacement then freed the bytes under the reader: EIO,
"missing chunk"), and an open for writing copied the current original
unpinned (EIO when it was replaced meanwhile)."""

import errno
import hashlib
import os
import threading

from harness import MountedTestCase, sanitized_or
from tiny_images import png

WRITERS = 100
READERS = 4
ROUNDS = sanitized_or(8, 2)
ORIGINAL = "posts/1/photos/0/original.png"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class RacesTest(MountedTestCase):
    def replace(self, data):
        fd = os.open(self.p(ORIGINAL), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def test_a_hundred_racing_replacements_and_readers_never_fail(self):
        first = png(16, 16, seed=99999)
        self.replace(first)
        written = {sha256(first)}
        failures = []  # (what, errno name), for every failed syscall
        torn = []
        reads = [0]
        lock = threading.Lock()

        def fail(what, error):
            with lock:
                failures.append((what, errno.errorcode.get(error.errno, error.errno)))

        for round_ in range(ROUNDS):
            uploads = [png(16 + i % 7, 16 + i // 7, seed=round_ * WRITERS + i)
                       for i in range(WRITERS)]
            written.update(sha256(u) for u in uploads)
            barrier = threading.Barrier(WRITERS + READERS, timeout=60)
            done = threading.Event()

            def writer(data):
                barrier.wait()
                try:
                    self.replace(data)
                except OSError as e:
                    fail("replace", e)

            def reader():
                barrier.wait()
                while not done.is_set():
                    try:
                        with open(self.p(ORIGINAL), "rb") as f:
                            got = f.read()
                    except OSError as e:
                        fail("read", e)
                        continue
                    with lock:
                        reads[0] += 1
                        if sha256(got) not in written:
                            torn.append(len(got))

            writers = [threading.Thread(target=writer, args=(u,)) for u in uploads]
            readers = [threading.Thread(target=reader) for _ in range(READERS)]
            for t in writers + readers:
                t.start()
            for t in writers:
                t.join(timeout=120)
            done.set()
            for t in readers:
                t.join(timeout=60)
            self.assertFalse(any(t.is_alive() for t in writers + readers), "a thread hung")

        print(f"{ROUNDS} rounds of {WRITERS} replacements; {reads[0]} whole reads")
        self.assertEqual(failures, [], "every open, write, close and read succeeds")
        self.assertEqual(torn, [], "every read is one whole committed version")
        self.assertGreater(reads[0], 0)
        final = self.read(self.p(ORIGINAL))
        self.assertIn(sha256(final), written)
        self.assertEqual(os.stat(self.p(ORIGINAL)).st_size, len(final))
        self.assertEqual([line for line in self.mount.read_log().splitlines()
                          if "missing chunk" in line or "kept changing" in line], [])
