"""Pixels (DESIGN §2a): thumbnail sizes by floor, EXIF orientation, metadata
stripped, alpha flattened onto white, output format by extension, first frame
of animations, and thumbnails made once, complete before stat answers."""

import errno
import os
import re
import struct
import threading
import zlib

from harness import MountedTestCase, run, testdata, vips_field, vips_size

# EXIF orientation k: where a point (u, v) of the displayed image (fractions of
# its width and height) lies in the stored pixels. 5-8 swap width and height.
DISPLAYED_TO_STORED = {
    1: lambda u, v: (u, v),
    2: lambda u, v: (1 - u, v),          # mirrored left-right
    3: lambda u, v: (1 - u, 1 - v),      # rotated 180
    4: lambda u, v: (u, 1 - v),          # mirrored top-bottom
    5: lambda u, v: (v, u),              # transposed
    6: lambda u, v: (v, 1 - u),          # stored rotated 90 CCW: display turns it CW
    7: lambda u, v: (1 - v, 1 - u),      # transversed
    8: lambda u, v: (1 - v, u),          # stored rotated 90 CW: display turns it CCW
}


class Pixels:
    """Decoded 8-bit pixels: width, height, bands and rows of bytes."""

    def __init__(self, width, height, bands, data):
        self.width, self.height, self.bands, self.data = width, height, bands, data

    @property
    def size(self):
        return (self.width, self.height)

    def at(self, x, y):
        start = (y * self.width + x) * self.bands
        return list(self.data[start:start + self.bands])


