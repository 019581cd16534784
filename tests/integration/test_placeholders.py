"""Placeholders computed at commit (issue 13 item 10): user.image.blurhash
(a BlurHash of 4x3 components that any decoder reads back as a blur of the
original), user.image.color (#rrggbb, its average colour), thumb/lqip.webp (a
32 px preview); all three in meta.json and index.json, with a srcset per
allowed format (item 11)."""

import json
import math
import os
import subprocess

from harness import Mount, MountedTestCase, run, vips_size

B83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"
SET = "posts/1/photos/0"


def b83(text):
    value = 0
    for c in text:
        value = value * 83 + B83.index(c)
    return value


def to_linear(v):
    v /= 255
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def to_srgb(v):
    v = max(0.0, min(1.0, v))
    return round((v * 12.92 if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055) * 255)


def decode_blurhash(text, width, height):
    """An independent BlurHash decoder (from the published algorithm):
    rows of (r, g, b)."""
    size = b83(text[0])
    nx, ny = size % 9 + 1, size // 9 + 1
    assert len(text) == 4 + 2 * nx * ny, text
    maximum = (b83(text[1]) + 1) / 166
    dc = b83(text[2:6])
    colours = [(to_linear(dc >> 16), to_linear(dc >> 8 & 255), to_linear(dc & 255))]
    for i in range(1, nx * ny):
        value = b83(text[4 + 2 * i:6 + 2 * i])
        quantised = (value // 361, value // 19 % 19, value % 19)

        def sign_pow(q):
            v = (q - 9) / 9
            return math.copysign(abs(v) ** 2, v) * maximum
        colours.append(tuple(sign_pow(q) for q in quantised))
    rows = []
    for y in range(height):
        row = []
        for x in range(width):
            rgb = [0.0, 0.0, 0.0]
            for j in range(ny):
                for i in range(nx):
                    basis = math.cos(math.pi * x * i / width) * math.cos(math.pi * y * j / height)
                    for c in range(3):
                        rgb[c] += colours[j * nx + i][c] * basis
            row.append(tuple(to_srgb(v) for v in rgb))
        rows.append(row)
    return rows


def solid_png(path, rgb, width=64, height=48):
    ppm = path + ".ppm"
    with open(ppm, "wb") as f:
        f.write(b"P6 %d %d 255\n" % (width, height) + bytes(rgb) * (width * height))
    run("vips", "copy", ppm, path)
    return path


class PlaceholdersTest(MountedTestCase):
    def xattr(self, relative, name):
        return os.getxattr(self.p(relative), "user.image." + name).decode()

    def test_a_solid_image_has_its_colour_and_a_flat_hash(self):
        self.put(SET + "/original.png", solid_png(os.path.join(self.tmp, "s.png"), (0x33, 0x66, 0x99)))
        self.assertEqual(self.xattr(SET + "/original.png", "color"), "#336699")
        blurhash = self.xattr(SET + "/original.png", "blurhash")
        self.assertEqual(len(blurhash), 28)
        self.assertTrue(all(c in B83 for c in blurhash), blurhash)
        self.assertEqual(blurhash[0], "L")  # 4 x 3 components
        for row in decode_blurhash(blurhash, 8, 6):
            for pixel in row:
                for got, want in zip(pixel, (0x33, 0x66, 0x99)):
                    self.assertLessEqual(abs(got - want), 2, (pixel, blurhash))

    def test_the_hash_decodes_to_a_blur_of_the_original(self):
        # make_image: red grows left to right, green top to bottom.
        self.put(SET + "/original.jpg", self.image("g.jpg", 640, 480))
        rows = decode_blurhash(self.xattr(SET + "/original.jpg", "blurhash"), 16, 12)
        left = sum(row[1][0] for row in rows) / len(rows)
        right = sum(row[-2][0] for row in rows) / len(rows)
        top = sum(p[1] for p in rows[1]) / 16
        bottom = sum(p[1] for p in rows[-2]) / 16
        self.assertGreater(right - left, 80, (left, right))
        self.assertGreater(bottom - top, 80, (top, bottom))
        # The average colour of that gradient: red and green about half.
        color = self.xattr(SET + "/original.jpg", "color")
        self.assertLess(abs(int(color[1:3], 16) - 128), 24, color)
        self.assertLess(abs(int(color[3:5], 16) - 128), 24, color)

    def test_lqip_is_a_32_px_webp_and_the_same_bytes_each_time(self):
        self.put(SET + "/original.jpg", self.image("p.jpg", 300, 500))
        lqip = self.p(SET + "/thumb/lqip.webp")
        first = self.read(lqip)
        self.assertEqual(first[:4], b"RIFF")
        self.assertEqual(first[8:12], b"WEBP")
        self.assertEqual(vips_size(lqip), (19, 32))
        os.remove(lqip)  # made again (read by another process: rm hides it from this one)
        again = subprocess.run(["cat", lqip], capture_output=True, check=True).stdout
        self.assertEqual(again, first)
        for name in ("lqip.jpg", "lqip@2x.webp", "LQIP.webp"):
            self.assertErrno(2, os.stat, self.p(SET + "/thumb/" + name))

    def test_replacement_changes_them_and_a_restore_carries_them(self):
        original = SET + "/original.png"
        self.put(original, solid_png(os.path.join(self.tmp, "a.png"), (250, 10, 10)))
        red = (self.xattr(original, "blurhash"), self.xattr(original, "color"))
        self.put(original, solid_png(os.path.join(self.tmp, "b.png"), (10, 10, 250)))
        blue = (self.xattr(original, "blurhash"), self.xattr(original, "color"))
        self.assertEqual(red[1], "#fa0a0a")
        self.assertEqual(blue[1], "#0a0afa")
        self.assertNotEqual(red[0], blue[0])
        # They are computed from the bytes: setting them is refused...
        self.assertErrno(1, os.setxattr, self.p(original), "user.image.color", b"#000000")
        # ...but a restore that writes what they show succeeds.
        backup = os.path.join(self.tmp, "backup")
        run("rsync", "-aX", self.mnt + "/", backup + "/")
        self.mount.stop()
        fresh = Mount(self.tmp, store=os.path.join(self.tmp, "store2"))
        self.addCleanup(fresh.stop)
        fresh.start()
        result = subprocess.run(["rsync", "-aX", backup + "/", fresh.mnt + "/"],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(os.getxattr(fresh.path(original), "user.image.color").decode(), blue[1])
        self.assertEqual(os.getxattr(fresh.path(original), "user.image.blurhash").decode(),
                         blue[0])

    def test_meta_and_index_json_carry_them_with_a_srcset(self):
        self.mount.stop()
        self.mount = Mount(self.tmp, shipped_schema=True)  # width list 16 ... 3840
        self.addCleanup(self.mount.stop)
        self.mount.start()
        self.put(SET + "/original.jpg", self.image("w.jpg", 700, 400))
        self.put("users/7/picture/original.jpg", self.image("u.jpg", 90, 90))
        index = json.loads(self.read(self.p("posts/1/photos/index.json")))
        meta = json.loads(self.read(self.p(SET + "/meta.json")))
        self.assertEqual(index["sets"], [meta])
        self.assertEqual(meta["blurhash"], self.xattr(SET + "/original.jpg", "blurhash"))
        self.assertEqual(meta["color"], self.xattr(SET + "/original.jpg", "color"))
        self.assertEqual(meta["lqip"], "/" + SET + "/thumb/lqip.webp")
        widths = [16, 32, 48, 64, 96, 100, 128, 150, 200, 256, 300, 384, 400, 480, 600, 640]
        self.assertEqual(sorted(meta["srcset"]), ["avif", "jpg", "png", "webp"])  # no gif
        for ext, srcset in meta["srcset"].items():
            self.assertEqual(srcset, ", ".join(f"/{SET}/thumb/{w}.{ext} {w}w" for w in widths))
        # Every entry of a srcset exists, at its width.
        for entry in meta["srcset"]["webp"].split(", ")[-2:]:
            path, width = entry.split(" ")
            self.assertEqual(vips_size(self.p(path))[0], int(width[:-1]))
        single = json.loads(self.read(self.p("users/7/picture/meta.json")))
        self.assertEqual(single["srcset"]["jpg"],
                         ", ".join(f"/users/7/picture/thumb/{w}.jpg {w}w" for w in
                                   [16, 32, 48, 64]))
