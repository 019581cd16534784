#!/usr/bin/env python3
"""The S3 benchmark of issue 14 §10 (SCALEOUT.md §14): hosts A, B and C of
one bucket on a local Ceph RGW, each reaching it through a proxy of its own
(tests/integration/tcp_proxy.py) that counts its S3 requests by type
(s3_traffic.py) and can hold each answer back to stand in for a distant
bucket (--latency-ms). It prints one table (figure, value, reference where
there is one: SCALEOUT.md's measurement, or for a run with latency the same
figure at 0 ms) and asserts nothing timed: it only reports.

    python3 tests/bench/s3_bench.py --daemon build/Release/src/imageattachfs [--latency-ms 20] [--quick]

RGW: the ctest fixture's (IAFS_RGW_STATE names its state file; exit 77 when
it has none: ceph not installed), else one started here in the work
directory (tests/integration/rgw_fixture.py) and stopped after. One 2-core
machine runs RGW, every host and the clients: the figures are a functional
check of the costs, not the scaling of several machines. `--quick` runs every
figure at tiny sizes (CI's s3_bench_smoke) and says nothing of speed.

Exit status: 0 when every figure was measured, 1 when one could not be, 77
when there is no RGW."""

import argparse
import collections
import itertools
import json
import os
import platform
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import benchlib  # puts tests/integration on sys.path
from benchlib import median, percentile, size_text, variant
from images import texture
from s3_traffic import Traffic, by_type, dollars_per_1000, type_text

import harness  # noqa: E402
import rgw  # noqa: E402
import s3  # noqa: E402
import tcp_proxy  # noqa: E402
from s3_hosts import log_key, read_bytes, write_file  # noqa: E402
from tiny_images import png  # noqa: E402

INTEGRATION = os.path.join(benchlib.SOURCE_ROOT, "tests", "integration")
SKIP = 77
WROTE_SNAPSHOT = re.compile(r"s3: wrote (snap/\d{20}/): (\d+) records, (\d+) bytes in (\d+) parts, "
                            r"in (\d+) ms")


class Settings:
    """Sizes of a full run, or of a quick one (tiny: proves every figure can
    be measured)."""

    def __init__(self, quick, rebuild_sets):
        self.quick = quick
        self.polls = (0.1, 1.0) if quick else (0.1, 1.0, 5.0)
        self.propagation_samples = {0.1: 2, 1.0: 2} if quick else {0.1: 12, 1.0: 10, 5.0: 6}
        self.writer_configs = ((1, 0), (4, 0), (2, 2)) if quick else ((1, 0), (4, 0), (16, 0),
                                                                      (8, 8))
        self.uploads_per_config = 6 if quick else 192
        self.thumb_rounds = 1 if quick else 3
        self.image_size = (500, 300) if quick else (2000, 1125)
        self.request_uploads = 3 if quick else 20
        self.idle_seconds = 3 if quick else 60
        self.rebuild_sets = rebuild_sets or ((40,) if quick else (10000, 30000))
        self.load_writers = 4 if quick else 16


class Row:
    def __init__(self, key, figure, value="", reference="", error=None):
        self.key, self.figure, self.value, self.reference, self.error = (key, figure, value,
                                                                         reference, error)


def ms(seconds):
    return f"{seconds * 1000:.0f}" if seconds >= 0.0995 else f"{seconds * 1000:.1f}"


def p50_p95(values, high=0.95):
    return (f"p50 {ms(median(values))} ms, p{round(high * 100)} {ms(percentile(values, high))} ms "
            f"(n={len(values)})")


def wait_until(what, check, timeout, interval=0.002):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


class Host:
    """A daemon on the bench's bucket, through a proxy of its own."""

    def __init__(self, mount, proxy, traffic):
        self.mount, self.proxy, self.traffic = mount, proxy, traffic

    def start(self, timeout=20):
        self.mount.start(timeout=timeout)
        return self

    def stop(self):
        try:
            self.mount.stop()
        finally:
            self.proxy.stop()

    def path(self, relative):
        return self.mount.path(relative)

    def counts(self):
        return self.traffic.counts()


