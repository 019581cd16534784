"""Shared helpers for integration tests: mount a temporary store for real,
make images with libvips' command-line tools, and always unmount."""

import os
import shutil
import subprocess
import tempfile
import time
import unittest

BINARY = os.environ.get("IAFS_BINARY", "")
TESTDATA = os.environ.get("IAFS_TESTDATA_DIR", "")
MAKE_IMAGE = os.environ.get("IAFS_MAKE_IMAGE", "make_test_image")
OPEN_SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "open.conf")
# Whether the daemon under test is built with sanitizers (CMake says so).
SANITIZED = os.environ.get("IAFS_SANITIZED", "0") not in ("", "0")


def sanitized_or(plain, sanitized):
    """`plain`, or under the sanitizers `sanitized`: a smaller count for a
    test whose loop is there for numbers (kills, ids, seconds). Every path it
    drives still runs under them, which is what that build is for; the full
    count runs in the plain build."""
    return sanitized if SANITIZED else plain


def testdata(name):
    """The path of a photograph in ../shared/testdata, or skip the test."""
    path = os.path.join(TESTDATA, name)
    if not TESTDATA or not os.path.exists(path):
        raise unittest.SkipTest(f"test photo {name} not available")
    return path


def run(*args, check=True, **kwargs):
    """Runs a command; returns the CompletedProcess (text output)."""
    return subprocess.run(list(args), check=check, capture_output=True, text=True, **kwargs)


def _image_cache():
    """A directory of images already made, per make_test_image binary (the
    generator is deterministic: the same arguments give the same bytes), so
    that the suite starts it once per image instead of once per test."""
    try:
        stamp = os.stat(MAKE_IMAGE).st_mtime_ns
    except OSError:
        return None
    return os.path.join(os.path.dirname(MAKE_IMAGE), f"image-cache-{stamp}")


def make_image(path, width, height, alpha=False, orientation=0):
    """Writes a gradient image of width x height to `path`, encoded by its suffix
    (red grows left to right, green top to bottom); with `orientation` 1..8 the
    EXIF orientation tag is set (JPEG, WebP)."""
    args = [str(width), str(height)]
    if alpha:
        args.append("alpha")
    if orientation:
        args.append(f"orientation={orientation}")
    cache = _image_cache()
    suffix = os.path.splitext(path)[1]
    if cache is None or "[" in path or not suffix:
        run(MAKE_IMAGE, path, *args)
        return path
    cached = os.path.join(cache, "-".join(args) + suffix)
    if not os.path.exists(cached):
        os.makedirs(cache, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=cache, suffix=suffix)
        os.close(fd)
        try:
            run(MAKE_IMAGE, partial, *args)
            os.rename(partial, cached)  # whole, or not there: tests run in parallel
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
    shutil.copyfile(cached, path)
    return path


def vips_size(path):
    """(width, height) of an image file as libvips reads it (no rotation)."""
    out = run("vipsheader", path).stdout  # "PATH: WxH uchar, 3 bands, srgb, jpegload"
    size = out[len(path) + 2:].split(" ", 1)[0] if out.startswith(path + ": ") else ""
    w, _, h = size.partition("x")
    if not (w.isdigit() and h.isdigit()):
        raise AssertionError(f"vipsheader {path}: {out!r}")
    return int(w), int(h)


