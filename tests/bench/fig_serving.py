"""Figures 1 and 3 (warm open+read+close through the mount web servers are
told to serve, 1 and 8 readers, against the same bytes in a plain directory
on the same disk) and figure 2 (nginx, sendfile, wrk with 64 connections,
open_file_cache off and on)."""

import os

import web
from benchlib import Row, at_least, cp, key_values, median, run, size_text, variant

THUMB = "thumb/300.jpg"


class Library:
    """Image sets uploaded once for the serving figures, and the same bytes
    in a plain directory: thumbnails (one per set) and originals."""

    def __init__(self, daemon, images, settings, workdir):
        self.daemon = daemon
        self.plain = os.path.join(workdir, "plain")
        self.sets = [f"posts/1/photos/{i}" for i in range(settings.read_sets)]
        photo = images.photo()
        sources = os.path.join(workdir, "sources")
        os.makedirs(sources, exist_ok=True)
        for i, rel in enumerate(self.sets):
            if i < settings.read_originals:
                source = variant(photo, os.path.join(sources, f"{i}.jpg"), f"serving {i}")
            else:  # the thumbnails only need some original; the small upload is quicker
                source = variant(images.small(), os.path.join(sources, f"{i}.jpg"), f"serving {i}")
            cp(source, daemon.path(f"{rel}/original.jpg"))
            os.makedirs(os.path.join(self.plain, rel, "thumb"), exist_ok=True)
            cp(daemon.path(f"{rel}/{THUMB}"), os.path.join(self.plain, rel, THUMB))
            cp(daemon.path(f"{rel}/original.jpg"), os.path.join(self.plain, rel, "original.jpg"))
        self.thumbs = [f"{rel}/{THUMB}" for rel in self.sets]
        self.originals = [f"{rel}/original.jpg" for rel in self.sets[:settings.read_originals]]
        self.thumb_bytes = os.path.getsize(os.path.join(self.plain, self.thumbs[0]))
        self.original_bytes = os.path.getsize(os.path.join(self.plain, self.originals[0]))


def read_ops(bench_read, threads, seconds, files):
    out = run(bench_read, "read", threads, seconds, *files).stdout
    return key_values(out)["ops_per_s"]


def warm_reads(bench_read, library, settings):
    rows = []
    daemon = library.daemon
    for kind, rels, nbytes, figure in (("thumbnail", library.thumbs, library.thumb_bytes, "1"),
                                        ("original", library.originals, library.original_bytes,
                                         "1/3")):
        mounted = [daemon.web_path(rel) for rel in rels]
        plain = [os.path.join(library.plain, rel) for rel in rels]
        for files in (mounted, plain):  # warm both page caches (and the kernel's lookups)
            read_ops(bench_read, 1, 0.05, files)
        for threads in (1, 8):
            mount_runs, plain_runs = [], []
            for _ in range(settings.rounds):
                mount_runs.append(read_ops(bench_read, threads, settings.read_seconds, mounted))
                plain_runs.append(read_ops(bench_read, threads, settings.read_seconds, plain))
            m, p = median(mount_runs), median(plain_runs)
            rows.append(Row(f"{figure}. warm open+read+close, {size_text(nbytes)} {kind}, "
                            f"{threads} reader{'s' if threads > 1 else ''}",
                            measured=f"{m:,.0f} ops/s", reference=f"{p:,.0f} ops/s plain dir",
                            ratio=m / p, target="≥ 0.9×", meets=at_least(0.9),
                            mount=daemon.web_name))
    return rows


def nginx_throughput(library, settings, workdir):
    rows = []
    daemon = library.daemon
    for cache in (False, True):
        with web.Nginx(os.path.join(workdir, f"nginx-mount-{cache}"), daemon.web, cache) as on_mount, \
                web.Nginx(os.path.join(workdir, f"nginx-plain-{cache}"), library.plain, cache) as on_plain:
            for server in (on_mount, on_plain):  # warm up, and prove that every path answers 200
                web.wrk(server, library.thumbs, 1, server.dir)
            mount_runs, plain_runs = [], []
            for _ in range(settings.wrk_rounds):
                mount_runs.append(web.wrk(on_mount, library.thumbs, settings.wrk_seconds,
                                          on_mount.dir))
                plain_runs.append(web.wrk(on_plain, library.thumbs, settings.wrk_seconds,
                                          on_plain.dir))
        m, p = median(mount_runs), median(plain_runs)
        rows.append(Row(f"2. nginx, warm 300 px thumbnail, open_file_cache {'on' if cache else 'off'}",
                        measured=f"{m:,.0f} req/s", reference=f"{p:,.0f} req/s plain dir",
                        ratio=m / p, target="≥ 0.9×", meets=at_least(0.9), mount=daemon.web_name))
    return rows