class Bucket:
    """A fresh bucket and the hosts started on it (stopped by close())."""

    def __init__(self, bench, label):
        self.bench = bench
        self.name = f"iafs-bench-{label}-{secrets.token_hex(4)}"
        state = bench.rgw
        self.client = s3.Client(state["endpoint"], state["access_key"], state["secret_key"],
                                state["region"], bucket=self.name)
        self.client.create_bucket()
        self.root = tempfile.mkdtemp(prefix=label + "-", dir=bench.workdir)
        self.hosts = []
        self.known_head = 0

    def host(self, name, poll="1", extra=(), latency_ms=0, start=True, timeout=20):
        """Host `name` (its store in ROOT/name: the same name, the same
        store) at s3_poll=`poll`, its requests held back `latency_ms`."""
        state = self.bench.rgw
        traffic = Traffic()
        target = state["endpoint"].split("//", 1)[1]
        proxy = tcp_proxy.TcpProxy(target.rsplit(":", 1)[0], int(target.rsplit(":", 1)[1]),
                                   latency_ms=latency_ms, tap=traffic.tap).start()
        options = [f"s3={self.name}", f"s3_endpoint={proxy.endpoint}",
                   f"s3_region={state['region']}", "s3_path_style", f"s3_poll={poll}", *extra]
        mount = harness.Mount(os.path.join(self.root, name), options=options,
                              env={"AWS_ACCESS_KEY_ID": state["access_key"],
                                   "AWS_SECRET_ACCESS_KEY": state["secret_key"],
                                   "AWS_REGION": state["region"]})
        host = Host(mount, proxy, traffic)
        self.hosts.append(host)
        if start:
            try:
                host.start(timeout)
            except Exception:
                proxy.stop()
                raise
        return host

    def head(self):
        """The seq of the log's newest entry."""
        keys, _, _ = self.client.list_all(prefix="log/", start_after=log_key(self.known_head)
                                          if self.known_head else None)
        if keys:
            self.known_head = int(keys[-1][len("log/"):])
        return self.known_head

    def entries(self, after, upto):
        """The log entries after..upto, parsed."""
        found = []
        for seq in range(after + 1, upto + 1):
            status, _, body = self.client.get_object(log_key(seq))
            if status == 200:
                found.append(json.loads(body))
        return found

    def snapshot_seqs(self):
        keys, _, _ = self.client.list_all(prefix="snap/")
        return sorted(int(k.split("/")[1]) for k in keys if k.endswith("/index"))

    def close(self):
        for host in self.hosts:
            try:
                host.stop()
            except Exception as e:  # noqa: BLE001 (go on stopping the others)
                print(f"s3_bench: stopping a host: {e}", file=sys.stderr)
        if not self.bench.own_rgw:  # the fixture's RGW lives on: leave it empty
            try:
                self.client.delete_bucket()
            except Exception as e:  # noqa: BLE001
                print(f"s3_bench: bucket {self.name} not deleted: {e}", file=sys.stderr)
        self.client.close()
        shutil.rmtree(self.root, ignore_errors=True)


