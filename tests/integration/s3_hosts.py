"""What the tests of several hosts on one bucket share (test_s3_*.py): tiny
images made here, a bucket per test, daemons A, B, C on it, and waits."""


import hashlib
import json
import os
import random
import shutil
import subprocess
import tempfile
import time
import unittest

import harness
import rgw_fixture
from harness import Mount, run

POLL = "0.1"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def write_file(path, data):
    """open/write/close, so that close()'s answer is seen: raises OSError on
    a refusal or a failed commit."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def complaints(text):
    """The lines of a daemon's output that are not info or debug lines."""
    return [line for line in text.splitlines()
            if line.strip() and ": info: " not in line and ": debug: " not in line]


def log_key(seq):
    return f"log/{seq:020d}"


def uncached_read(path):
    """The file's bytes as the daemon serves them now: the kernel's cached
    pages of it are dropped first."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(fd)


class S3HostsCase(unittest.TestCase):
    """A test on the fixture's RGW with a bucket of its own (removed after)
    and daemons on it (host()), always unmounted and reaped."""

    def setUp(self):
        self.rgw = rgw_fixture.rgw_or_skip(self)
        if not harness.BINARY:
            self.skipTest("IAFS_BINARY not set (run through ctest)")
        self.tmp = tempfile.mkdtemp(prefix="iafs-s3h-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.s3 = self.rgw.client()
        self.addCleanup(self.s3.close)
        self.s3.create_bucket()
        self.addCleanup(self.remove_bucket, self.s3)
        # Credentials only through the environment (no option takes a secret).
        self.env = {"AWS_ACCESS_KEY_ID": self.rgw.access_key,
                    "AWS_SECRET_ACCESS_KEY": self.rgw.secret_key,
                    "AWS_REGION": self.rgw.region}
        self.hosts = []

    # --- helpers -------------------------------------------------------------

    @staticmethod
    def remove_bucket(client):
        keys, _, _ = client.list_all()
        for key in keys:
            status = client.delete_object(key)[0]
            if status != 204:
                raise AssertionError(f"delete {key}: HTTP {status}")
        client.delete_bucket()  # also every version, where versioning was on

    def s3_options(self, endpoint=None, extra=()):
        return [f"s3={self.rgw.bucket}", f"s3_endpoint={endpoint or self.rgw.endpoint}",
                f"s3_region={self.rgw.region}", "s3_path_style", f"s3_poll={POLL}", *extra]

    def host(self, name, endpoint=None, extra=(), start=True):
        """A daemon on the test's bucket in tmp/<name> (store and mountpoint of
        its own); always unmounted and reaped."""
        root = os.path.join(self.tmp, name)
        os.makedirs(root, exist_ok=True)
        mount = Mount(root, options=self.s3_options(endpoint, extra=extra), env=self.env)
        mount.name = name
        self.hosts.append(mount)
        self.addCleanup(mount.stop)
        return mount.start() if start else mount

    def cached_bytes(self, mount):
        """The bytes of the bucket's blobs `mount`'s store holds (imageattachfs stat)."""
        out = subprocess.run([harness.BINARY, "stat", "--json", mount.store], check=True,
                             capture_output=True, text=True).stdout
        return json.loads(out)["bucket"]["cached_bytes"]

    def assert_reads_exact(self, mount, files, seed):
        """Reads every file of `files` (path: bytes) on `mount` whole, twice,
        in an order shuffled by `seed`, past the kernel's cache: byte-exact."""
        order = list(files) * 2
        random.Random(seed).shuffle(order)
        for path in order:
            got = uncached_read(mount.path(path))
            self.assertEqual(len(got), len(files[path]), path)
            self.assertTrue(got == files[path], f"{path}: other bytes" + self.logs(mount))

    def logs(self, *mounts):
        """The last lines of the daemons' logs, for failure messages."""
        parts = []
        for mount in mounts or self.hosts:
            lines = mount.read_log().splitlines()
            parts.append(f"--- {getattr(mount, 'name', mount.root)} log (last 25 of "
                         f"{len(lines)} lines):\n" + "\n".join(lines[-25:]))
        return "\n" + "\n".join(parts)

    def wait_for(self, what, check, timeout, interval=0.05, mounts=()):
        """Polls check() (a value, or None/False while not yet) until it gives
        one, for at most `timeout` s; returns (value, seconds taken)."""
        start = time.monotonic()
        deadline = start + timeout
        last = None
        while True:
            try:
                value = check()
                last = None
            except OSError as e:
                value, last = None, e
            if value:
                return value, time.monotonic() - start
            if time.monotonic() > deadline:
                self.fail(f"{what}: not within {timeout} s (last error: {last})" +
                          self.logs(*mounts))
            time.sleep(interval)

    def tree(self, mount):
        """{relative path: what a client sees}: directories (their names),
        originals (size, mtime, sha256, user.* xattrs). thumb/ is left out:
        thumbnails are still made per host."""
        found = {}
        for dirpath, dirnames, filenames in os.walk(mount.mnt):
            relative = os.path.relpath(dirpath, mount.mnt)
            if relative.startswith(".imageattachfs"):
                dirnames[:] = []
                continue
            dirnames[:] = sorted(d for d in dirnames if d != "thumb" and d != ".imageattachfs")
            found[relative + "/"] = sorted(dirnames + filenames)
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                st = os.stat(path)
                xattrs = {x: os.getxattr(path, x) for x in sorted(os.listxattr(path))
                          if x.startswith("user.")}
                found[os.path.join(relative, name)] = (st.st_size, st.st_mtime_ns,
                                                       sha256(read_bytes(path)), xattrs)
        return found

    def fsck_remote(self):
        """imageattachfs fsck --remote on the test's bucket: (status, output)."""
        options = ",".join(o for o in self.s3_options() if not o.startswith("s3_poll"))
        result = subprocess.run([harness.BINARY, "fsck", "--remote", "-o", options],
                                capture_output=True, text=True, timeout=120,
                                env={**os.environ, **self.env})
        return result.returncode, result.stdout + result.stderr

    def log_entries(self):
        """The bucket's log entries, parsed, in key order; and their keys."""
        keys, _, _ = self.s3.list_all(prefix="log/")
        entries = []
        for key in keys:
            status, _, body = self.s3.get_object(key)
            self.assertEqual(status, 200, key)
            entries.append(json.loads(body))
        return keys, entries

    def assertLogContiguous(self, keys):
        self.assertGreater(len(keys), 0, "no log entry in the bucket")
        expected = [log_key(n) for n in range(1, len(keys) + 1)]
        if keys != expected:
            missing = sorted(set(expected) - set(keys))[:10]
            extra = sorted(set(keys) - set(expected))[:10]
            self.fail(f"log keys are not 1..{len(keys)}: missing {missing}, unexpected {extra}")

    def assertErrno(self, errno_value, fn, *args):
        with self.assertRaises(OSError) as caught:
            fn(*args)
        self.assertEqual(caught.exception.errno, errno_value,
                         f"expected {os.strerror(errno_value)}, got {caught.exception}")

    def refused(self, store, mnt, options):
        """Runs the daemon in the foreground with `options`, expecting it to
        refuse: (exit status, output). Unmounts if it mounted after all."""
        os.makedirs(mnt, exist_ok=True)
        args = [harness.BINARY, "-f", "-o", "schema=" + harness.OPEN_SCHEMA]
        for option in options:
            args += ["-o", option]
        args += [store, mnt]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env={**os.environ, **self.env})
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            if os.path.ismount(mnt):
                run("fusermount3", "-u", mnt, check=False)
            proc.kill()
            out, _ = proc.communicate()
            self.fail(f"{options}: the daemon did not exit (mounted: it was not refused): {out}")
        finally:
            with open("/proc/self/mounts") as mounts:
                if any(line.split()[1] == mnt for line in mounts):
                    run("fusermount3", "-uz", mnt, check=False)
                    self.fail(f"{options}: mounted, though refused")
        return proc.returncode, out
