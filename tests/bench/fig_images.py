"""Figures that make thumbnails: 4 (cold throughput through nginx against
the daemon's resize in-process, and warm latency during a burst of cold
requests), 5 (the herd: 64 first reads of one thumbnail) and 6 (memory)."""

import os
import threading
import time

import web
from benchlib import (Daemon, Row, at_least, at_most, cp, key_values, median, percentile, run,
                      variant)

MADE = "imageattachfs_thumbnails_made_total"


def herd(bench_read, daemon, images, settings, workdir):
    counts = []
    for r in range(settings.herd_rounds):
        source = variant(images.medium(False), os.path.join(workdir, f"herd-{r}.jpg"), f"herd {r}")
        cp(source, daemon.path(f"posts/herd/photos/{r}/original.jpg"))
        # The set's lqip.webp, made after the commit, is a thumbnail made too:
        # counted before the herd, not in it.
        thumb_dir, deadline = daemon.path(f"posts/herd/photos/{r}/thumb"), time.monotonic() + 30
        while "lqip.webp" not in os.listdir(thumb_dir) and time.monotonic() < deadline:
            time.sleep(0.02)
        before = daemon.metric(MADE)
        out = run(bench_read, "herd", settings.herd_readers,
                  daemon.web_path(f"posts/herd/photos/{r}/thumb/400.jpg")).stdout
        after = daemon.metric(MADE)
        result = key_values(out)
        if result["failed"] or result["distinct"] != 1:
            raise RuntimeError(f"herd: {out.strip()}")
        counts.append(None if before is None or after is None else after - before)
    readers = settings.herd_readers
    if None in counts:
        return Row(f"5. herd: {readers} concurrent first reads of one thumbnail",
                   measured=f"{readers}/{readers} identical bytes (runs: {len(counts)})",
                   reference="-", ratio="n/a (no metrics)", target="1 resize, identical bytes",
                   mount=daemon.web_name)
    worst = max(counts)
    return Row(f"5. herd: {readers} concurrent first reads of one thumbnail",
               measured=f"resizes per run: {', '.join(f'{c:g}' for c in counts)}; "
                        f"{readers}/{readers} identical bytes",
               reference="-", ratio=f"{worst:g} resize{'s' if worst != 1 else ''}",
               target="1 resize, identical bytes", met=all(c == 1 for c in counts),
               mount=daemon.web_name)


def _fetch_all(port, paths, concurrency):
    """GETs every path, `concurrency` at a time; (seconds, latencies)."""
    latencies, lock, errors = [], threading.Lock(), []
    jobs = iter(paths)

    def worker():
        client = web.Client(port)
        try:
            for path in iter(lambda: next(jobs, None), None):
                elapsed, _ = client.get(path)
                with lock:
                    latencies.append(elapsed)
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(e)
        finally:
            client.close()

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - start, latencies


class ColdSets:
    """Originals of ~2,000 px (baseline and progressive JPEG) uploaded for the
    cold figures; `paths(kind, first_width, count)` names thumbnails nobody
    asked for yet (job j: set j % n, width first_width + j // n)."""

    def __init__(self, daemon, images, settings, workdir):
        self.sources = {}
        for kind, progressive in (("baseline", False), ("progressive", True)):
            files = []
            for i in range(settings.cold_sets):
                files.append(variant(images.medium(progressive),
                                     os.path.join(workdir, f"cold-{kind}-{i}.jpg"), f"cold {i}"))
                cp(files[-1], daemon.path(f"posts/cold-{kind}/photos/{i}/original.jpg"))
            self.sources[kind] = files

    def paths(self, kind, first_width, count):
        n = len(self.sources[kind])
        return [f"posts/cold-{kind}/photos/{j % n}/thumb/{first_width + j // n}.jpg"
                for j in range(count)]