class Bench:
    def __init__(self, args, settings, rgw_state, own_rgw, workdir):
        self.args, self.settings, self.rgw, self.own_rgw = args, settings, rgw_state, own_rgw
        self.workdir = workdir
        self.rows = []
        self.ids = itertools.count(1)
        self._image = None

    def bucket(self, label):
        return Bucket(self, label)

    def image(self):
        """A ~2,000 px wide photo-like JPEG (images.texture), made once."""
        if self._image is None:
            width, height = self.settings.image_size
            self._image = texture(os.path.join(self.workdir, f"texture-{width}x{height}.jpg"),
                                  width, height)
        return self._image

    def group(self, name, key, latency, fn):
        tag = f" [{latency} ms]" if latency else ""
        started = time.monotonic()
        print(f"s3_bench: {name}{tag} ...", file=sys.stderr, flush=True)
        try:
            for row in fn(latency):
                row.figure += tag
                self.rows.append(row)
                print(f"s3_bench: | {row.figure} | {row.value} | {row.reference} |",
                      file=sys.stderr, flush=True)
        except Exception as e:  # noqa: BLE001 (every failure becomes a row)
            traceback.print_exc(file=sys.stderr)
            self.rows.append(Row(f"{key}@{latency}", key + " " + name + tag,
                                 error=str(e).strip().splitlines()[0][:200]))
        print(f"s3_bench: {name}{tag} took {time.monotonic() - started:.0f} s", file=sys.stderr,
              flush=True)

    # --- 1. propagation ----------------------------------------------------

    def propagation(self, latency):
        s = self.settings
        rows = []
        bucket = self.bucket("prop")
        try:
            a = bucket.host("a", poll="1", latency_ms=latency)
            for poll in s.polls:
                b = bucket.host("b", poll=f"{poll:g}", latency_ms=latency)
                for mode in ("lookup", "listdir"):
                    lags = []
                    for _ in range(s.propagation_samples[poll]):
                        time.sleep(random.uniform(0, poll))  # any phase of B's poll
                        i = next(self.ids)
                        relative = f"posts/{i}/photos/0/original.png"
                        write_file(a.path(relative), png(8, 8, seed=i))
                        started = time.perf_counter()
                        if mode == "lookup":
                            wait_until("B's lookup", lambda: os.path.exists(b.path(relative)),
                                       3 * poll + 10)
                        else:
                            wait_until("B's listing",
                                       lambda: str(i) in os.listdir(b.path("posts")),
                                       3 * poll + 10, interval=0.005)
                        lags.append(time.perf_counter() - started)
                    if mode == "lookup":
                        figure = (f"1a. propagation A→B, s3_poll={poll:g} s, B stats the new "
                                  "path (sync-on-miss)")
                        reference = "SCALEOUT §7: none (B's miss catches up first)"
                    else:
                        figure = (f"1b. propagation A→B, s3_poll={poll:g} s, B polls "
                                  "listdir(posts) (no sync)")
                        reference = {0.1: "SCALEOUT §7, P=0.05 s: p50 34 ms, p95 68 ms",
                                     1.0: "SCALEOUT §7, P=1 s: p50 542 ms, p95 962 ms"}.get(
                                         poll, f"≤ P = {poll:g} s + one GET")
                    rows.append(Row(f"1{mode}{poll}", figure, p50_p95(lags), reference))
                b.stop()
        finally:
            bucket.close()
        return rows

    # --- 2. uploads against writers ------------------------------------------

    def uploads(self, latency):
        s = self.settings
        rows = []
        bucket = self.bucket("up")
        try:
            a = bucket.host("a", poll="1", latency_ms=latency)
            b = bucket.host("b", poll="1", latency_ms=latency)
            uuid_of = {}
            for on_a, on_b in s.writer_configs:
                writers = [a] * on_a + [b] * on_b
                per_writer = max(2, s.uploads_per_config // len(writers))
                head0 = bucket.head()
                before = {"a": a.counts(), "b": b.counts()}
                latencies, errors = [], []
                lock = threading.Lock()

                def writer(host, ids):
                    for i in ids:
                        data = png(9, 7, seed=100000 + i)
                        started = time.perf_counter()
                        try:
                            write_file(host.path(f"posts/{i}/photos/0/original.png"), data)
                        except OSError as e:
                            with lock:
                                errors.append(str(e))
                            continue
                        with lock:
                            latencies.append(time.perf_counter() - started)
                work = [(host, [next(self.ids) for _ in range(per_writer)]) for host in writers]
                threads = [threading.Thread(target=writer, args=w) for w in work]
                started = time.perf_counter()
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                wall = time.perf_counter() - started
                if errors:
                    raise RuntimeError(f"{len(errors)} uploads failed: {errors[0]}")
                head1 = bucket.head()
                entries = bucket.entries(head0, head1)
                ops = sum(len(e["ops"]) for e in entries)
                hosts = collections.Counter(e["host"] for e in entries)
                if on_b == 0 and hosts:
                    uuid_of.setdefault("a", hosts.most_common(1)[0][0])
                delta = {"a": a.counts() - before["a"], "b": b.counts() - before["b"]}
                log_puts = sum(by_type(d, prefix="log")["PUT"] for d in delta.values())
                lost = sum(by_type(d, prefix="log", status=412)["PUT"] for d in delta.values())
                label = f"{on_a} on A" + (f" + {on_b} on B" if on_b else "")
                n = len(latencies)
                value = (f"p50 {ms(median(latencies))} ms, p99 {ms(percentile(latencies, 0.99))} "
                         f"ms; {n / wall:.0f} uploads/s, {len(entries) / wall:.0f} entries/s, "
                         f"{ops / max(1, len(entries)):.2f} ops/entry (n={n})")
                reference = {1: "SCALEOUT §2 prototype: 1 writer p50 8.4 ms, 109 commits/s",
                             16: "SCALEOUT §2 prototype, 3 hosts group commit at 300 ops/s: "
                                 "3.4 ops/entry, p50 31–188 ms, p99 0.6–1.6 s"}.get(
                                     len(writers), "")
                rows.append(Row(f"2w{on_a}+{on_b}", f"2. upload close() latency, writers {label}",
                                value, reference))
                if on_b:
                    from_a = hosts.get(uuid_of.get("a"), 0)
                    rows.append(Row(f"2r{on_a}+{on_b}", f"2. lost races, writers {label}",
                                    f"{lost} of {log_puts} log PUTs got 412 "
                                    f"({100 * lost / max(1, log_puts):.1f} %); entries from A "
                                    f"{from_a}, from B {len(entries) - from_a}",
                                    "SCALEOUT §2 prototype, 3 writers: up to 41 retries each"))
                a.mount.settle()
                b.mount.settle()
        finally:
            bucket.close()
        return rows

    # --- 3 and 4. cold thumbnails, requests per operation --------------------

    def thumbnails(self, latency):
        s = self.settings
        rows = []
        bucket = self.bucket("thumb")
        width, height = s.image_size
        thumb_width = 300
        try:
            # s3_poll=10: few tail GETs inside the windows counted
            a = bucket.host("a", poll="10", latency_ms=latency)
            b = bucket.host("b", poll="10", latency_ms=latency)
            local, remote, original = [], [], []
            made, fetched, first_reads, big_uploads = (collections.Counter() for _ in range(4))
            size = 0
            for r in range(s.thumb_rounds):
                source = variant(self.image(), os.path.join(bucket.root, f"v{r}.jpg"),
                                 f"{latency}-{r}-{secrets.token_hex(4)}")
                data = read_bytes(source)
                size = len(data)
                i = next(self.ids)
                relative = f"posts/{i}/photos/0/original.jpg"
                thumb = f"posts/{i}/photos/0/thumb/{thumb_width}.jpg"
                before = a.counts()
                write_file(a.path(relative), data)
                a.mount.settle()
                big_uploads += a.counts() - before
                os.stat(b.path(relative))  # B applies the entry (sync-on-miss)
                b.mount.settle()
                before = a.counts()
                started = time.perf_counter()
                read_bytes(a.path(thumb))
                local.append(time.perf_counter() - started)
                made += a.counts() - before
                before = b.counts()
                started = time.perf_counter()
                read_bytes(b.path(thumb))
                remote.append(time.perf_counter() - started)
                fetched += b.counts() - before
                before = b.counts()
                started = time.perf_counter()
                read_bytes(b.path(relative))
                original.append(time.perf_counter() - started)
                first_reads += b.counts() - before
            n = s.thumb_rounds
            what = f"{width}×{height} JPEG ({size_text(size)})"
            rows.append(Row("3remote", f"3. cold thumbnail {thumb_width}.jpg of a {what} on B: "
                            "GET of A's t/ object", f"median {ms(median(remote))} ms (n={n})",
                            f"local first resize on A: median {ms(median(local))} ms; "
                            "SCALEOUT §6: ≈ 5 ms vs 130–700 ms"))
            rows.append(Row("3local", f"3. cold thumbnail {thumb_width}.jpg on A: local first "
                            "resize (+ PUT t/)", f"median {ms(median(local))} ms (n={n})"))
            rows.append(Row("3orig", f"3. first read of the original on B (GET b/, {what})",
                            f"median {ms(median(original))} ms (n={n})"))
            # Small uploads, one writer, their eager thumbnails included.
            before = a.counts()
            for _ in range(s.request_uploads):
                i = next(self.ids)
                write_file(a.path(f"posts/{i}/photos/0/original.png"), png(10, 9, seed=i))
            a.mount.settle()
            small = a.counts() - before
            k = s.request_uploads
            rows.append(Row("4upload", "4. S3 requests per upload (tiny PNG, 1 writer, eager "
                            "thumbnails included), on A", type_text(small, k),
                            f"${dollars_per_1000(small, k):.4f} per 1,000 at AWS prices"))
            rows.append(Row("4bigupload", f"4. S3 requests per upload of the {what}, on A",
                            type_text(big_uploads, n),
                            f"${dollars_per_1000(big_uploads, n):.4f} per 1,000"))
            rows.append(Row("4origread", "4. S3 requests per remote first read of an original, "
                            "on B", type_text(first_reads, n),
                            f"${dollars_per_1000(first_reads, n):.4f} per 1,000"))
            rows.append(Row("4made", "4. S3 requests per thumbnail made (resize, PUT t/), on A",
                            type_text(made, n), f"${dollars_per_1000(made, n):.4f} per 1,000"))
            rows.append(Row("4fetched", "4. S3 requests per thumbnail fetched from t/, on B",
                            type_text(fetched, n),
                            f"${dollars_per_1000(fetched, n):.4f} per 1,000"))
            a.stop()
            b.stop()
            # Idle, at the default s3_poll and s3_heartbeat.
            a = bucket.host("a", poll="1", latency_ms=latency)
            b = bucket.host("b", poll="1", latency_ms=latency)
            time.sleep(1)
            before = [a.counts(), b.counts()]
            time.sleep(s.idle_seconds)
            idle = (a.counts() - before[0]) + (b.counts() - before[1])
            per_minute = 2 * s.idle_seconds / 60
            rows.append(Row("4idle", f"4. idle S3 requests per host per minute (s3_poll=1, "
                            f"s3_heartbeat=60; {s.idle_seconds} s, 2 hosts)",
                            type_text(idle, per_minute),
                            "SCALEOUT §7: 1 GET/s + a heartbeat PUT and a gap-check LIST per "
                            f"minute; ${dollars_per_1000(idle, per_minute) * 60 * 24 * 30 / 1000:.2f}"
                            " per host-month"))
        finally:
            bucket.close()
        return rows

    # --- 5. rebuilding a fresh host ------------------------------------------

    def load(self, host, first, last):
        """Sets posts/first..last, one tiny PNG's bytes each (one blob: every
        upload after the first is a log op only), by parallel writers."""
        data = png(12, 10, seed=424242)
        ids = list(range(first, last + 1))
        chunks = [ids[k::self.settings.load_writers] for k in range(self.settings.load_writers)]
        errors = []

        def writer(chunk):
            for i in chunk:
                try:
                    write_file(host.path(f"posts/{i}/photos/0/original.png"), data)
                except OSError as e:
                    errors.append(f"posts/{i}: {e}")
                    return
        threads = [threading.Thread(target=writer, args=(c,)) for c in chunks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise RuntimeError(f"loading: {errors[0]}")

    def fresh_host(self, bucket, sets, latency, name):
        """(seconds to mount ready, to an `ls posts` of every set, the
        snapshot it loaded or None, its requests) of a new host C."""
        c = bucket.host(name, poll="10", latency_ms=latency, start=False)
        started = time.perf_counter()
        c.start(timeout=1800)
        mounted = time.perf_counter() - started
        wait_until(f"C lists {sets} sets", lambda: len(os.listdir(c.path("posts"))) >= sets,
                   1800, interval=0.05)
        listed = time.perf_counter() - started
        found = re.search(r"state loaded from (snap/\d{20}/)", c.mount.read_log())
        counts = c.counts()
        c.stop()
        shutil.rmtree(c.mount.root, ignore_errors=True)
        return mounted, listed, found.group(1) if found else None, counts

    def rebuild(self, latencies):
        s = self.settings
        rows = []
        bucket = self.bucket("rebuild")
        loaded = 0
        try:
            a = bucket.host("a", poll="10")
            for stage, sets in enumerate(s.rebuild_sets):
                started = time.perf_counter()
                self.load(a, loaded + 1, sets)
                took = time.perf_counter() - started
                head = bucket.head()
                rows.append(Row(f"5load{sets}", f"5. loading sets {loaded + 1}–{sets} through A "
                                f"({s.load_writers} writers, one blob)",
                                f"{took:.1f} s: {(sets - loaded) / took:.0f} sets/s, log at "
                                f"seq {head}"))
                loaded = sets
                if stage == 0:
                    for latency in latencies:
                        mounted, listed, snap, counts = self.fresh_host(
                            bucket, sets, latency, f"c-replay-{latency}")
                        rows.append(Row(f"5replay{sets}@{latency}",
                                        f"5. rebuild of a fresh host C, {sets} sets, replaying "
                                        f"log/1–{head} (no snapshot)"
                                        + (f" [{latency} ms]" if latency else ""),
                                        f"mount {mounted:.1f} s, ls of posts {listed:.1f} s; "
                                        + type_text(counts)
                                        + ("" if snap is None else f" (loaded {snap}!)")))
                a.stop()
                a = bucket.host("a", poll="10", extra=("s3_maintain", "s3_snapshot_entries=1"))
                wait_until("a snapshot at the head", lambda: head in bucket.snapshot_seqs(),
                           600, interval=0.5)
                wrote = WROTE_SNAPSHOT.findall(a.mount.read_log())
                a.stop()
                snapshot = (f"{wrote[-1][0]}: {wrote[-1][1]} records, {int(wrote[-1][2]) / 1e6:.1f}"
                            f" MB in {wrote[-1][3]} parts, written in {wrote[-1][4]} ms"
                            if wrote else "")
                for latency in latencies:
                    mounted, listed, snap, counts = self.fresh_host(bucket, sets, latency,
                                                                    f"c-snap-{latency}-{sets}")
                    rows.append(Row(f"5snap{sets}@{latency}",
                                    f"5. rebuild of a fresh host C, {sets} sets, from the "
                                    "snapshot" + (f" [{latency} ms]" if latency else ""),
                                    f"mount {mounted:.1f} s, ls of posts {listed:.1f} s; "
                                    + type_text(counts)
                                    + (f" (loaded {snap})" if snap else " (no snapshot loaded!)"),
                                    snapshot))
                if stage + 1 < len(s.rebuild_sets):
                    a = bucket.host("a", poll="10")
        finally:
            bucket.close()
        return rows


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--daemon", required=True, help="the imageattachfs binary")
    parser.add_argument("--latency-ms", default="",
                        help="comma-separated latencies (ms per request, at the proxies) to run "
                             "again with, besides 0 (e.g. 20)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, under a minute (CI)")
    parser.add_argument("--rebuild-sets", default="",
                        help="comma-separated set counts for figure 5 (default 10000,30000; "
                             "quick: 40)")
    parser.add_argument("--only", default="",
                        help="comma-separated figures: propagation,uploads,thumbnails,rebuild")
    parser.add_argument("--workdir", help="where stores, mounts and RGW go (default: $TMPDIR)")
    return parser.parse_args()


def rgw_state(workdir):
    """(state, whether started here), or (None, reason)."""
    path = os.environ.get("IAFS_RGW_STATE", "")
    if path:
        try:
            with open(path) as f:
                state = json.load(f)
        except (OSError, ValueError) as e:
            return None, f"state file {path}: {e}"
        if state.get("status") != "running":
            return None, state.get("reason", f"RGW fixture {state.get('status')!r}")
        return state, False
    missing = rgw.missing_binaries()
    if missing:
        return None, "ceph not installed (missing " + ", ".join(missing) + ")"
    directory = os.path.join(workdir, "rgw")
    result = subprocess.run([sys.executable, os.path.join(INTEGRATION, "rgw_fixture.py"), "start",
                             directory], capture_output=True, text=True)
    print(result.stdout.strip(), result.stderr.strip(), file=sys.stderr)
    try:
        with open(os.path.join(directory, "state.json")) as f:
            state = json.load(f)
    except (OSError, ValueError):
        state = {}
    if state.get("status") != "running":
        return None, state.get("reason", "RGW did not start")
    return state, True


def stop_rgw(workdir):
    subprocess.run([sys.executable, os.path.join(INTEGRATION, "rgw_fixture.py"), "stop",
                    os.path.join(workdir, "rgw")], capture_output=True, text=True)


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores ({model}), Linux {platform.release()}"


def main():
    args = arguments()
    latencies = [0] + [int(x) for x in args.latency_ms.split(",") if x.strip() and int(x)]
    rebuild_sets = tuple(int(x) for x in args.rebuild_sets.split(",") if x.strip())
    settings = Settings(args.quick, rebuild_sets)
    only = set(filter(None, args.only.split(",")))
    harness.BINARY = os.path.abspath(args.daemon)
    os.environ["IAFS_BINARY"] = harness.BINARY
    if shutil.which("vips") is None:
        raise SystemExit("s3_bench: vips not installed: run contrib/install-deps.sh")
    workdir = tempfile.mkdtemp(prefix="iafs-s3bench-", dir=args.workdir)
    started = time.monotonic()
    load_before = os.getloadavg()
    state, own = rgw_state(workdir)
    if state is None:
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"s3_bench: skipped: no RGW: {own}")
        return SKIP
    bench = Bench(args, settings, state, own, workdir)
    try:
        for latency in latencies:
            for name, key, fn in (("propagation", "1.", bench.propagation),
                                  ("uploads", "2.", bench.uploads),
                                  ("thumbnails", "3./4.", bench.thumbnails)):
                if not only or name in only:
                    bench.group(name, key, latency, fn)
        if not only or "rebuild" in only:
            bench.group("rebuild", "5.", 0, lambda _: bench.rebuild(latencies))
    finally:
        if own:
            stop_rgw(workdir)
        shutil.rmtree(workdir, ignore_errors=True)
    # A figure at a latency is referenced to the same figure at 0 ms.
    zero = {row.key: row for row in bench.rows if "ms]" not in row.figure}
    for row in bench.rows:
        if "ms]" in row.figure and not row.error and row.key in zero:
            base = zero[row.key]
            if not row.key.startswith("5"):
                row.reference = f"0 ms: {base.value}"
    for row in bench.rows:
        if "@" in row.key and not row.key.endswith("@0") and not row.error:
            base = zero.get(row.key.rsplit("@", 1)[0] + "@0")
            if base is not None:
                row.reference = "0 ms: " + base.value.split(";")[0]
    quick = " (quick: sizes too small to mean anything)" if args.quick else ""
    print(f"\nImageAttachFS S3 bench{quick}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
          f"{machine()}; Ceph RGW (memstore) on loopback, hosts and clients on the same machine; "
          f"latency at the proxies {', '.join(f'{x} ms' for x in latencies)}; "
          f"{time.monotonic() - started:.0f} s; load average {load_before[0]:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end\n")
    print("| figure | value | reference |\n|---|---|---|")
    for row in bench.rows:
        value = f"error: {row.error}" if row.error else row.value
        print(f"| {row.figure} | {value} | {row.reference} |")
    failed = [row.figure for row in bench.rows if row.error]
    if failed:
        print(f"\ns3_bench: not measured: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
