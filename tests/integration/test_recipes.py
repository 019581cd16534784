"""Thumbnail recipes (README "Thumbnail recipes", issue 13): boxes, crops,
@2x/@3x, presets, .jpeg, the closed shipped default, enlarge and quality per
format, driven through the real mount; sizes checked against an independent
formula (exact fractions), bytes and inodes of aliases against their
canonical names, hostile names, and concurrent first reads of aliases."""

import errno
import os
import re
import shutil
import tempfile
import threading
import unittest
from fractions import Fraction

from harness import TESTDATA, Mount, make_image, run, vips_loader, vips_size

SET = "posts/1/photos"

# The test photographs (../shared/testdata), with their sizes after EXIF
# orientation; the test that uses them skips if the directory is absent.
PHOTOS = ("rocket.jpg", "chelsea.png", "astronaut.png", "coffee.png", "kay-1080x1920.png",
          "autumn-2560x1600.jpg", "path-2560x1600.jpg", "colorful-cups-2560x1600.jpg",
          "safe-landing-5120x2880.jpg", "wood.webp")

BOXES = ((300, 200), (200, 300), (100, 100), (1, 1), (640, 1), (1, 640), (333, 777),
         (4096, 4096), (1200, 630), (97, 61))


def fit_size(w, h, box_w, box_h):
    """The fit-inside size by exact fractions: of the two scales (box width
    over width, box height over height) the larger whose floored sides (at
    least 1) fit inside the box; None where that scale is over 1 (larger
    than the original)."""
    for scale in sorted({Fraction(box_w, w), Fraction(box_h, h)}, reverse=True):
        size = max(1, int(w * scale)), max(1, int(h * scale))
        if size[0] <= box_w and size[1] <= box_h:
            break
    if scale > 1:
        return None
    return size


def cover_size(w, h, box_w, box_h, clamp):
    """The box itself, or with clamp where the box is larger than the
    original: the largest area of the box's proportions in the original."""
    scale = max(Fraction(box_w, w), Fraction(box_h, h))
    if scale <= 1:
        return box_w, box_h
    if not clamp:
        return None
    shrink = min(Fraction(w, box_w), Fraction(h, box_h))
    return max(1, int(box_w * shrink)), max(1, int(box_h * shrink))


def write_ppm(path, width, height, colour_at):
    """A binary PPM of width x height whose pixel (x, y) is colour_at(x, y)."""
    rows = bytearray()
    for y in range(height):
        for x in range(width):
            rows += bytes(colour_at(x, y))
    with open(path, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (width, height) + rows)


def pixel(path, x, y):
    """(r, g, b) of a pixel, as libvips decodes the file."""
    values = run("vips", "getpoint", path, str(x), str(y)).stdout.split()
    return tuple(round(float(v)) for v in values[:3])


def near(colour, expected, slack=40):
    return all(abs(a - b) <= slack for a, b in zip(colour, expected))


RED, GREEN, BLUE, YELLOW = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)


class RecipeTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="iafs-recipes-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    # --- helpers ---------------------------------------------------------

    def mount(self, schema=None, shipped=False, **kwargs):
        """A mount of a fresh store: the tests' open schema, `schema` (the
        text of a schema file written here), or the shipped default."""
        root = tempfile.mkdtemp(prefix="m-", dir=self.tmp)
        options = list(kwargs.pop("options", ()))
        if schema is not None:
            path = os.path.join(root, "schema.conf")
            with open(path, "w") as f:
                f.write(schema)
            options.append("schema=" + path)
        m = Mount(root, options=options, shipped_schema=shipped, **kwargs)
        self.addCleanup(m.stop)
        return m.start()

    def image(self, name, width, height, **kwargs):
        return make_image(os.path.join(self.tmp, name), width, height, **kwargs)

    def put(self, m, index, source, ext=None):
        ext = ext or os.path.splitext(source)[1]
        run("cp", source, m.path(f"{SET}/{index}/original{ext}"))
        m.settle()  # lqip.webp, made at the commit

    def thumb(self, m, index, name):
        return m.path(f"{SET}/{index}/thumb/{name}")

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def size_of(self, m, index, name):
        """The thumbnail's size as libvips decodes a copy of it."""
        copy = os.path.join(self.tmp, f"copy-{index}-{name}")
        with open(copy, "wb") as f:
            f.write(self.read(self.thumb(m, index, name)))
        return vips_size(copy)

    def copy_out(self, m, index, name):
        copy = os.path.join(self.tmp, f"out-{index}-{name}")
        with open(copy, "wb") as f:
            f.write(self.read(self.thumb(m, index, name)))
        return copy

    def assertMissing(self, path, code=errno.ENOENT):
        with self.assertRaises(OSError, msg=path) as caught:
            os.stat(path)
        self.assertEqual(caught.exception.errno, code, f"{path}: {caught.exception}")

    def made(self, m):
        with open(m.path(".imageattachfs/metrics")) as f:
            text = f.read()
        return int(re.search(r"^imageattachfs_thumbnails_made_total (\d+)$", text, re.M).group(1))

    def sizes(self, paths):
        """{path: (width, height)} as libvips decodes each file (one vipsheader)."""
        out = run("vipsheader", *paths).stdout
        found = {}
        for line in out.splitlines():
            path, _, rest = line.rpartition(": ")
            w, h = rest.split()[0].split("x")
            found[path] = (int(w), int(h))
        self.assertEqual(sorted(found), sorted(paths))
        return found

    def check_boxes(self, m, index, oriented, boxes, clamp=False):
        """thumb/WxH.jpg of the set has the size fit_size gives (or the
        original's with clamp), or is ENOENT where it would be larger."""
        w, h = oriented
        expected = {}
        for box_w, box_h in boxes:
            name = f"{box_w}x{box_h}.jpg"
            size = fit_size(w, h, box_w, box_h)
            if size is None and clamp:
                size = (w, h)
            if size is None:
                self.assertMissing(self.thumb(m, index, name))
                continue
            expected[self.copy_out(m, index, name)] = (size, name)
        if expected:
            for path, size in self.sizes(list(expected)).items():
                self.assertEqual(size, expected[path][0], f"{expected[path][1]} of {w}x{h}")

    # --- 1. fit inside a box ---------------------------------------------

    def test_box_fit_sizes_of_generated_originals(self):
        m = self.mount()
        # (file, pixels as stored, orientation) -> size after orientation
        originals = [
            (self.image("land.jpg", 1200, 800), (1200, 800)),
            (self.image("port.png", 800, 1200), (800, 1200)),
            (self.image("square.webp", 500, 500), (500, 500)),
            (self.image("thin.png", 1, 300), (1, 300)),
            (self.image("flat.png", 300, 1), (300, 1)),
            (self.image("odd.jpg", 641, 427), (641, 427)),
            (self.image("rot6.jpg", 640, 480, orientation=6), (480, 640)),
            (self.image("rot8.jpg", 1000, 333, orientation=8), (333, 1000)),
            (self.image("rot3.jpg", 640, 480, orientation=3), (640, 480)),
        ]
        boxes = BOXES + ((480, 640), (333, 1000), (1000, 333), (2, 599), (300, 300), (1, 4096))
        for index, (source, oriented) in enumerate(originals):
            self.put(m, index, source)
            self.check_boxes(m, index, oriented, boxes)
        self.assertTrue(m.is_mounted())

    def test_box_fit_sizes_of_the_test_photos(self):
        if not TESTDATA or not os.path.isdir(TESTDATA):
            raise unittest.SkipTest("../shared/testdata not available")
        m = self.mount()
        photos = [name for name in PHOTOS if os.path.exists(os.path.join(TESTDATA, name))]
        if not photos:
            raise unittest.SkipTest("no test photos")
        for index, name in enumerate(photos):
            source = os.path.join(TESTDATA, name)
            self.put(m, index, source)
            # The set's own size after orientation, from its xattrs.
            original = m.path(f"{SET}/{index}/original{os.path.splitext(name)[1]}")
            oriented = (int(os.getxattr(original, "user.image.width")),
                        int(os.getxattr(original, "user.image.height")))
            self.assertEqual(oriented, vips_size(source), name)  # orientation 1 in every one
            self.check_boxes(m, index, oriented, BOXES[:6])

    def test_box_larger_than_the_original_clamps_to_its_size(self):
        m = self.mount(schema="[posts.photos]\nmultiple = true\nthumbnail_widths = 1-4096\n"
                              "thumbnail_heights = 1-4096\nenlarge = clamp\n")
        self.put(m, 0, self.image("a.jpg", 640, 427))
        self.put(m, 1, self.image("b.jpg", 640, 480, orientation=6))
        self.check_boxes(m, 0, (640, 427), BOXES, clamp=True)
        self.check_boxes(m, 1, (480, 640), BOXES, clamp=True)
        # Covers larger than the original keep the box's proportions.
        for index, (w, h) in ((0, (640, 427)), (1, (480, 640))):
            for box in ((1000, 1000), (1200, 630), (100, 4000), (4000, 100), (640, 640)):
                name = f"{box[0]}x{box[1]}-cover.jpg"
                self.assertEqual(self.size_of(m, index, name), cover_size(w, h, *box, clamp=True),
                                 name)

    # --- 2. crop to fill --------------------------------------------------

    def quadrants(self, name, width, height):
        """A PNG whose quadrants are red, green (top) and blue, yellow (bottom)."""
        ppm = os.path.join(self.tmp, name + ".ppm")

        def colour(x, y):
            top, left = y < height // 2, x < width // 2
            return (RED if left else GREEN) if top else (BLUE if left else YELLOW)
        write_ppm(ppm, width, height, colour)
        out = os.path.join(self.tmp, name + ".png")
        run("vips", "copy", ppm, out)
        return out

    def test_cover_is_exact_and_crops_the_centre(self):
        m = self.mount()
        self.put(m, 0, self.quadrants("wide", 400, 200))
        self.put(m, 1, self.quadrants("tall", 200, 400))
        for index in (0, 1):
            copy = self.copy_out(m, index, "100x100-cover.png")
            self.assertEqual(vips_size(copy), (100, 100))
            # From the middle: every quadrant at its own corner, each corner
            # well inside its colour (a crop from an edge would show two).
            for (x, y), colour in (((3, 3), RED), ((96, 3), GREEN), ((3, 96), BLUE),
                                   ((96, 96), YELLOW)):
                self.assertTrue(near(pixel(copy, x, y), colour),
                                f"set {index} ({x},{y}): {pixel(copy, x, y)} not {colour}")
            # ... and the boundary in the middle of the thumbnail.
            self.assertTrue(near(pixel(copy, 45, 45), RED))
            self.assertTrue(near(pixel(copy, 54, 54), YELLOW))
        # A box of other proportions: 400x200 -> 200x50-cover crops rows 25..75
        # of the 200x100 scale: top and bottom halves, both columns.
        copy = self.copy_out(m, 0, "200x50-cover.png")
        self.assertEqual(vips_size(copy), (200, 50))
        for (x, y), colour in (((3, 3), RED), ((196, 3), GREEN), ((3, 46), BLUE),
                               ((196, 46), YELLOW)):
            self.assertTrue(near(pixel(copy, x, y), colour), f"({x},{y}) {pixel(copy, x, y)}")

    def test_cover_sizes_and_smart_crops_are_exact_and_valid(self):
        m = self.mount()
        originals = [(self.image("land.jpg", 1200, 800), (1200, 800)),
                     (self.image("rot6.jpg", 900, 300, orientation=6), (300, 900)),
                     (self.image("thin.png", 3, 700), (3, 700))]
        boxes = ((300, 300), (300, 200), (1, 1), (3, 700), (2, 699), (250, 17))
        expected = {}
        for index, (source, (w, h)) in enumerate(originals):
            self.put(m, index, source)
            for box in boxes:
                size = cover_size(w, h, *box, clamp=False)
                for crop in ("cover", "cover-attention", "cover-entropy"):
                    name = f"{box[0]}x{box[1]}-{crop}.webp"
                    if size is None:  # open.conf: enlarge = no
                        self.assertMissing(self.thumb(m, index, name))
                        continue
                    expected[self.copy_out(m, index, name)] = (size, f"{name} of {w}x{h}")
        self.assertGreater(len(expected), 30)
        for path, size in self.sizes(list(expected)).items():
            self.assertEqual(size, expected[path][0], expected[path][1])
            self.assertEqual(vips_loader(path), "webpload", expected[path][1])
        # Every pixel of the smart crops decodes.
        for path in expected:
            if "-cover-" in path:
                run("vips", "avg", path)


    # --- 4, 5, 9. aliases: @2x/@3x, presets, .jpeg ------------------------

    def assertSameFile(self, m, index, alias, canonical):
        a, c = self.thumb(m, index, alias), self.thumb(m, index, canonical)
        self.assertEqual(self.read(a), self.read(c), f"{alias} vs {canonical}")
        self.assertEqual(os.stat(a).st_ino, os.stat(c).st_ino, f"{alias} vs {canonical}")

    def test_device_pixel_ratios_are_the_doubled_recipe(self):
        m = self.mount(schema="[posts.photos]\nmultiple = true\nthumbnail_widths = 300 600 900\n"
                              "thumbnail_heights = 100 200 400\n"
                              "thumbnail_boxes = 300x200 600x400 96x96 192x192\nenlarge = no\n")
        self.put(m, 0, self.image("a.jpg", 1200, 800))
        made = self.made(m)
        # Read through the alias first (it makes it), then the canonical name.
        for alias, canonical, size in (("300@2x.jpg", "600.jpg", (600, 400)),
                                       ("300@3x.jpg", "900.jpg", (900, 600)),
                                       ("x200@2x.webp", "x400.webp", (600, 400)),
                                       ("300x200@2x.png", "600x400.png", (600, 400)),
                                       ("96x96-cover@2x.webp", "192x192-cover.webp", (192, 192)),
                                       ("300x200@2x.jpeg", "600x400.jpg", (600, 400))):
            self.assertSameFile(m, 0, alias, canonical)
            self.assertEqual(self.size_of(m, 0, alias), size, alias)
        self.assertEqual(self.made(m) - made, 6)  # one resize per canonical recipe
        # Allowed only where the multiplied size is.
        for name in ("300@4x.jpg", "600@2x.jpg", "x200@3x.jpg", "300x200@3x.png",
                     "96x96-cover@3x.webp", "300x200-cover@3x.webp", "100@2x.jpg"):
            self.assertMissing(self.thumb(m, 0, name))
        listed = os.listdir(self.thumb(m, 0, ""))
        self.assertEqual(sorted(listed), ["192x192-cover.webp", "600.jpg", "600x400.jpg",
                                          "600x400.png", "900.jpg", "lqip.webp", "x400.webp"])
        # 600 not allowed: 300@2x is ENOENT, 300@3x is 900.
        m2 = self.mount(schema="[posts.photos]\nmultiple = true\nthumbnail_widths = 300 900\n")
        self.put(m2, 0, self.image("a.jpg", 1200, 800))
        self.assertMissing(self.thumb(m2, 0, "300@2x.jpg"))
        self.assertMissing(self.thumb(m2, 0, "600.jpg"))
        self.assertSameFile(m2, 0, "300@3x.jpg", "900.jpg")

    def test_presets_are_their_recipe_listed_once_by_the_canonical_name(self):
        m = self.mount(schema="[posts.photos]\nmultiple = true\nthumbnail_widths = 300\n"
                              "thumbnail_heights = 200\nthumbnail_boxes = none\n"
                              "preset.avatar = 96x96-cover\npreset.hero = 1000\n"
                              "preset.strip = 200x50\npreset.pick = 120x120-cover-entropy\n")
        self.put(m, 0, self.image("a.jpg", 1200, 800))
        made = self.made(m)
        self.assertSameFile(m, 0, "avatar.webp", "96x96-cover.webp")
        self.assertSameFile(m, 0, "hero.jpg", "1000.jpg")
        self.assertSameFile(m, 0, "strip.png", "200x50.png")
        self.assertSameFile(m, 0, "pick.jpeg", "120x120-cover-entropy.jpg")
        self.assertEqual(self.made(m) - made, 4)
        self.assertEqual(self.size_of(m, 0, "avatar.webp"), (96, 96))
        self.assertEqual(self.size_of(m, 0, "hero.jpg"), (1000, 666))
        self.assertEqual(self.size_of(m, 0, "strip.png"), (75, 50))
        # thumb/ lists each canonical name once, never an alias.
        self.assertEqual(sorted(os.listdir(self.thumb(m, 0, ""))),
                         ["1000.jpg", "120x120-cover-entropy.jpg", "200x50.png",
                          "96x96-cover.webp", "lqip.webp"])
        # A preset's box is allowed; other boxes (boxes = none) and the
        # preset's doubled box are not; a preset is no prefix or recipe.
        for name in ("avatar@2x.webp", "96x96.webp", "96x96-cover-attention.webp",
                     "192x192-cover.webp", "300x200.jpg", "avatars.webp", "avatar",
                     "Avatar.webp", "avatar.heic", "hero@2x.jpg", "avatar-cover.webp",
                     "avatarx2.webp", "lqip.jpg"):
            self.assertMissing(self.thumb(m, 0, name))

    def test_jpeg_is_an_alias_of_jpg(self):
        m = self.mount()
        self.put(m, 0, self.image("a.png", 640, 480))
        self.assertSameFile(m, 0, "300.jpeg", "300.jpg")
        self.assertSameFile(m, 0, "x100.jpg", "x100.jpeg")
        self.assertEqual(sorted(os.listdir(self.thumb(m, 0, ""))),
                         ["300.jpg", "lqip.webp", "x100.jpg"])
        for name in ("300.JPEG", "300.jpe", "300.jfif", "300.jpegx", "300.jpeg.jpg"):
            self.assertMissing(self.thumb(m, 0, name))


    # --- 7, 8. the closed shipped default; enlarge ------------------------

    def test_the_shipped_default_is_closed(self):
        m = self.mount(shipped=True)
        self.put(m, 0, self.image("a.jpg", 2000, 1333))
        for name, size in (("300.jpg", (300, 199)), ("640.webp", (640, 426)),
                           ("1200.avif", (1200, 799)), ("x200.png", (300, 200)),
                           ("300x200.jpg", (300, 200)), ("avatar.webp", (96, 96)),
                           ("avatar@2x.webp", (192, 192)), ("card.jpg", (600, 400)),
                           ("og.webp", (1200, 630)), ("3840.jpg", (2000, 1333)),
                           ("16.png", (16, 10)), ("100x100-cover.jpg", (100, 100)),
                           ("300x300-cover-attention.webp", (300, 300))):
            self.assertEqual(self.size_of(m, 0, name), size, name)
        for name in ("301.jpg", "4000.jpg", "300.gif", "123x45.jpg", "301x301-cover.jpg",
                     "4096.jpg", "1.jpg", "x201.jpg", "300x201.jpg", "og@2x.webp",
                     "300@3x.jpg", "1000x1000-cover.jpg", "lqip.jpg"):
            self.assertMissing(self.thumb(m, 0, name))
        self.assertTrue(m.is_mounted())

    def test_enlarge_clamp_is_the_default_and_no_is_enoent(self):
        m = self.mount(shipped=True)
        self.put(m, 0, self.image("a.jpg", 1200, 800))
        self.put(m, 1, self.image("b.jpg", 640, 427))
        for index, name, size in ((0, "1600.jpg", (1200, 800)), (0, "3840.webp", (1200, 800)),
                                  (0, "x1080.jpg", (1200, 800)), (0, "800@2x.jpg", (1200, 800)),
                                  (0, "1200.jpg", (1200, 800)), (0, "1024.jpg", (1024, 682)),
                                  (1, "800x600.jpg", (640, 427)), (1, "1200x800.png", (640, 427)),
                                  (1, "1200x630-cover.jpg", (640, 336)),
                                  (1, "og.jpg", (640, 336)), (1, "card.jpg", (600, 400)),
                                  (1, "600x600-cover.jpg", (427, 427))):
            self.assertEqual(self.size_of(m, index, name), size, f"{name} of set {index}")
        # One original-sized resize per name, with the bytes of any other
        # that gives the original's size in that format.
        self.assertEqual(self.read(self.thumb(m, 0, "1600.jpg")),
                         self.read(self.thumb(m, 0, "x1080.jpg")))
        clamp = "[posts.photos]\nmultiple = true\nthumbnail_widths = 1-4096\n" \
                "thumbnail_heights = 1-4096\nenlarge = clamp\n"
        mc = self.mount(schema=clamp)
        self.put(mc, 0, self.image("a.jpg", 1200, 800))
        self.assertEqual(self.size_of(mc, 0, "1000x1000-cover.jpg"), (800, 800))
        self.assertEqual(self.size_of(mc, 0, "4000x100-cover.jpg"), (1200, 30))
        self.assertEqual(self.size_of(mc, 0, "1300x100.jpg"), (150, 100))
        no = self.mount(schema=clamp.replace("clamp", "no"))
        self.put(no, 0, self.image("a.jpg", 1200, 800))
        for name in ("1201.jpg", "x801.jpg", "1600.jpg", "1000x1000-cover.jpg", "1300x900.jpg",
                     "800@2x.jpg", "1201x1-cover.jpg"):
            self.assertMissing(self.thumb(no, 0, name))
        for name, size in (("1200.jpg", (1200, 800)), ("1300x100.jpg", (150, 100)),
                           ("1200x800-cover.jpg", (1200, 800)), ("800x800-cover.jpg", (800, 800))):
            self.assertEqual(self.size_of(no, 0, name), size, name)

    # --- 9. quality per format --------------------------------------------

    def test_quality_per_format(self):
        m = self.mount(schema="[posts.photos]\nmultiple = true\nquality.webp = 30\n"
                              "quality.avif = 20\n\n"
                              "[users.picture]\nquality.webp = 90\nquality.avif = 80\n\n"
                              "[users.cover]\nquality = 30\nquality.webp = 90\n")
        source = self.image("a.jpg", 1200, 800)
        run("cp", source, m.path("posts/1/photos/0/original.jpg"))
        run("cp", source, m.path("users/1/picture/original.jpg"))
        run("cp", source, m.path("users/1/cover/original.jpg"))

        def thumb(where, name):
            with open(m.path(where + "/thumb/" + name), "rb") as f:
                return f.read()
        low, high = thumb("posts/1/photos/0", "600.webp"), thumb("users/1/picture", "600.webp")
        self.assertLess(len(low), len(high) * 0.8)
        self.assertEqual(thumb("users/1/cover", "600.webp"), high)  # quality.webp wins
        self.assertLess(len(thumb("posts/1/photos/0", "300.avif")),
                        len(thumb("users/1/picture", "300.avif")) * 0.8)
        # jpg takes `quality` (85 by default), whatever quality.webp says.
        self.assertEqual(thumb("posts/1/photos/0", "600.jpg"), thumb("users/1/picture", "600.jpg"))
        self.assertLess(len(thumb("users/1/cover", "600.jpg")),
                        len(thumb("users/1/picture", "600.jpg")))
        for where in ("posts/1/photos/0", "users/1/picture"):
            path = os.path.join(self.tmp, where.replace("/", "-") + ".webp")
            with open(path, "wb") as f:
                f.write(thumb(where, "600.webp"))
            self.assertEqual(vips_size(path), (600, 400))


    # --- hostile names and races --------------------------------------------

    def test_hostile_names_are_enoent_and_the_daemon_lives(self):
        m = self.mount(schema="[posts.photos]\nmultiple = true\nthumbnail_widths = 1-4096\n"
                              "thumbnail_heights = 1-4096\npreset.avatar = 96x96-cover\n")
        self.put(m, 0, self.image("a.jpg", 640, 480))
        names = ["300@2x@2x.jpg", "65536x1.jpg", "1x65536.jpg", "65535x65535-cover.jpg",
                 "300x300-cover-smart.jpg", "300x300-cover-attention-entropy.jpg",
                 "300x300-cover-cover.jpg", "300-cover.jpg", "x300-cover.jpg", "lqip.jpg",
                 "lqip@2x.webp", "avatar@4x.webp", "avatar@1x.webp", "avatar@2x@2x.webp",
                 "@2x.jpg", "300@.jpg", "300@2.jpg", "300@2X.jpg", "300@0x.jpg", "300@10x.jpg",
                 "300@2x", "300@2x.", ".jpg", "x.jpg", "xx300.jpg", "300xx200.jpg",
                 "300x200x100.jpg", "300x.jpg", "x300x.jpg", "0300.jpg", "0x300.jpg",
                 "300x0.jpg", "0.jpg", "-300.jpg", "+300.jpg", " 300.jpg", "300.jpg ",
                 "300 .jpg", "300.jpg\n", "300\t.jpg", "300.JPG", "300.heic", "300.jpg.jpg",
                 "4294967296.jpg", "4294967295.jpg", "2147483648@2x.jpg", "1431655766@3x.jpg",
                 "32768x1@2x.jpg", "21846x1@3x.jpg", "18446744073709551617.jpg",
                 "1" * 250 + ".jpg", "9" * 200 + "x1.jpg", "a" * 251 + ".jpg",
                 "300\u00e9.jpg", "\u0663\u0660\u0660.jpg", "300\uff58200.jpg",
                 "avatar.webp\x7f", "\x01.jpg", "300x200-cover@2x-cover.jpg",
                 "300x200@2x-cover.jpg", "300.jpeg@2x", "avatar.jpeg.webp", "AVATAR.webp",
                 "96x96-Cover.webp", "96x96-cover-.webp", "96x96--cover.webp"]
        for name in names:
            self.assertMissing(self.thumb(m, 0, name))
        # Odd bytes that are no UTF-8.
        thumb_dir = os.fsencode(self.thumb(m, 0, ""))
        for raw in (b"\xff\xfe.jpg", b"300\xc0\xaf.jpg", b"300.\x80jpg", b"\xe2\x80\xae300.jpg"):
            with self.assertRaises(OSError) as caught:
                os.stat(os.path.join(thumb_dir, raw))
            self.assertEqual(caught.exception.errno, errno.ENOENT, raw)
        # Longer than a name may be: the kernel's, or the daemon's, refusal.
        with self.assertRaises(OSError) as caught:
            os.stat(self.thumb(m, 0, "3" * 300 + ".jpg"))
        self.assertIn(caught.exception.errno, (errno.ENAMETOOLONG, errno.ENOENT))
        self.assertEqual(os.listdir(self.thumb(m, 0, "")), ["lqip.webp"])
        self.assertEqual(self.size_of(m, 0, "avatar@2x.webp"), (192, 192))
        self.assertTrue(m.is_mounted())
        self.assertIsNone(m.proc.poll())

    def test_concurrent_first_reads_of_aliases_make_one_thumbnail(self):
        m = self.mount(schema="[posts.photos]\nmultiple = true\nthumbnail_widths = 1-4096\n"
                              "thumbnail_heights = 1-4096\npreset.avatar = 150x150-cover\n")
        self.put(m, 0, self.image("a.jpg", 2400, 1600))
        names = ["300x300-cover.webp", "150x150-cover@2x.webp", "avatar@2x.webp",
                 "100x100-cover@3x.webp"]
        made = self.made(m)
        start = threading.Barrier(16)
        results, errors = [None] * 16, []

        def reader(i):
            try:
                start.wait()
                results[i] = self.read(self.thumb(m, 0, names[i % len(names)]))
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
        threads = [threading.Thread(target=reader, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(set(results)), 1)
        self.assertEqual(self.made(m) - made, 1)
        self.assertEqual(sorted(os.listdir(self.thumb(m, 0, ""))),
                         ["300x300-cover.webp", "lqip.webp"])
        self.assertEqual(self.size_of(m, 0, "avatar@2x.webp"), (300, 300))


if __name__ == "__main__":
    unittest.main()