def cold_throughput(bench_resize, daemon, cold, nginx, settings):
    rows = []
    cores = os.cpu_count() or 2
    count = settings.cold_requests
    for kind in ("baseline", "progressive"):
        files = cold.sources[kind]
        step = -(-count // len(files))
        mount_runs, ref_runs, p50s, p95s, ref_p50s, ref_p95s = [], [], [], [], [], []
        for r in range(settings.herd_rounds):
            first = 512 + r * step
            seconds, latencies = _fetch_all(nginx.port, cold.paths(kind, first, count), 2 * cores)
            mount_runs.append(count / seconds)
            p50s.append(percentile(latencies, 0.5) * 1000)
            p95s.append(percentile(latencies, 0.95) * 1000)
            ref = key_values(run(bench_resize, cores, first, count, 85, *files).stdout)
            ref_runs.append(ref["per_s"])
            ref_p50s.append(ref["p50_ms"])
            ref_p95s.append(ref["p95_ms"])
        m, p = median(mount_runs), median(ref_runs)
        rows.append(Row(f"4. cold 512 px thumbnails of ~2,000 px {kind} JPEGs via nginx, {cores} cores",
                        measured=f"{m:.1f}/s, p50 {median(p50s):.0f} ms, p95 {median(p95s):.0f} ms",
                        reference=f"{p:.1f}/s in-process, p50 {median(ref_p50s):.0f} ms, "
                                  f"p95 {median(ref_p95s):.0f} ms",
                        ratio=m / p, target="≥ 0.85×", meets=at_least(0.85),
                        mount=daemon.web_name))
    return rows


def burst(daemon, cold, nginx, warm_paths, settings):
    """p95 of sequential warm requests while `burst_requests` clients keep
    asking for new thumbnails, against their p95 without."""
    probe = web.Client(nginx.port)
    try:
        for path in warm_paths:
            probe.get(path)
        quiet = [probe.get(warm_paths[i % len(warm_paths)])[0]
                 for i in range(settings.warm_probe_requests)]
        # Widths below the cold figure's (512 and up): thumbnails nobody asked for.
        jobs = iter([p for kind in cold.sources for p in cold.paths(kind, 100, 412 * len(
            cold.sources[kind]))])
        stop, errors, made = threading.Event(), [], []

        def burster():
            client = web.Client(nginx.port)
            try:
                while not stop.is_set():
                    path = next(jobs, None)
                    if path is None:
                        break
                    client.get(path)
                    made.append(1)
            except Exception as e:  # noqa: BLE001 (reported below)
                errors.append(e)
            finally:
                client.close()

        threads = [threading.Thread(target=burster) for _ in range(settings.burst_requests)]
        for t in threads:
            t.start()
        busy, deadline = [], time.monotonic() + 60
        while len(busy) < settings.warm_probe_requests and time.monotonic() < deadline:
            busy.append(probe.get(warm_paths[len(busy) % len(warm_paths)])[0])
        stop.set()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
    finally:
        probe.close()
    q, b = percentile(quiet, 0.95) * 1000, percentile(busy, 0.95) * 1000
    return Row(f"4. warm p95 during a burst of {settings.burst_requests} cold requests",
               measured=f"p95 {b:.2f} ms ({len(made)} cold made meanwhile)",
               reference=f"p95 {q:.2f} ms without the burst", ratio=b / q, target="≤ 5×",
               meets=at_most(5), mount=daemon.web_name)


def memory(binary, images, settings, workdir):
    """Peak RSS making thumbnails of a 100 MP JPEG and a 50 MP PNG (schema
    raising max_pixels), and RSS after many thumbnail generations against
    after few."""
    rows = []
    schema = os.path.join(workdir, "memory-schema.conf")
    with open(schema, "w") as f:
        f.write("[posts.photos]\nmultiple = true\nmax_pixels = 120M\nmax_bytes = 1G\n")
    huge = [images.huge_jpeg(), images.huge_png()]
    with Daemon(binary, os.path.join(workdir, "memory-big"), options=[f"schema={schema}"],
                use_serve=False) as daemon:
        start = daemon.memory()["VmHWM"]
        for i, source in enumerate(huge):
            ext = os.path.splitext(source)[1]
            cp(source, daemon.path(f"posts/1/photos/{i}/original{ext}"))
            with open(daemon.path(f"posts/1/photos/{i}/thumb/300.jpg"), "rb") as f:
                f.read()
        peak = daemon.memory()["VmHWM"]
    mp = [int(run("vipsheader", "-f", "width", p).stdout) *
          int(run("vipsheader", "-f", "height", p).stdout) / 1e6 for p in huge]
    rows.append(Row(f"6. peak RSS, upload + thumbnail of a {mp[0]:.0f} MP JPEG and a "
                    f"{mp[1]:.0f} MP PNG", measured=f"{peak / 1e6:.0f} MB VmHWM",
                    reference=f"{start / 1e6:.0f} MB at start", ratio=f"{peak / 1e6:.0f} MB",
                    target="≤ 300 MB", met=peak <= 300e6, mount="main mount"))
    small = images.small()
    width = int(run("vipsheader", "-f", "width", small).stdout)
    sets = -(-settings.memory_many // width)
    with Daemon(binary, os.path.join(workdir, "memory-many"), use_serve=False) as daemon:
        for i in range(sets):
            cp(variant(small, os.path.join(workdir, f"many-{i}.jpg"), f"many {i}"),
               daemon.path(f"posts/1/photos/{i}/original.jpg"))
        paths = [daemon.path(f"posts/1/photos/{j % sets}/thumb/{1 + j // sets}.jpg")
                 for j in range(settings.memory_many)]
        _read_all(paths[:settings.memory_few])
        few = daemon.memory()
        _read_all(paths[settings.memory_few:])
        many = daemon.memory()
    rows.append(Row(f"6. RSS after {settings.memory_many:,} thumbnail generations vs after "
                    f"{settings.memory_few:,}",
                    measured=f"{many['VmRSS'] / 1e6:.0f} MB (anon {many['RssAnon'] / 1e6:.0f} MB)",
                    reference=f"{few['VmRSS'] / 1e6:.0f} MB (anon {few['RssAnon'] / 1e6:.0f} MB)",
                    ratio=many["VmRSS"] / few["VmRSS"], target="≤ 1.5×", meets=at_most(1.5),
                    mount="main mount"))
    return rows


def _read_all(paths, concurrency=4):
    jobs = iter(paths)
    errors = []

    def worker():
        try:
            for path in iter(lambda: next(jobs, None), None):
                with open(path, "rb") as f:
                    f.read()
        except OSError as e:
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