def png_size(data):
    """(width, height) from a PNG's IHDR."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG"
    return struct.unpack(">II", data[16:24])


def decode_png(data):
    """Decodes an 8-bit, non-interlaced PNG in Python (no process to start)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0 and colour in (0, 2, 4, 6), body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    bands = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    raw = zlib.decompress(idat)
    stride = width * bands
    out, previous = bytearray(), bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        row = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = row[i - bands] if i >= bands else 0
            b = previous[i]
            c = previous[i - bands] if i >= bands else 0
            if kind == 1:
                row[i] = (row[i] + a) & 0xFF
            elif kind == 2:
                row[i] = (row[i] + b) & 0xFF
            elif kind == 3:
                row[i] = (row[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                row[i] = (row[i] + pred) & 0xFF
        out += row
        previous = row
    return Pixels(width, height, bands, bytes(out))


def decode_with_vips(path):
    """Any format libvips reads, as 8-bit pixels: one `vips copy` to a .v file
    (a 64-byte header, then the pixels)."""
    raw = path + ".v"
    run("vips", "copy", path, raw)
    with open(raw, "rb") as f:
        data = f.read()
    order = "<" if data[:4] == b"\xb6\xa6\xf2\x08" else ">"
    width, height, bands, _, band_format = struct.unpack(order + "5i", data[4:24])
    assert band_format == 0, "not 8-bit"
    return Pixels(width, height, bands, data[64:64 + width * height * bands])


def headers(*paths):
    """{path: (width, height, bands, loader)} from one vipsheader call."""
    out = run("vipsheader", *paths).stdout
    found = {}
    for line in out.splitlines():
        m = re.match(r"^(.*): (\d+)x(\d+) \w+, (\d+) bands?, \w+, (\w+)$", line)
        if m:
            found[m.group(1)] = (int(m.group(2)), int(m.group(3)), int(m.group(4)), m.group(5))
    return found


def with_orientation(jpeg, orientation):
    """The JPEG with the EXIF orientation tag (0x0112) of IFD0 set."""
    data = bytearray(jpeg)
    tiff = data.find(b"Exif\x00\x00") + 6
    order = "<" if data[tiff:tiff + 2] == b"II" else ">"
    ifd = tiff + struct.unpack(order + "I", data[tiff + 4:tiff + 8])[0]
    count = struct.unpack(order + "H", data[ifd:ifd + 2])[0]
    for entry in range(ifd + 2, ifd + 2 + 12 * count, 12):
        if struct.unpack(order + "H", data[entry:entry + 2])[0] == 0x0112:
            data[entry + 8:entry + 10] = struct.pack(order + "H", orientation)
            return bytes(data)
    raise AssertionError("no orientation tag")


IMAGE_MAGIC = {
    "jpg": lambda d: d[:3] == b"\xff\xd8\xff",
    "png": lambda d: d[:8] == b"\x89PNG\r\n\x1a\n",
    "gif": lambda d: d[:6] in (b"GIF87a", b"GIF89a"),
    "webp": lambda d: d[:4] == b"RIFF" and d[8:12] == b"WEBP",
    "avif": lambda d: d[4:8] == b"ftyp" and b"avif" in d[8:32],
}


def gif_frame_block(width, height, index):
    """An image descriptor and LZW data filling the frame with palette `index`.
    Codes are 3 bits (minimum code size 2): a clear code before every two
    pixels keeps the table from growing, so no real LZW is needed."""
    clear, end = 4, 5
    codes = []
    for i in range(width * height):
        if i % 2 == 0:
            codes.append(clear)
        codes.append(index)
    codes.append(end)
    bits, nbits, out = 0, 0, bytearray()
    for code in codes:
        bits |= code << nbits
        nbits += 3
        while nbits >= 8:
            out.append(bits & 0xFF)
            bits >>= 8
            nbits -= 8
    if nbits:
        out.append(bits & 0xFF)
    data = bytearray([2])
    for start in range(0, len(out), 255):
        chunk = out[start:start + 255]
        data += bytes([len(chunk)]) + chunk
    data.append(0)
    control = b"\x21\xf9\x04\x00\x0a\x00\x00\x00"  # 0.1 s per frame
    descriptor = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0)
    return control + descriptor + bytes(data)


def animated_gif(width, height, colours):
    """A looping animated GIF whose frame i is filled with colours[i] (RGB)."""
    palette = b"".join(bytes(c) for c in colours)
    palette += b"\x00" * (12 - len(palette))  # 4 entries
    header = b"GIF89a" + struct.pack("<HHBBB", width, height, 0xF1, 0, 0) + palette
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    frames = b"".join(gif_frame_block(width, height, i) for i in range(len(colours)))
    return header + loop + frames + b"\x3b"


class PixelsTest(MountedTestCase):
    # Helpers (not tests)

    def thumb_bytes(self, relative):
        return self.read(self.p(relative))

    def thumb_file(self, relative):
        """Reads a thumbnail through the mount into a temporary file with the
        same name suffix (for vipsheader); returns that file."""
        out = os.path.join(self.tmp, relative.replace("/", "_"))
        with open(out, "wb") as f:
            f.write(self.thumb_bytes(relative))
        return out

    def thumb_png(self, relative):
        return decode_png(self.thumb_bytes(relative))

    def thumb_png_size(self, relative):
        return png_size(self.thumb_bytes(relative))

    def thumb_pixels(self, relative):
        return decode_with_vips(self.thumb_file(relative))

    def assertColour(self, actual, expected, tolerance, message=""):
        self.assertEqual(len(actual), len(expected), f"{message}: {actual} vs {expected}")
        for a, e in zip(actual, expected):
            self.assertLessEqual(abs(a - e), tolerance, f"{message}: {actual} vs {expected}")

    def solid(self, name, width, height, rgb):
        """A solid-colour image made with the vips CLI, encoded by `name`'s suffix."""
        out = os.path.join(self.tmp, name)
        run("vips", "black", out + ".v", str(width), str(height), "--bands", "3")
        run("vips", "linear", out + ".v", out, "1 1 1", " ".join(str(c) for c in rgb), "--uchar")
        return out

    def check_jpeg_thumbnail_of(self, ext):
        """An original in format `ext` gives a JPEG thumbnail of its gradient."""
        self.put(f"posts/1/photos/0/original.{ext}", self.image(f"o.{ext}", 320, 240))
        data = self.thumb_bytes("posts/1/photos/0/thumb/160.jpg")
        self.assertTrue(IMAGE_MAGIC["jpg"](data), data[:16])
        thumb = self.thumb_pixels("posts/1/photos/0/thumb/160.jpg")
        self.assertEqual((thumb.size, thumb.bands), ((160, 120), 3))
        for x, y in [(8, 8), (151, 60), (80, 111)]:
            self.assertColour(thumb.at(x, y), [255 * x / 159, 255 * y / 119, 64], 14, f"({x}, {y})")

    # Sizes

    def test_width_thumbnail_height_is_floored_not_rounded(self):
        self.put("posts/1/photos/0/original.jpg", self.image("a.jpg", 2560, 1600))
        self.assertEqual(self.thumb_png_size("posts/1/photos/0/thumb/300.png"), (300, 187))
        self.assertEqual(self.thumb_png_size("posts/1/photos/0/thumb/7.png"), (7, 4))
        thumb = self.p("posts/1/photos/0/thumb/300.jpg")
        self.assertEqual(os.getxattr(thumb, "user.image.height"), b"187")
        self.assertEqual(vips_size(thumb), (300, 187))

    def test_height_thumbnail_width_is_floored_not_rounded(self):
        self.put("posts/1/photos/0/original.jpg", self.image("a.jpg", 2560, 1600))
        self.assertEqual(self.thumb_png_size("posts/1/photos/0/thumb/x187.png"), (299, 187))
        self.assertEqual(self.thumb_png_size("posts/1/photos/0/thumb/x7.png"), (11, 7))

    def test_thumbnail_side_is_at_least_one_pixel(self):
        self.put("posts/1/photos/0/original.png", self.image("wide.png", 2000, 10))
        self.put("posts/1/photos/1/original.png", self.image("tall.png", 10, 2000))
        self.assertEqual(self.thumb_png_size("posts/1/photos/0/thumb/100.png"), (100, 1))
        self.assertEqual(self.thumb_png_size("posts/1/photos/1/thumb/x100.png"), (1, 100))

    def test_thumbnail_as_large_as_the_original_is_allowed(self):
        self.put("posts/1/photos/0/original.jpg", self.image("a.jpg", 640, 427))
        self.assertEqual(self.thumb_png_size("posts/1/photos/0/thumb/640.png"), (640, 427))
        self.assertEqual(self.thumb_png_size("posts/1/photos/0/thumb/x427.png"), (640, 427))

    def test_thumbnail_larger_than_the_original_is_enoent(self):
        self.put("posts/1/photos/0/original.jpg", self.image("a.jpg", 640, 427))
        for name in ["641.jpg", "x428.jpg", "4096.png"]:
            self.assertErrno(errno.ENOENT, os.stat, self.p(f"posts/1/photos/0/thumb/{name}"))
        self.assertEqual(os.listdir(self.p("posts/1/photos/0/thumb")), ["lqip.webp"])

    def test_thumbnail_larger_than_the_original_after_orientation_is_enoent(self):
        self.put("posts/1/photos/0/original.jpg", self.image("r.jpg", 300, 200, orientation=6))
        self.assertErrno(errno.ENOENT, os.stat, self.p("posts/1/photos/0/thumb/300.jpg"))
        self.assertErrno(errno.ENOENT, os.stat, self.p("posts/1/photos/0/thumb/201.jpg"))
        self.assertEqual(self.thumb_png_size("posts/1/photos/0/thumb/200.png"), (200, 300))
        self.assertEqual(self.thumb_png_size("posts/1/photos/0/thumb/x300.png"), (200, 300))

    def test_large_photo_thumbnail_is_300_by_168(self):
        self.put("posts/1/photos/0/original.jpg", testdata("safe-landing-5120x2880.jpg"))
        self.assertEqual(vips_size(self.p("posts/1/photos/0/thumb/300.jpg")), (300, 168))

    # EXIF orientation

    def test_every_exif_orientation_gives_an_upright_thumbnail(self):
        upright = self.read(self.image("o.jpg", 300, 200, orientation=1))
        for k in range(1, 9):
            self.write_through_fd(self.p(f"posts/1/photos/{k}/original.jpg"), with_orientation(upright, k))
        for k in range(1, 9):
            with self.subTest(orientation=k):
                thumb = self.thumb_png(f"posts/1/photos/{k}/thumb/100.png")
                self.assertEqual(thumb.size, (100, 150) if k >= 5 else (100, 66))
                for u, v in [(0.1, 0.1), (0.9, 0.1), (0.1, 0.9), (0.9, 0.9)]:
                    su, sv = DISPLAYED_TO_STORED[k](u, v)
                    x, y = round(u * (thumb.width - 1)), round(v * (thumb.height - 1))
                    self.assertColour(thumb.at(x, y)[:3], [255 * su, 255 * sv, 64], 14,
                                      f"orientation {k} at ({u}, {v})")

    # Metadata

    def test_thumbnails_carry_no_exif_gps_or_xmp(self):
        photo = testdata("colorful-cups-2560x1600.jpg")
        original = self.put("posts/1/photos/0/original.jpg", photo)
        self.assertIn(b"GPS", self.read(photo))
        self.assertEqual(self.read(original), self.read(photo))
        names = ["300.jpg", "300.webp", "300.png", "300.avif", "x100.gif"]
        thumbs = [self.thumb_file(f"posts/1/photos/0/thumb/{name}") for name in names]
        fields = run("vipsheader", "-a", *thumbs).stdout
        self.assertEqual(fields.count("vips-loader:"), len(names), fields)
        for line in fields.splitlines():
            key = line.split(":", 1)[0]
            self.assertFalse(key.startswith(("exif-", "xmp-", "iptc-")), line)
        for name, thumb in zip(names, thumbs):
            data = self.read(thumb)
            for marker in [b"Exif", b"GPS", b"<x:xmpmeta", b"http://ns.adobe.com/xap"]:
                self.assertNotIn(marker, data, name)
        self.assertEqual(self.read(original), self.read(photo))

    # Alpha

    def test_transparent_png_gives_a_jpeg_thumbnail_on_white(self):
        transparent = os.path.join(self.tmp, "t.png")
        run("vips", "black", transparent, "100", "100", "--bands", "4")
        source = decode_png(self.read(transparent))
        self.assertEqual((source.bands, source.at(10, 10)), (4, [0, 0, 0, 0]))
        self.put("posts/1/photos/0/original.png", transparent)
        thumb = self.thumb_pixels("posts/1/photos/0/thumb/50.jpg")
        self.assertEqual(thumb.bands, 3)
        for x, y in [(0, 0), (25, 25), (49, 49)]:
            self.assertColour(thumb.at(x, y), [255, 255, 255], 3, f"({x}, {y})")
        png = self.thumb_png("posts/1/photos/0/thumb/50.png")
        self.assertEqual((png.bands, png.at(25, 25)[3]), (4, 0))

    def test_png_thumbnail_keeps_alpha(self):
        self.put("posts/1/photos/0/original.png", self.image("a.png", 200, 100, alpha=True))
        thumb = self.thumb_png("posts/1/photos/0/thumb/100.png")
        self.assertEqual(thumb.bands, 4)
        self.assertColour(thumb.at(50, 25)[3:], [128], 2, "alpha")
        jpeg = self.thumb_pixels("posts/1/photos/0/thumb/100.jpg")
        self.assertEqual(jpeg.bands, 3)
        # Half-transparent blue 64 over white: 64 * 0.5 + 255 * 0.5 ~ 160.
        self.assertColour(jpeg.at(50, 25)[2:], [160], 8, "blue over white")

    def test_photo_with_alpha_gives_flattened_jpeg_and_rgba_png(self):
        self.put("users/1/picture/original.png", testdata("kay-1080x1920.png"))
        jpeg = self.thumb_file("users/1/picture/thumb/108.jpg")
        png = self.thumb_png("users/1/picture/thumb/108.png")
        self.assertEqual(headers(jpeg)[jpeg], (108, 192, 3, "jpegload"))
        self.assertEqual((png.size, png.bands), ((108, 192), 4))

    # Formats

    def test_thumbnail_format_follows_its_extension(self):
        self.put("posts/1/photos/0/original.jpg", self.image("a.jpg", 640, 480))
        loaders = {"jpg": "jpegload", "webp": "webpload", "png": "pngload", "gif": "gifload",
                   "avif": "heifload"}
        mimetypes = {"jpg": b"image/jpeg", "webp": b"image/webp", "png": b"image/png",
                     "gif": b"image/gif", "avif": b"image/avif"}
        files = {}
        for ext in loaders:
            relative = f"posts/1/photos/0/thumb/300.{ext}"
            files[ext] = self.thumb_file(relative)
            self.assertTrue(IMAGE_MAGIC[ext](self.read(files[ext])), ext)
            self.assertEqual(os.getxattr(self.p(relative), "user.image.mimetype"), mimetypes[ext])
        found = headers(*files.values())
        for ext, loader in loaders.items():
            self.assertEqual(found.get(files[ext], (0, 0, 0, ""))[::3], (300, loader), ext)
            self.assertEqual(found[files[ext]][1], 225, ext)

    def test_png_original_gives_jpeg_thumbnails(self):
        self.check_jpeg_thumbnail_of("png")

    def test_webp_original_gives_jpeg_thumbnails(self):
        self.check_jpeg_thumbnail_of("webp")

    def test_gif_original_gives_jpeg_thumbnails(self):
        self.check_jpeg_thumbnail_of("gif")

    def test_avif_original_gives_jpeg_thumbnails(self):
        self.check_jpeg_thumbnail_of("avif")

    def test_heic_original_gives_jpeg_thumbnails(self):
        self.check_jpeg_thumbnail_of("heic")

    def test_animated_gif_gives_its_first_frame(self):
        gif = os.path.join(self.tmp, "anim.gif")
        with open(gif, "wb") as f:
            f.write(animated_gif(40, 20, [(255, 0, 0), (0, 0, 255)]))
        self.assertEqual(vips_field(gif, "n-pages"), "2")
        self.put("posts/1/photos/0/original.gif", gif)
        self.assertEqual(os.getxattr(self.p("posts/1/photos/0/original.gif"),
                                     "user.image.height"), b"20")
        png = self.thumb_png("posts/1/photos/0/thumb/20.png")
        self.assertEqual(png.size, (20, 10))
        self.assertColour(png.at(10, 5)[:3], [255, 0, 0], 4, "png")
        jpeg = self.thumb_pixels("posts/1/photos/0/thumb/20.jpg")
        self.assertEqual(jpeg.size, (20, 10))
        self.assertColour(jpeg.at(10, 5), [255, 0, 0], 24, "jpg")
        out = self.thumb_file("posts/1/photos/0/thumb/20.gif")
        self.assertIn(vips_field(out, "n-pages"), (None, "1"))
        self.assertEqual(vips_size(out), (20, 10))

    # One set, its own thumbnails; made once; complete before stat

    def test_two_sets_of_one_post_never_share_thumbnails(self):
        red = self.solid("red.jpg", 400, 200, (230, 20, 20))
        blue = self.solid("blue.jpg", 200, 400, (20, 20, 230))
        self.put("posts/1/photos/0/original.jpg", red)
        self.put("posts/1/photos/1/original.jpg", blue)
        for attempt in range(2):  # the second after a remount, nothing cached by the kernel
            first = self.thumb_png("posts/1/photos/0/thumb/100.png")
            second = self.thumb_png("posts/1/photos/1/thumb/100.png")
            self.assertEqual(first.size, (100, 50))
            self.assertEqual(second.size, (100, 200))
            self.assertColour(first.at(50, 25)[:3], [230, 20, 20], 12, "set 0")
            self.assertColour(second.at(50, 100)[:3], [20, 20, 230], 12, "set 1")
            self.remount()
        sha = [os.getxattr(self.p(f"posts/1/photos/{i}/thumb/100.jpg"), "user.image.sha256")
               for i in range(2)]
        self.assertNotEqual(sha[0], sha[1])

    def test_concurrent_first_reads_get_identical_bytes(self):
        self.put("posts/1/photos/0/original.jpg", testdata("safe-landing-5120x2880.jpg"))
        thumb = self.p("posts/1/photos/0/thumb/300.jpg")
        barrier = threading.Barrier(16)
        results = [None] * 16

        def reader(slot):
            barrier.wait()
            try:
                results[slot] = self.read(thumb)
            except OSError as e:
                results[slot] = e

        threads = [threading.Thread(target=reader, args=(i,)) for i in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        for result in results:
            self.assertIsInstance(result, bytes)
        self.assertEqual(len(set(results)), 1)
        self.assertGreater(len(results[0]), 0)
        self.assertEqual(sorted(os.listdir(self.p("posts/1/photos/0/thumb"))),
                         ["300.jpg", "lqip.webp"])
        self.remount()
        self.assertEqual(self.read(thumb), results[0])

    def test_thumbnail_is_complete_at_its_size_before_stat_answers(self):
        self.put("posts/1/photos/0/original.jpg", testdata("path-2560x1600.jpg"))
        for name in ["300.jpg", "x200.webp", "640.png"]:
            with self.subTest(thumbnail=name):
                thumb = self.p(f"posts/1/photos/0/thumb/{name}")
                size = os.stat(thumb).st_size
                self.assertGreater(size, 0)
                data = self.read(thumb)
                self.assertEqual(size, len(data))
                self.assertEqual(os.stat(thumb).st_size, len(data))
