"""Tiny PNGs made in Python: hundreds of distinct images for tests that race
many uploads, at no cost (libvips' tools take a process each)."""

import random
import struct
import zlib


def png_of(width, height, raw, level=9):
    """An RGB PNG of `raw`: its rows, each a filter byte (0) and 3·width bytes,
    compressed at zlib `level`."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
            chunk(b"IDAT", zlib.compress(raw, level)) + chunk(b"IEND", b""))


def png(width, height, seed):
    """A small RGB PNG whose pixels depend on `seed` (distinct seeds, distinct
    images and bytes), written here: making hundreds of them costs nothing."""
    r0, g0, b0 = (seed * 37) % 256, (seed * 91 + 17) % 256, (seed // 256 * 53 + 101) % 256
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter: none
        for x in range(width):
            row += bytes(((r0 + 5 * x) % 256, (g0 + 7 * y) % 256, (b0 + x * y) % 256))
        rows.append(bytes(row))
    return png_of(width, height, b"".join(rows))


def noise_png(side, seed, level=9):
    """A PNG of random pixels (side x side, RGB): it hardly compresses, so its
    size is about 3·side² bytes (level 1 makes a large one in seconds)."""
    rng = random.Random(seed)
    return png_of(side, side, b"".join(b"\x00" + rng.randbytes(3 * side) for _ in range(side)),
                  level)
