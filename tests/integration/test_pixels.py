"""Pixels (DESIGN §2a): thumbnail sizes by floor, EXIF orientation, metadata
stripped, alpha flattened onto white, output format by extension, first frame
of animations, and thumbnails made once, complete before stat answers."""

import errno
import os
import struct
import threading

from harness import MountedTestCase, run, testdata, vips_field, vips_loader, vips_size

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

    def thumb_file(self, relative):
        """Reads a thumbnail through the mount into a temporary file with the
        same name suffix (for vipsheader/getpoint); returns that file."""
        data = self.read(self.p(relative))
        out = os.path.join(self.tmp, relative.replace("/", "_"))
        with open(out, "wb") as f:
            f.write(data)
        return out

    def pixel(self, path, x, y):
        values = run("vips", "getpoint", path, str(x), str(y)).stdout.split()
        return [round(float(v)) for v in values]

    def assertColour(self, actual, expected, tolerance, message=""):
        self.assertEqual(len(actual), len(expected), f"{message}: {actual} vs {expected}")
        for a, e in zip(actual, expected):
            self.assertLessEqual(abs(a - e), tolerance, f"{message}: {actual} vs {expected}")

    def solid(self, name, width, height, rgb):
        """A solid-colour image made with the vips CLI, encoded by `name`'s suffix."""
        black = os.path.join(self.tmp, name + ".v")
        out = os.path.join(self.tmp, name)
        run("vips", "black", black, str(width), str(height), "--bands", "3")
        run("vips", "linear", black, out, "1 1 1", " ".join(str(c) for c in rgb), "--uchar")
        return out

    # Sizes

    def test_width_thumbnail_height_is_floored_not_rounded(self):
        self.put("posts/1/photos/0/original.jpg", self.image("a.jpg", 2560, 1600))
        self.assertEqual(vips_size(self.thumb_file("posts/1/photos/0/thumb/300.jpg")), (300, 187))
        self.assertEqual(vips_size(self.thumb_file("posts/1/photos/0/thumb/7.png")), (7, 4))
        self.assertEqual(os.getxattr(self.p("posts/1/photos/0/thumb/300.jpg"),
                                     "user.image.height"), b"187")

    def test_height_thumbnail_width_is_floored_not_rounded(self):
        self.put("posts/1/photos/0/original.jpg", self.image("a.jpg", 2560, 1600))
        self.assertEqual(vips_size(self.thumb_file("posts/1/photos/0/thumb/x187.jpg")), (299, 187))
        self.assertEqual(vips_size(self.thumb_file("posts/1/photos/0/thumb/x7.png")), (11, 7))

    def test_thumbnail_side_is_at_least_one_pixel(self):
        self.put("posts/1/photos/0/original.png", self.image("wide.png", 2000, 10))
        self.put("posts/1/photos/1/original.png", self.image("tall.png", 10, 2000))
        self.assertEqual(vips_size(self.thumb_file("posts/1/photos/0/thumb/100.png")), (100, 1))
        self.assertEqual(vips_size(self.thumb_file("posts/1/photos/1/thumb/x100.png")), (1, 100))

    def test_thumbnail_as_large_as_the_original_is_allowed(self):
        self.put("posts/1/photos/0/original.jpg", self.image("a.jpg", 640, 427))
        self.assertEqual(vips_size(self.thumb_file("posts/1/photos/0/thumb/640.jpg")), (640, 427))
        self.assertEqual(vips_size(self.thumb_file("posts/1/photos/0/thumb/x427.png")), (640, 427))

    def test_thumbnail_larger_than_the_original_is_enoent(self):
        self.put("posts/1/photos/0/original.jpg", self.image("a.jpg", 640, 427))
        for name in ["641.jpg", "x428.jpg", "4096.png"]:
            self.assertErrno(errno.ENOENT, os.stat, self.p(f"posts/1/photos/0/thumb/{name}"))
        self.assertEqual(os.listdir(self.p("posts/1/photos/0/thumb")), [])

    def test_thumbnail_larger_than_the_original_after_orientation_is_enoent(self):
        self.put("posts/1/photos/0/original.jpg", self.image("r.jpg", 300, 200, orientation=6))
        self.assertErrno(errno.ENOENT, os.stat, self.p("posts/1/photos/0/thumb/300.jpg"))
        self.assertErrno(errno.ENOENT, os.stat, self.p("posts/1/photos/0/thumb/201.jpg"))
        self.assertEqual(vips_size(self.thumb_file("posts/1/photos/0/thumb/200.jpg")), (200, 300))
        self.assertEqual(vips_size(self.thumb_file("posts/1/photos/0/thumb/x300.jpg")), (200, 300))

    def test_large_photo_thumbnail_is_300_by_168(self):
        self.put("posts/1/photos/0/original.jpg", testdata("safe-landing-5120x2880.jpg"))
        self.assertEqual(vips_size(self.thumb_file("posts/1/photos/0/thumb/300.jpg")), (300, 168))

    # EXIF orientation

    def test_every_exif_orientation_gives_an_upright_thumbnail(self):
        for k in range(1, 9):
            with self.subTest(orientation=k):
                self.put(f"posts/1/photos/{k}/original.jpg",
                         self.image(f"o{k}.jpg", 300, 200, orientation=k))
                thumb = self.thumb_file(f"posts/1/photos/{k}/thumb/100.png")
                width, height = (100, 150) if k >= 5 else (100, 66)
                self.assertEqual(vips_size(thumb), (width, height))
                self.assertIsNone(vips_field(thumb, "orientation"))
                for u, v in [(0.1, 0.1), (0.9, 0.1), (0.1, 0.9), (0.9, 0.9)]:
                    su, sv = DISPLAYED_TO_STORED[k](u, v)
                    expected = [255 * su, 255 * sv, 64]
                    x, y = round(u * (width - 1)), round(v * (height - 1))
                    self.assertColour(self.pixel(thumb, x, y)[:3], expected, 14,
                                      f"orientation {k} at ({u}, {v})")

    # Metadata

    def test_thumbnails_carry_no_exif_gps_or_xmp(self):
        photo = testdata("colorful-cups-2560x1600.jpg")
        original = self.put("posts/1/photos/0/original.jpg", photo)
        self.assertIn(b"GPS", self.read(photo))
        self.assertEqual(self.read(original), self.read(photo))
        for name in ["300.jpg", "300.webp", "300.png", "300.avif", "x100.gif"]:
            with self.subTest(thumbnail=name):
                thumb = self.thumb_file(f"posts/1/photos/0/thumb/{name}")
                fields = run("vipsheader", "-a", thumb).stdout
                for line in fields.splitlines():
                    key = line.split(":", 1)[0]
                    self.assertFalse(key.startswith(("exif-", "xmp-", "iptc-")), line)
                data = self.read(thumb)
                for marker in [b"Exif", b"GPS", b"<x:xmpmeta", b"http://ns.adobe.com/xap"]:
                    self.assertNotIn(marker, data)
        self.assertEqual(self.read(original), self.read(photo))

    # Alpha

    def test_transparent_png_gives_a_jpeg_thumbnail_on_white(self):
        black = os.path.join(self.tmp, "t.v")
        transparent = os.path.join(self.tmp, "t.png")
        run("vips", "black", black, "100", "100", "--bands", "4")
        run("vips", "copy", black, transparent)
        self.assertEqual(self.pixel(transparent, 10, 10), [0, 0, 0, 0])
        self.put("posts/1/photos/0/original.png", transparent)
        thumb = self.thumb_file("posts/1/photos/0/thumb/50.jpg")
        self.assertEqual(vips_field(thumb, "bands"), "3")
        for x, y in [(0, 0), (25, 25), (49, 49)]:
            self.assertColour(self.pixel(thumb, x, y), [255, 255, 255], 3, f"({x}, {y})")

    def test_png_thumbnail_keeps_alpha(self):
        source = self.image("a.png", 200, 100, alpha=True)
        self.put("posts/1/photos/0/original.png", source)
        thumb = self.thumb_file("posts/1/photos/0/thumb/100.png")
        self.assertEqual(vips_field(thumb, "bands"), "4")
        self.assertColour(self.pixel(thumb, 50, 25)[3:], [128], 2, "alpha")
        jpeg = self.thumb_file("posts/1/photos/0/thumb/100.jpg")
        self.assertEqual(vips_field(jpeg, "bands"), "3")
        # Half-transparent blue 64 over white: 64 * 0.5 + 255 * 0.5 ~ 160.
        self.assertColour(self.pixel(jpeg, 50, 25)[2:], [160], 8, "blue over white")

    def test_photo_with_alpha_gives_flattened_jpeg_and_rgba_png(self):
        self.put("users/1/picture/original.png", testdata("kay-1080x1920.png"))
        jpeg = self.thumb_file("users/1/picture/thumb/108.jpg")
        self.assertEqual(vips_size(jpeg), (108, 192))
        self.assertEqual(vips_field(jpeg, "bands"), "3")
        png = self.thumb_file("users/1/picture/thumb/108.png")
        self.assertEqual(vips_field(png, "bands"), "4")

    # Formats

    def test_thumbnail_format_follows_its_extension(self):
        self.put("posts/1/photos/0/original.jpg", self.image("a.jpg", 640, 480))
        expected = {"300.jpg": "jpegload", "300.webp": "webpload", "300.png": "pngload",
                    "300.gif": "gifload", "300.avif": "heifload"}
        for name, loader in expected.items():
            with self.subTest(thumbnail=name):
                thumb = self.thumb_file(f"posts/1/photos/0/thumb/{name}")
                self.assertEqual(vips_loader(thumb), loader)
                self.assertEqual(vips_size(thumb), (300, 225))
        mimetypes = {"300.jpg": b"image/jpeg", "300.webp": b"image/webp",
                     "300.png": b"image/png", "300.gif": b"image/gif", "300.avif": b"image/avif"}
        for name, mimetype in mimetypes.items():
            self.assertEqual(os.getxattr(self.p(f"posts/1/photos/0/thumb/{name}"),
                                         "user.image.mimetype"), mimetype, name)

    def test_originals_of_every_format_give_jpeg_thumbnails(self):
        for index, ext in enumerate(["png", "webp", "gif", "avif", "heic", "jpeg"]):
            with self.subTest(original=ext):
                source = self.image(f"o.{ext}", 320, 240)
                self.put(f"posts/1/photos/{index}/original.{ext}", source)
                thumb = self.thumb_file(f"posts/1/photos/{index}/thumb/160.jpg")
                self.assertEqual(vips_loader(thumb), "jpegload")
                self.assertEqual(vips_size(thumb), (160, 120))
                # The gradient survives: dark on the left, red on the right.
                self.assertLess(self.pixel(thumb, 5, 60)[0], 40)
                self.assertGreater(self.pixel(thumb, 154, 60)[0], 215)

    def test_animated_gif_gives_its_first_frame(self):
        gif = os.path.join(self.tmp, "anim.gif")
        with open(gif, "wb") as f:
            f.write(animated_gif(40, 20, [(255, 0, 0), (0, 0, 255)]))
        self.assertEqual(vips_field(gif, "n-pages"), "2")
        self.put("posts/1/photos/0/original.gif", gif)
        self.assertEqual(os.getxattr(self.p("posts/1/photos/0/original.gif"),
                                     "user.image.height"), b"20")
        for name in ["20.jpg", "20.gif", "20.png"]:
            with self.subTest(thumbnail=name):
                thumb = self.thumb_file(f"posts/1/photos/0/thumb/{name}")
                self.assertEqual(vips_size(thumb), (20, 10))
                self.assertColour(self.pixel(thumb, 10, 5)[:3], [255, 0, 0], 20, name)
                self.assertIn(vips_field(thumb, "n-pages"), (None, "1"))

    # One set, its own thumbnails; made once; complete before stat

    def test_two_sets_of_one_post_never_share_thumbnails(self):
        red = self.solid("red.jpg", 400, 200, (230, 20, 20))
        blue = self.solid("blue.jpg", 200, 400, (20, 20, 230))
        self.put("posts/1/photos/0/original.jpg", red)
        self.put("posts/1/photos/1/original.jpg", blue)
        first = self.thumb_file("posts/1/photos/0/thumb/100.jpg")
        second = self.thumb_file("posts/1/photos/1/thumb/100.jpg")
        self.assertEqual(vips_size(first), (100, 50))
        self.assertEqual(vips_size(second), (100, 200))
        self.assertColour(self.pixel(first, 50, 25), [230, 20, 20], 12, "set 0")
        self.assertColour(self.pixel(second, 50, 100), [20, 20, 230], 12, "set 1")
        self.assertNotEqual(os.getxattr(self.p("posts/1/photos/0/thumb/100.jpg"), "user.image.sha256"),
                            os.getxattr(self.p("posts/1/photos/1/thumb/100.jpg"), "user.image.sha256"))
        # After a remount (nothing cached by the kernel), the same.
        self.remount()
        self.assertEqual(vips_size(self.thumb_file("posts/1/photos/1/thumb/100.jpg")), (100, 200))
        self.assertEqual(vips_size(self.thumb_file("posts/1/photos/0/thumb/100.jpg")), (100, 50))

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
        self.assertEqual(os.listdir(self.p("posts/1/photos/0/thumb")), ["300.jpg"])
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
