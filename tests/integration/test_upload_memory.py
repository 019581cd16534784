"""Validation memory is bounded (issue 10, item 4): 8 concurrent uploads of
49 MP images (7000x7000) keep the daemon's peak RSS (VmHWM) under 600 MB, in
every format: JPEG, PNG, lossy and lossless WebP, GIF, and a mix of them.

The images are of one colour, so they are small files that are quick to make:
decoding one still takes its full 49 MP (lossless WebP and GIF cannot be
decoded a few lines at a time), which is the memory being bounded."""

import os
import struct
import subprocess
import sys

from harness import SANITIZED, MountedTestCase, run

SIDE = 7000  # 49 MP, under the default schema's 50 MP
LIMIT_MB = 600
UPLOADS = 8


def one_colour_gif(path, width, height):
    """A width x height GIF of palette index 0 (white) whose LZW data codes
    every pixel (a GIF with missing data is refused as corrupt). libvips'
    gifsave takes tens of seconds for 49 MP; this takes one."""
    clear, end, first = 4, 5, 6
    out = bytearray()
    acc = nbits = 0

    def put(code, size):
        nonlocal acc, nbits
        acc |= code << nbits
        nbits += size
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8

    # One colour: the table holds runs of 1, 2, 3, ... pixels; each code
    # emitted is the longest run the table holds, and adds one pixel more.
    size, next_code, longest = 3, first, 1
    put(clear, size)
    left = width * height
    while left > 0:
        length = min(longest, left)
        put(0 if length == 1 else first + length - 2, size)
        left -= length
        if left == 0:
            break
        next_code += 1
        longest += 1
        if next_code >= 4094:  # the table is (nearly) full: start again
            put(clear, size)
            size, next_code, longest = 3, first, 1
        elif next_code - 1 == (1 << size) and size < 12:
            size += 1
    put(end, size)
    if nbits:
        out.append(acc & 0xFF)
    data = bytearray(b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0))
    data += b"\xff\xff\xff\x00\x00\x00"  # global colour table: white, black
    data += b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02"
    for at in range(0, len(out), 255):
        block = out[at:at + 255]
        data += bytes([len(block)]) + block
    data += b"\x00\x3b"
    with open(path, "wb") as f:
        f.write(data)


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def reset_peak(pid):
    """Resets VmHWM to the current RSS (clear_refs 5); False if the kernel
    refuses (then peaks are since start-up, which only makes them larger)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def sanitized(pid):
    """Whether the daemon runs under a sanitizer: CMake says so, or the
    daemon maps a sanitizer runtime."""
    if SANITIZED:
        return True
    with open(f"/proc/{pid}/maps") as f:
        return any(name in f.read() for name in ("libasan", "libhwasan", "libtsan", "libmsan"))


class UploadMemoryTest(MountedTestCase):
    def test_a_large_original_is_in_memory_once_to_commit_and_once_to_resize(self):
        """A 75 MB PNG: its commit and its first thumbnail each raise the
        daemon's peak RSS by well under twice its size (before, the judged
        snapshot sat beside the store's dirty pages, and the resize's copy
        beside the store's mapped pages: 2x each)."""
        source = os.path.join(self.tmp, "stored.png")
        run("vips", "black", source + "[compression=0]", "5000", "5000", "--bands", "3")
        size_mb = os.path.getsize(source) / 2**20
        pid = self.mount.proc.pid
        growth = {}
        for step in ("commit", "thumbnail"):
            reset_peak(pid)
            before = status_kb(pid, "VmHWM") / 1024
            if step == "commit":
                run("cp", source, self.p("posts/1/photos/0/original.png"))
                self.settle()  # and its lqip.webp, made after the commit: one resize
            else:
                self.assertGreater(os.stat(self.p("posts/1/photos/0/thumb/300.jpg")).st_size, 0)
            growth[step] = status_kb(pid, "VmHWM") / 1024 - before
        figures = ", ".join(f"{step} +{mb:.0f} MB" for step, mb in growth.items())
        if sanitized(pid):
            self.skipTest(f"peak RSS means nothing under AddressSanitizer: {figures}")
        for step, mb in growth.items():
            self.assertLess(mb, 1.5 * size_mb, f"{size_mb:.0f} MB PNG: {figures}")
        self.assertEqual(self.read(self.p("posts/1/photos/0/original.png")), self.read(source))
        sys.stderr.write(f"\npeak RSS growth for a {size_mb:.0f} MB PNG: {figures}\n")


    def make_images(self):
        """One 49 MP image per format, made in parallel: label -> path."""
        images = {
            "JPEG": "big.jpg",
            "PNG": "big.png[compression=1]",
            "lossy WebP": "lossy.webp[Q=50,effort=0]",
            "lossless WebP": "lossless.webp[lossless,effort=0]",
        }
        makers = {label: subprocess.Popen(
            ["vips", "black", os.path.join(self.tmp, target), str(SIDE), str(SIDE), "--bands", "3"],
            stderr=subprocess.PIPE) for label, target in images.items()}
        paths = {}
        for label, maker in makers.items():
            _, err = maker.communicate(timeout=100)
            self.assertEqual(maker.returncode, 0, f"vips black {images[label]}: {err}")
            paths[label] = os.path.join(self.tmp, images[label].split("[")[0])
        paths["GIF"] = os.path.join(self.tmp, "big.gif")
        one_colour_gif(paths["GIF"], SIDE, SIDE)
        for label, path in paths.items():
            header = run("vipsheader", path).stdout
            self.assertIn(f"{SIDE}x{SIDE}", header, label)
        return paths

    def upload_at_once(self, sources, first_entity):
        """cp of every source at once, each to an entity of its own; every one
        is committed and reads back byte-exact."""
        copies = []
        for n, source in enumerate(sources):
            ext = os.path.splitext(source)[1]
            target = self.p(f"posts/{first_entity + n}/photos/0/original{ext}")
            copies.append((source, target, subprocess.Popen(
                ["cp", source, target], stderr=subprocess.PIPE, text=True)))
        for source, target, cp in copies:
            _, err = cp.communicate(timeout=100)
            self.assertEqual(cp.returncode, 0, f"cp {source}: {err}")
        for source, target, _ in copies:
            self.assertEqual(self.read(target), self.read(source), target)

    def test_eight_concurrent_49_mp_uploads_keep_peak_rss_under_600_mb(self):
        paths = self.make_images()
        pid = self.mount.proc.pid
        start_mb = status_kb(pid, "VmHWM") / 1024
        peaks = {}
        entity = 1
        mix = [list(paths.values())[n % len(paths)] for n in range(UPLOADS)]
        rounds = [*((label, [path] * UPLOADS) for label, path in paths.items()), ("a mix", mix)]
        if sanitized(pid):
            # Peaks mean nothing there (below); one round of every format at
            # once still puts the concurrent big uploads under the sanitizers.
            rounds = rounds[-1:]
        for label, sources in rounds:
            reset_peak(pid)
            self.upload_at_once(sources, entity)
            entity += UPLOADS
            peaks[label] = status_kb(pid, "VmHWM") / 1024
        figures = (", ".join(f"{label} {mb:.0f} MB" for label, mb in peaks.items()) +
                   f" (at start-up {start_mb:.0f} MB)")
        if sanitized(pid):
            # (ctest's skip pattern wants nothing printed before the skip.)
            self.skipTest(f"peak RSS means nothing under AddressSanitizer (shadow memory, "
                          f"quarantine): measured {figures}")
        for label, mb in peaks.items():
            self.assertLess(mb, LIMIT_MB, f"{label}: {figures}")
        sys.stderr.write(f"\npeak RSS of the daemon, {UPLOADS} concurrent {SIDE}x{SIDE} uploads: "
                         f"{figures}\n")