def vips_field(path, field):
    result = run("vipsheader", "-f", field, path, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def vips_loader(path):
    return vips_field(path, "vips-loader")


class Mount:
    """A running imageattachfs daemon (in the foreground, a child of the test)
    serving a store in a temporary directory."""

    def __init__(self, root, store=None, options=(), flags=(), serve=False,
                 shipped_schema=False, env=None):
        self.root = root
        self.store = store or os.path.join(root, "store")
        self.mnt = os.path.join(root, "mnt")
        os.makedirs(self.mnt, exist_ok=True)
        # With serve: the read-only serve mount (-o serve=) at root/serve.
        self.serve = os.path.join(root, "serve") if serve else None
        if self.serve:
            os.makedirs(self.serve, exist_ok=True)
        self.log_path = os.path.join(root, f"daemon-{time.monotonic_ns()}.log")
        self.options = list(options)
        self.shipped_schema = shipped_schema
        self.flags = list(flags)  # e.g. ["-s"]
        self.proc = None
        # Variables set (merged over os.environ) for the daemon, e.g. credentials.
        self.env = dict(env) if env else None

    def start(self, foreground=True, timeout=20):
        """Starts the daemon and waits up to `timeout` s for its mount (the
        S3 bench's rebuilds take longer)."""
        if not BINARY:
            raise unittest.SkipTest("IAFS_BINARY not set (run through ctest)")
        args = [BINARY]
        # The tests' open schema unless a test names its own, or asks for
        # the compiled-in default (shipped_schema).
        if not self.shipped_schema and not any(o.startswith("schema=") for o in self.options):
            args += ["-o", "schema=" + OPEN_SCHEMA]
        for option in self.options:
            args += ["-o", option]
        if self.serve:
            args += ["-o", "serve=" + self.serve]
        args += self.flags
        args += [self.store, self.mnt]
        if foreground:
            args.append("-f")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, **self.env} if self.env else None)
        deadline = time.monotonic() + timeout
        while not (os.path.ismount(self.mnt) and
                   (not self.serve or os.path.ismount(self.serve))):
            if self.proc.poll() is not None and foreground:
                raise AssertionError(f"daemon exited {self.proc.returncode}: {self.read_log()}")
            if time.monotonic() > deadline:
                raise AssertionError("mount did not appear: " + self.read_log())
            time.sleep(0.02)
        return self

    def path(self, relative):
        return os.path.join(self.mnt, relative.lstrip("/"))

    def settle(self, timeout=30):
        """Waits until the thumbnails made at upload (lqip.webp, the schema's
        eager list) are all stored: tests that count thumbnails call it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.path(".imageattachfs/metrics")) as f:
                for line in f:
                    if line.startswith("imageattachfs_eager_thumbnails_pending "):
                        if float(line.split()[1]) == 0:
                            return
            time.sleep(0.02)
        raise AssertionError("thumbnails made at upload did not settle")

    def read_log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def log_lines(self, needle, timeout=2.0):
        """The log lines that contain `needle`, waiting up to `timeout` for the
        first (RELEASE, which logs a refused upload, is asynchronous to close),
        then briefly for any more."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(needle in line for line in self.read_log().splitlines()):
                break
            time.sleep(0.05)
        time.sleep(0.2)
        return [line for line in self.read_log().splitlines() if needle in line]

    def is_mounted(self, point=None):
        """Whether the mount (or `point`) is in the mount table (os.path.ismount
        says no for a mount whose daemon died: stat fails with ENOTCONN)."""
        with open("/proc/self/mounts") as mounts:
            return any(line.split()[1] == (point or self.mnt) for line in mounts)

    def clear_serve(self):
        """Unmounts a serve mount that its daemon left behind."""
        if self.serve and self.is_mounted(self.serve):
            run("fusermount3", "-uz", self.serve, check=False)

    def stop(self):
        """Unmounts (even a mount whose daemon died) and waits for the daemon;
        kills it by pid if it hangs."""
        if self.is_mounted():
            result = run("fusermount3", "-u", self.mnt, check=False)
            if result.returncode != 0:
                run("fusermount3", "-uz", self.mnt, check=False)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.log.close()
            self.proc = None
        self.clear_serve()

    def kill9(self):
        """SIGKILL the daemon, then clear the dead mount."""
        self.proc.kill()
        self.proc.wait()
        self.log.close()
        self.proc = None
        run("fusermount3", "-uz", self.mnt, check=False)
        self.clear_serve()


class MountedTestCase(unittest.TestCase):
    """Each test gets a fresh store mounted at self.mnt; it is always unmounted."""

    mount_options = ()
    mount_flags = ()
    mount_serve = False  # also the serve mount, at self.serve

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="iafs-it-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.mount = Mount(self.tmp, options=self.mount_options, flags=self.mount_flags,
                           serve=self.mount_serve)
        self.addCleanup(self.mount.stop)
        self.mount.start()
        self.mnt = self.mount.mnt
        self.serve = self.mount.serve

    def p(self, relative):
        return self.mount.path(relative)

    def settle(self, timeout=30):
        """Waits until the thumbnails made at upload are stored (Mount.settle)."""
        self.mount.settle(timeout)

    def remount(self):
        self.mount.stop()
        self.mount.start()

    def fresh_mount(self):
        """A second, empty store mounted beside the first; always unmounted."""
        root = os.path.join(self.tmp, f"fresh-{len(os.listdir(self.tmp))}")
        os.makedirs(root)
        mount = Mount(root)
        self.addCleanup(mount.stop)
        return mount.start()

    def image(self, name, width, height, **kwargs):
        """An image file made in the test's temporary directory."""
        return make_image(os.path.join(self.tmp, name), width, height, **kwargs)

    # Sizes of the test photographs that sample() stands in for when absent.
    SAMPLE_SIZES = {"rocket.jpg": (640, 427), "chelsea.png": (451, 300),
                    "path-2560x1600.jpg": (2560, 1600)}

    def sample(self, name):
        """A test photograph from ../shared/testdata, or, where that is absent
        (a newcomer's clone), a generated image of the same format and size:
        for tests that need a valid image, not a camera's."""
        path = os.path.join(TESTDATA, name)
        if TESTDATA and os.path.exists(path):
            return path
        width, height = self.SAMPLE_SIZES[name]
        return make_image(os.path.join(self.tmp, "sample-" + name), width, height)

    def put(self, relative, source):
        """cp `source` into the mount at `relative`; returns the mount path
        once the thumbnails made at upload are stored (settle)."""
        target = self.p(relative)
        run("cp", source, target)
        self.settle()
        return target

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def write_through_fd(self, path, data, flags=os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                         settle=True):
        """open/write/close, so that close()'s answer is seen (raises on
        refusal); then (unless told not to) settles, as put does."""
        fd = os.open(path, flags, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        if settle and path.startswith(self.mnt + os.sep):
            self.settle()

    def assertErrno(self, errno_value, fn, *args):
        with self.assertRaises(OSError) as caught:
            fn(*args)
        self.assertEqual(caught.exception.errno, errno_value,
                         f"expected {os.strerror(errno_value)}, got {caught.exception}")
