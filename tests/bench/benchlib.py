"""What every figure of the bench shares: the settings of a run, a row of the
table, medians, the daemon (with its serve mount when it has one), the test
images and the daemon's metrics."""

import os
import re
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402  (tests/integration/harness.py: Mount, run)

SOURCE_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
TESTDATA = os.path.join(SOURCE_ROOT, "..", "shared", "testdata")


class Settings:
    """Sizes and repetitions of a full run, or of a smoke run (seconds, tiny
    sizes: proves that every figure can be measured, not how fast)."""

    def __init__(self, smoke):
        self.smoke = smoke
        self.rounds = 1 if smoke else 5              # runs per side; figures are medians
        self.read_seconds = 0.2 if smoke else 2.0     # one run of bench_read
        self.read_sets = 4 if smoke else 32           # thumbnails read in turn
        self.read_originals = 2 if smoke else 8       # originals read in turn
        self.wrk_seconds = 1 if smoke else 5
        self.wrk_rounds = 1 if smoke else 3
        self.herd_readers = 64
        self.herd_rounds = 1 if smoke else 3
        self.ingest_files = 20 if smoke else 1000
        self.ingest_rounds = 1 if smoke else 3
        self.cold_sets = 2 if smoke else 8            # per kind (baseline, progressive)
        self.cold_requests = 4 if smoke else 48       # per kind
        self.burst_requests = 4 if smoke else 16
        self.warm_probe_requests = 20 if smoke else 300
        self.memory_few = 5 if smoke else 100
        self.memory_many = 20 if smoke else 10000


class Row:
    """One line of the table. `ratio` compares the mount with the reference;
    `meets(ratio)` says whether the target is met; `error` when the figure
    could not be measured; `met` says it outright where the ratio is not a
    number (a count, a size)."""

    def __init__(self, figure, measured="", reference="", ratio=None, target="", meets=None,
                 error=None, mount="", met=None):
        self.figure = figure
        self.measured = measured
        self.reference = reference
        self.ratio = ratio
        self.target = target
        self.meets = meets
        self.error = error
        self.mount = mount
        self.met = met

    def verdict(self):
        if self.error:
            return "FAILED"
        if self.met is not None:
            return "met" if self.met else "missed"
        if self.ratio is None or self.meets is None:
            return "-"
        return "met" if self.meets(self.ratio) else "missed"

    def ratio_text(self):
        if self.error:
            return "-"
        if isinstance(self.ratio, str):
            return self.ratio
        return "-" if self.ratio is None else f"{self.ratio:.2f}×"


def at_least(target):
    return lambda ratio: ratio >= target


def at_most(target):
    return lambda ratio: ratio <= target


def median(values):
    return statistics.median(values)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * (len(ordered) - 1) + 0.5))]


def run(*args, **kwargs):
    return harness.run(*[str(a) for a in args], **kwargs)


def key_values(line):
    """'a=1 b=2.5' -> {'a': 1.0, 'b': 2.5}."""
    return {k: float(v) for k, v in re.findall(r"(\w+)=([0-9.]+)", line)}


def supports_serve(daemon):
    """Whether the daemon has the read-only serve mount (`-o serve=PATH`)."""
    result = subprocess.run([daemon, "--help"], capture_output=True, text=True)
    return "serve=" in result.stdout + result.stderr


class Daemon:
    """The daemon under test (a child in the foreground), mounted at ROOT/mnt
    and, where the binary supports it, serving the store read-only at
    ROOT/serve. `web` is the mount web servers are told to serve."""

    def __init__(self, binary, root, options=(), use_serve=True):
        os.environ["IAFS_BINARY"] = binary
        harness.BINARY = binary
        self.serve = os.path.join(root, "serve") if use_serve else None
        options = list(options)
        if self.serve:
            os.makedirs(self.serve, exist_ok=True)
            options.append("serve=" + self.serve)
        self.mount = harness.Mount(root, options=options)
        self.mnt = self.mount.mnt
        self.web = self.serve or self.mnt
        self.web_name = "serve mount" if self.serve else "main mount"

    def __enter__(self):
        self.mount.start()
        deadline = time.monotonic() + 20
        while self.serve and not os.path.ismount(self.serve):
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("serve mount did not appear: " + self.mount.read_log())
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self.serve and os.path.ismount(self.serve):
            run("fusermount3", "-u", self.serve, check=False)
        self.mount.stop()

    @property
    def pid(self):
        return self.mount.proc.pid

    def path(self, relative):
        return self.mount.path(relative)

    def web_path(self, relative):
        return os.path.join(self.web, relative.lstrip("/"))

    def metric(self, name):
        """The value of counter `name` (summed over its labels) in
        MOUNT/.imageattachfs/metrics, or None when the daemon has no metrics."""
        try:
            with open(self.path(".imageattachfs/metrics")) as f:
                text = f.read()
        except OSError:
            return None
        values = [float(m.group(1)) for m in
                  re.finditer(r"^" + re.escape(name) + r"(?:\{[^}]*\})?\s+([0-9.eE+-]+)\s*$",
                              text, re.M)]
        return sum(values) if values else None

    def memory(self):
        """{'VmRSS': bytes, 'VmHWM': bytes, 'RssAnon': bytes, ...} of the daemon."""
        fields = {}
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                name, _, value = line.partition(":")
                if value.strip().endswith("kB"):
                    fields[name] = int(value.split()[0]) * 1024
        return fields


def variant(source, target, tag):
    """Copies a JPEG with a comment segment holding `tag` right after SOI: a
    distinct blob (the store deduplicates equal bytes) of the same pixels."""
    with open(source, "rb") as f:
        data = f.read()
    if data[:2] != b"\xff\xd8":
        raise ValueError(f"{source} is not a JPEG")
    comment = f"iafs-bench {tag}".encode()
    segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    with open(target, "wb") as f:
        f.write(data[:2] + segment + data[2:])
    return target


def cp(source, target):
    run("cp", source, target)


def drop_tree(path):
    shutil.rmtree(path, ignore_errors=True)


def mb(nbytes):
    return f"{nbytes / 1e6:.0f} MB" if nbytes >= 10e6 else f"{nbytes / 1e6:.1f} MB"


def size_text(nbytes):
    return f"{nbytes / 1e6:.1f} MB" if nbytes >= 1e6 else f"{nbytes / 1e3:.0f} KB"
