"""Figure 7: originals uploaded by `cp` (one process per file, as an
application's uploads) into the mount, which commits each durably at close,
against `cp` + fsync of the file and its directory into a plain directory on
the same disk (the same durability)."""

import os
import subprocess
import time

from benchlib import Row, at_least, drop_tree, median, variant


def _cp_all(pairs, fsync):
    start = time.perf_counter()
    for source, target in pairs:
        subprocess.run(["cp", source, target], check=True)
        if fsync:
            fd = os.open(target, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            fd = os.open(os.path.dirname(target), os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    return time.perf_counter() - start


def ingest(daemon, images, settings, workdir):
    count = settings.ingest_files
    mount_rates, plain_rates, nbytes = [], [], 0
    for r in range(settings.ingest_rounds):
        # New bytes every round: the store deduplicates what it has seen.
        sources = os.path.join(workdir, f"ingest-src-{r}")
        plain = os.path.join(workdir, f"ingest-plain-{r}")
        os.makedirs(sources)
        files = [variant(images.medium(False), os.path.join(sources, f"{i}.jpg"),
                         f"ingest {r} {i}") for i in range(count)]
        nbytes = sum(os.path.getsize(f) for f in files)
        into_mount = [(f, daemon.path(f"posts/ingest-{r}/photos/{i}/original.jpg"))
                      for i, f in enumerate(files)]
        into_plain = [(f, os.path.join(plain, f"posts/ingest-{r}/photos/{i}/original.jpg"))
                      for i, f in enumerate(files)]
        for _, target in into_plain:  # the mount needs no mkdir; a plain directory does
            os.makedirs(os.path.dirname(target))
        os.sync()  # the sources' writeback must not land inside a timed run
        mount_rates.append(nbytes / _cp_all(into_mount, fsync=False) / 1e6)
        os.sync()
        plain_rates.append(nbytes / _cp_all(into_plain, fsync=True) / 1e6)
        drop_tree(sources)
        drop_tree(plain)
    m, p = median(mount_rates), median(plain_rates)
    return Row(f"7. ingest: {count:,} originals of {nbytes / count / 1e6:.2f} MB by cp",
               measured=f"{m:.1f} MB/s ({m * 1e6 / (nbytes / count):.0f} files/s)",
               reference=f"{p:.1f} MB/s cp + fsync plain dir", ratio=m / p, target="≥ 0.5×",
               meets=at_least(0.5), mount="main mount")
