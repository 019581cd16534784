#!/usr/bin/env python3
"""The benchmarks of issue 11, each a ratio against a reference measured in
the same run (medians of several runs), printed as one table. Run it through
tests/bench/run.sh, which builds what it needs; `--smoke` (seconds, tiny
sizes) proves that every figure can be measured and says nothing of speed.

Exit status: 0 when every figure was measured (met or missed), 1 when one
could not be."""

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

import fig_images
import fig_ingest
import fig_serving
import web
from benchlib import Daemon, Row, Settings, supports_serve
from images import Images

# Every figure a run must have measured, by the number it starts with.
FIGURES = ("1.", "1/3.", "2.", "4.", "5.", "6.", "7.")


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="seconds, tiny sizes (CI)")
    parser.add_argument("--daemon", required=True, help="the imageattachfs binary")
    parser.add_argument("--bench-read", required=True)
    parser.add_argument("--bench-resize", required=True)
    parser.add_argument("--images", help="cache of generated images (default: beside bench_read)")
    parser.add_argument("--workdir", help="where stores, mounts and plain directories go "
                                          "(default: a new directory in $TMPDIR)")
    parser.add_argument("--mount", choices=("auto", "main", "serve"), default="auto",
                        help="what warm reads and nginx read: the serve mount when the "
                             "daemon has one (auto), or the given one")
    parser.add_argument("--only", default="", help="comma-separated groups to run: "
                        "reads,nginx,herd,cold,ingest,memory (default: all)")
    return parser.parse_args()


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        memory = int(f.readline().split()[1]) * 1024
    return (f"{os.cpu_count()} cores ({model}), {memory / 2**30:.0f} GiB RAM, "
            f"Linux {platform.release()}")


def filesystem(path):
    result = subprocess.run(["df", "--output=source,fstype", path], capture_output=True,
                            text=True)
    return " ".join(result.stdout.split()[2:]) if result.returncode == 0 else "?"


def table(rows):
    lines = ["| figure | measured | reference | ratio | target | verdict | read on |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        measured = f"error: {row.error}" if row.error else row.measured
        lines.append(f"| {row.figure} | {measured} | {row.reference} | {row.ratio_text()} | "
                     f"{row.target} | {row.verdict()} | {row.mount} |")
    return "\n".join(lines)


class Runner:
    """Runs figure groups, turning a group that fails into a FAILED row."""

    def __init__(self, only):
        self.only = set(filter(None, only.split(",")))
        self.rows = []

    def wanted(self, group):
        return not self.only or group in self.only

    def group(self, name, figure, fn):
        if not self.wanted(name):
            return
        started = time.monotonic()
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        try:
            result = fn()
            self.rows += result if isinstance(result, list) else [result]
        except Exception as e:  # noqa: BLE001 (every failure becomes a row)
            traceback.print_exc(file=sys.stderr)
            self.rows.append(Row(figure, error=str(e).strip().splitlines()[0][:200]))
        print(f"bench: {name} took {time.monotonic() - started:.0f} s", file=sys.stderr,
              flush=True)


def main():
    args = arguments()
    settings = Settings(args.smoke)
    web.require_tools()
    if shutil.which("vips") is None:
        raise SystemExit("bench: vips not installed: run contrib/install-deps.sh")
    images = Images(args.images or os.path.join(os.path.dirname(os.path.abspath(args.bench_read)),
                                                "bench-images"), args.smoke)
    workdir = tempfile.mkdtemp(prefix="iafs-bench-", dir=args.workdir)
    serve = supports_serve(args.daemon)
    if args.mount == "serve" and not serve:
        raise SystemExit("bench: this imageattachfs has no -o serve=PATH")
    use_serve = serve and args.mount != "main"
    runner = Runner(args.only)
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    try:
        with Daemon(args.daemon, os.path.join(workdir, "daemon"), use_serve=use_serve) as daemon:
            print(f"bench: warm reads and nginx on the {daemon.web_name}"
                  f"{'' if serve else ' (this imageattachfs has no -o serve=PATH)'}",
                  file=sys.stderr, flush=True)
            library = None
            if runner.wanted("reads") or runner.wanted("nginx") or runner.wanted("cold"):
                library = fig_serving.Library(daemon, images, settings, workdir)
            runner.group("reads", "1. warm reads",
                         lambda: fig_serving.warm_reads(args.bench_read, library, settings))
            runner.group("nginx", "2. nginx warm thumbnails",
                         lambda: fig_serving.nginx_throughput(library, settings, workdir))
            runner.group("herd", "5. herd",
                         lambda: fig_images.herd(args.bench_read, daemon, images, settings,
                                                 workdir))
            runner.group("cold", "4. cold throughput",
                         lambda: cold_figures(args, daemon, images, library, settings, workdir))
            runner.group("ingest", "7. ingest",
                         lambda: fig_ingest.ingest(daemon, images, settings, workdir))
        runner.group("memory", "6. memory",
                     lambda: fig_images.memory(args.daemon, images, settings, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    about = [f"{time.strftime('%Y-%m-%d')}: {machine()}",
             f"work directory on {filesystem(args.workdir or tempfile.gettempdir())}",
             f"nginx {web.nginx_version()}", f"images from {images.source_name}",
             f"warm reads and nginx on the {'serve' if use_serve else 'main'} mount",
             f"{time.monotonic() - started:.0f} s",
             f"load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"]
    smoke = " (smoke: sizes too small to mean anything)" if args.smoke else ""
    print(f"\nImageAttachFS bench{smoke}, " + "; ".join(about) + "\n")
    print(table(runner.rows))
    failed = [row.figure for row in runner.rows if row.error]
    missing = [f for f in FIGURES if not runner.only and
               not any(row.figure.startswith(f) for row in runner.rows)]
    if failed or missing:
        print(f"\nbench: not measured: {', '.join(failed + missing)}", file=sys.stderr)
        return 1
    return 0


def cold_figures(args, daemon, images, library, settings, workdir):
    cold = fig_images.ColdSets(daemon, images, settings, workdir)
    with web.Nginx(os.path.join(workdir, "nginx-cold"), daemon.web, True) as nginx:
        rows = fig_images.cold_throughput(args.bench_resize, daemon, cold, nginx, settings)
        rows.append(fig_images.burst(daemon, cold, nginx, library.thumbs, settings))
    return rows


if __name__ == "__main__":
    sys.exit(main())
