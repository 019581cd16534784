"""A set's focal point (user.image.focus): where thumb/WxH-cover crops, on a
generated image whose four quadrants have different solid colours; what
changing it drops (only the -cover thumbnails) and what readers see meanwhile;
its text (EINVAL for anything else); remounts, kill -9, uploads, scratch files
and restores with rsync -aX and cp -a."""

import errno
import json
import os
import subprocess
import threading
import unittest

from harness import MountedTestCase, make_image, run

FOCUS = "user.image.focus"
ORIGINAL = "posts/1/photos/0/original.png"

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def write_quadrants(path, width=800, height=400, colours=(RED, GREEN, BLUE, WHITE)):
    """A PNG of width x height: top left, top right, bottom left, bottom right
    each one solid colour (written as PPM, converted by the vips command)."""
    ppm = path + ".ppm"
    rows = []
    for y in range(height):
        top = y < height // 2
        left = bytes(colours[0 if top else 2]) * (width // 2)
        right = bytes(colours[1 if top else 3]) * (width - width // 2)
        rows.append(left + right)
    with open(ppm, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (width, height) + b"".join(rows))
    run("vips", "copy", ppm, path)
    return path


def pixel(path, x, y):
    values = run("vips", "getpoint", path, str(x), str(y)).stdout.split()
    return tuple(int(float(v)) for v in values[:3])


def corners(path, width, height, inset=5):
    """The colours near the four corners: top left, top right, bottom left,
    bottom right (inset from the edges, away from any blended border)."""
    right, bottom = width - 1 - inset, height - 1 - inset
    return (pixel(path, inset, inset), pixel(path, right, inset),
            pixel(path, inset, bottom), pixel(path, right, bottom))


def tool(*args):
    return subprocess.run(list(args), capture_output=True, text=True)


class FocusTest(MountedTestCase):

    def setUp(self):
        super().setUp()
        self.source = write_quadrants(os.path.join(self.tmp, "quadrants.png"))
        self.put(ORIGINAL, self.source)
        self.original = self.p(ORIGINAL)

    def thumb(self, name, mount=None, index=0):
        relative = f"posts/1/photos/{index}/thumb/{name}"
        return mount.path(relative) if mount else self.p(relative)

    def crop_corners(self, name, width, height, index=0):
        """Reads thumb/NAME of set `index` into a file; its four corners."""
        copy = os.path.join(self.tmp, f"crop-{len(os.listdir(self.tmp))}.png")
        with open(copy, "wb") as f:
            f.write(self.read(self.thumb(name, index=index)))
        self.assertEqual(run("vipsheader", "-f", "width", copy).stdout.strip(), str(width))
        self.assertEqual(run("vipsheader", "-f", "height", copy).stdout.strip(), str(height))
        return corners(copy, width, height)

    def focus_of(self, path):
        try:
            return os.getxattr(path, FOCUS).decode()
        except OSError as e:
            if e.errno == errno.ENODATA:
                return None
            raise

    def test_a_cover_crop_is_cut_around_the_focus(self):
        # 800x400 into 100x100: scaled to 200x100, 100 columns kept.
        self.assertEqual(self.crop_corners("100x100-cover.png", 100, 100),
                         (RED, GREEN, BLUE, WHITE), "no focus: the centre")
        os.setxattr(self.original, FOCUS, b"0.1,0.1")
        self.assertEqual(self.crop_corners("100x100-cover.png", 100, 100),
                         (RED, RED, BLUE, BLUE), "the left half")
        os.setxattr(self.original, FOCUS, b"0.9,0.1")
        self.assertEqual(self.crop_corners("100x100-cover.png", 100, 100),
                         (GREEN, GREEN, WHITE, WHITE), "the right half")
        # 800x400 into 200x50: scaled to 200x100, 50 rows kept.
        self.assertEqual(self.crop_corners("200x50-cover.png", 200, 50),
                         (RED, GREEN, RED, GREEN), "the top half")
        os.setxattr(self.original, FOCUS, b"0.9,1")
        self.assertEqual(self.crop_corners("200x50-cover.png", 200, 50),
                         (BLUE, WHITE, BLUE, WHITE), "the bottom half")
        self.assertEqual(self.crop_corners("100x100-cover.png", 100, 100),
                         (GREEN, GREEN, WHITE, WHITE), "the right half")

    def test_the_focus_is_of_the_oriented_image(self):
        # Stored 400x800 with EXIF orientation 6: shown 800x400, turned a
        # quarter clockwise, so green (growing down the stored rows) falls
        # from left to right as shown, and red grows from top to bottom.
        rotated = make_image(os.path.join(self.tmp, "rotated.jpg"), 400, 800, orientation=6)
        self.put("posts/1/photos/2/original.jpg", rotated)
        original = self.p("posts/1/photos/2/original.jpg")
        self.assertEqual(os.getxattr(original, "user.image.width"), b"800")
        centre = {}
        for focus in (b"0.1,0.5", b"0.9,0.5"):
            os.setxattr(original, FOCUS, focus)
            copy = os.path.join(self.tmp, f"rotated-{focus.decode()}.png")
            with open(copy, "wb") as f:
                f.write(self.read(self.p("posts/1/photos/2/thumb/100x100-cover.png")))
            centre[focus] = pixel(copy, 50, 50)
            self.assertLess(pixel(copy, 50, 5)[0], pixel(copy, 50, 94)[0], "red grows downwards")
        # Shown x 50 of 200 (green ~191) and x 150 of 200 (green ~64).
        self.assertGreater(centre[b"0.1,0.5"][1], 160, centre)
        self.assertLess(centre[b"0.9,0.5"][1], 95, centre)

    def test_a_new_focus_remakes_the_cover_thumbnails_and_nothing_else(self):
        names = ["100x100-cover.png", "100x100-cover-attention.png",
                 "100x100-cover-entropy.png", "300.png", "x100.png", "300x200.png"]
        before = {}
        for name in names:
            data = self.read(self.thumb(name))
            before[name] = (os.stat(self.thumb(name)).st_ino, data)
        run("setfattr", "-n", FOCUS, "-v", "0.1,0.5", self.original)
        listed = os.listdir(self.p("posts/1/photos/0/thumb"))
        self.assertNotIn("100x100-cover.png", listed, "dropped with the old focus")
        for name in names[1:]:
            self.assertIn(name, listed)
            self.assertEqual(os.stat(self.thumb(name)).st_ino, before[name][0], name)
            self.assertEqual(self.read(self.thumb(name)), before[name][1], name)
        cover = self.read(self.thumb("100x100-cover.png"))
        self.assertNotEqual(cover, before["100x100-cover.png"][1])
        self.assertNotEqual(os.stat(self.thumb("100x100-cover.png")).st_ino,
                            before["100x100-cover.png"][0])
        # The same focus again changes nothing: the crop stays, same inode.
        ino = os.stat(self.thumb("100x100-cover.png")).st_ino
        os.setxattr(self.original, FOCUS, b"0.100000,0.5")
        self.assertIn("100x100-cover.png", os.listdir(self.p("posts/1/photos/0/thumb")))
        self.assertEqual(os.stat(self.thumb("100x100-cover.png")).st_ino, ino)
        self.assertEqual(self.read(self.thumb("100x100-cover.png")), cover)
        # The original itself did not change.
        self.assertEqual(self.read(self.original), self.read(self.source))

    def test_removing_the_focus_returns_to_the_centre_crop(self):
        centre = self.read(self.thumb("100x100-cover.png"))
        os.setxattr(self.original, FOCUS, b"0,0")
        self.assertNotEqual(self.read(self.thumb("100x100-cover.png")), centre)
        run("setfattr", "-x", FOCUS, self.original)
        self.assertIsNone(self.focus_of(self.original))
        self.assertNotIn(FOCUS, os.listxattr(self.original))
        self.assertEqual(self.read(self.thumb("100x100-cover.png")), centre)
        # Removing it again: no such attribute, as on any file.
        self.assertErrno(errno.ENODATA, os.removexattr, self.original, FOCUS)
        # Every other attribute stays unremovable, as before.
        for name in ("user.image.width", "user.image.sha256", "user.other", "trusted.x"):
            self.assertErrno(errno.ENOTSUP, os.removexattr, self.original, name)
        self.assertErrno(errno.ENOTSUP, os.removexattr, self.thumb("100x100-cover.png"), FOCUS)

    def test_getfattr_shows_the_focus_only_when_set(self):
        meta = self.p("posts/1/photos/0/meta.json")
        self.assertNotIn(FOCUS, run("getfattr", "-d", self.original).stdout)
        self.assertNotIn("focus", json.loads(self.read(meta)))
        run("setfattr", "-n", FOCUS, "-v", "0.35,0.20", self.original)
        shown = run("getfattr", "-d", self.original).stdout
        self.assertIn('user.image.focus="0.35,0.2"', shown)
        self.assertIn('user.image.width="800"', shown)
        # meta.json and index.json: two numbers.
        self.assertEqual(json.loads(self.read(meta))["focus"], [0.35, 0.2])
        index = json.loads(self.read(self.p("posts/1/photos/index.json")))
        self.assertEqual(index["sets"][0]["focus"], [0.35, 0.2])
        for text, shown in [("0.5,0.5", "0.5,0.5"), ("0,1", "0,1"), ("1,0.25", "1,0.25"),
                            ("0.333333,1.000", "0.333333,1"),
                            ("0.3333335,0.99999949", "0.333334,0.999999"),
                            ("1.0000004,0.0000005", "1,0.000001")]:
            os.setxattr(self.original, FOCUS, text.encode())
            self.assertEqual(self.focus_of(self.original), shown, text)
            self.assertEqual(run("getfattr", "--only-values", "-n", FOCUS,
                                 self.original).stdout, shown)
        # Thumbnails and directories show none.
        self.read(self.thumb("300.png"))
        self.assertNotIn(FOCUS, os.listxattr(self.thumb("300.png")))
        self.assertNotIn(FOCUS, os.listxattr(self.p("posts/1/photos/0")))

    def test_a_malformed_focus_is_einval_and_changes_nothing(self):
        os.setxattr(self.original, FOCUS, b"0.25,0.75")
        cover = self.read(self.thumb("100x100-cover.png"))
        ino = os.stat(self.thumb("100x100-cover.png")).st_ino
        for bad in [b"1.1,0", b"0,1.1", b"2,0", b"1.0000005,0", b"-0,0", b"0,-0", b"+0,0",
                    b"0.5", b"a,b", b"0.5,0.5,0.5", b" 0.5,0.5", b"0.5, 0.5", b"0.5,0.5\n",
                    b"", b",", b".5,.5", b"0.,0", b"00.5,0", b"0.5e0,0", b"nan,nan",
                    b"0.5\x00,0.5", b"\xff\xfe", b"0" * 5000]:
            self.assertErrno(errno.EINVAL, os.setxattr, self.original, FOCUS, bad)
        self.assertEqual(self.focus_of(self.original), "0.25,0.75")
        self.assertEqual(os.stat(self.thumb("100x100-cover.png")).st_ino, ino)
        self.assertEqual(self.read(self.thumb("100x100-cover.png")), cover)
        self.assertTrue(self.mount.log_lines("setxattr user.image.focus of /" + ORIGINAL))
        # Not an original: directories and thumbnails have no focus,
        # metadata files are read-only.
        self.assertErrno(errno.ENOTSUP, os.setxattr, self.p("posts/1/photos/0"), FOCUS, b"0,0")
        self.assertErrno(errno.ENOTSUP, os.setxattr, self.thumb("300.png"), FOCUS, b"0,0")
        self.assertErrno(errno.EPERM, os.setxattr, self.p("posts/1/photos/0/meta.json"),
                         FOCUS, b"0,0")
        self.assertErrno(errno.ENOENT, os.setxattr, self.p("posts/1/photos/1/original.png"),
                         FOCUS, b"0,0")
        self.assertEqual(self.focus_of(self.original), "0.25,0.75")

    def test_the_focus_survives_a_remount_and_kill9(self):
        os.setxattr(self.original, FOCUS, b"0.1,0.1")
        crop = self.read(self.thumb("100x100-cover.png"))
        self.remount()
        self.assertEqual(self.focus_of(self.original), "0.1,0.1")
        self.assertEqual(self.read(self.thumb("100x100-cover.png")), crop)
        os.setxattr(self.original, FOCUS, b"0.9,0.9")
        self.mount.kill9()
        self.mount.start()
        self.assertEqual(self.focus_of(self.original), "0.9,0.9")
        self.assertEqual(self.crop_corners("100x100-cover.png", 100, 100),
                         (GREEN, GREEN, WHITE, WHITE))

    def test_after_setfattr_returns_no_reader_gets_the_old_crop(self):
        cover = self.thumb("100x100-cover.png")
        crops = {}
        for focus in (b"0.1,0.5", b"0.9,0.5"):
            os.setxattr(self.original, FOCUS, focus)
            crops[focus] = self.read(cover)
        self.assertNotEqual(crops[b"0.1,0.5"], crops[b"0.9,0.5"])
        valid = set(crops.values())
        stop = threading.Event()
        seen = []
        bad = []

        def reader():
            while not stop.is_set():
                try:
                    data = self.read(cover)
                except FileNotFoundError:  # between the drop and its remaking: never
                    bad.append(b"ENOENT")
                    continue
                seen.append(len(data))
                if data not in valid:
                    bad.append(data[:64])

        readers = [threading.Thread(target=reader) for _ in range(3)]
        for t in readers:
            t.start()
        try:
            for i in range(40):
                focus = (b"0.1,0.5", b"0.9,0.5")[i % 2]
                os.setxattr(self.original, FOCUS, focus)
                self.assertEqual(self.read(cover), crops[focus], f"round {i}")
        finally:
            stop.set()
            for t in readers:
                t.join()
        self.assertEqual(bad, [])
        self.assertGreater(len(seen), 0)

    def test_a_replacement_with_other_bytes_clears_the_focus(self):
        os.setxattr(self.original, FOCUS, b"0.1,0.1")
        run("cp", self.source, self.original)  # the same bytes: kept
        self.assertEqual(self.focus_of(self.original), "0.1,0.1")
        # mv -T of the set moves it with the set, and back.
        run("mv", "-T", self.p("posts/1/photos/0"), self.p("posts/1/photos/3"))
        self.assertEqual(self.focus_of(self.p("posts/1/photos/3/original.png")), "0.1,0.1")
        self.assertEqual(self.crop_corners("100x100-cover.png", 100, 100, index=3),
                         (RED, RED, BLUE, BLUE))
        run("mv", "-T", self.p("posts/1/photos/3"), self.p("posts/1/photos/0"))
        other = write_quadrants(os.path.join(self.tmp, "other.png"),
                                colours=(WHITE, BLUE, GREEN, RED))
        run("cp", other, self.original)
        self.assertIsNone(self.focus_of(self.original))
        self.assertEqual(self.crop_corners("100x100-cover.png", 100, 100),
                         (WHITE, BLUE, GREEN, RED), "the centre again")

    def test_a_focus_set_before_the_commit_is_the_committed_sets(self):
        # An upload (cp -a sets the attributes on the open file): a new set
        # and a replacement.
        for index in (5, 0):
            path = self.p(f"posts/1/photos/{index}/original.png")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                other = write_quadrants(os.path.join(self.tmp, f"up{index}.png"),
                                        colours=(BLUE, WHITE, RED, GREEN))
                os.write(fd, self.read(other))
                os.setxattr(fd, FOCUS, b"0.9,0.1")
            finally:
                os.close(fd)
            self.assertEqual(self.focus_of(path), "0.9,0.1", index)
        self.assertEqual(self.crop_corners("100x100-cover.png", 100, 100),
                         (WHITE, WHITE, GREEN, GREEN))
        # A scratch file renamed onto the original (rsync's way).
        scratch = self.p("posts/1/photos/7/.original.png.Xy12ab")
        with open(scratch, "wb") as f:
            f.write(self.read(self.source))
        os.setxattr(scratch, FOCUS, b"0.1,0.9")
        self.assertErrno(errno.EINVAL, os.setxattr, scratch, FOCUS, b"0.1")
        os.rename(scratch, self.p("posts/1/photos/7/original.png"))
        self.assertEqual(self.focus_of(self.p("posts/1/photos/7/original.png")), "0.1,0.9")
        self.assertEqual(self.crop_corners("100x100-cover.png", 100, 100, index=7),
                         (RED, RED, BLUE, BLUE))

    def test_rsync_ax_and_cp_a_round_trips_keep_the_focus(self):
        os.setxattr(self.original, FOCUS, b"0.1,0.1")
        self.put("posts/1/photos/1/original.png", self.source)  # no focus
        crop = self.read(self.thumb("100x100-cover.png"))
        backup = os.path.join(self.tmp, "backup")
        result = tool("rsync", "-aX", self.mnt + "/", backup + "/")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(os.getxattr(os.path.join(backup, ORIGINAL), FOCUS), b"0.1,0.1")
        for command in (["rsync", "-aX"], ["cp", "-a"]):
            restored = self.fresh_mount()
            if command[0] == "rsync":
                result = tool(*command, backup + "/", restored.mnt + "/")
            else:
                result = tool(*command, backup + "/.", restored.mnt + "/")
            self.assertEqual(result.returncode, 0, (command, result.stderr))
            self.assertEqual(self.focus_of(restored.path(ORIGINAL)), "0.1,0.1", command)
            self.assertIsNone(self.focus_of(restored.path("posts/1/photos/1/original.png")))
            self.assertEqual(self.read(self.thumb("100x100-cover.png", restored)), crop, command)
        # Into the same store after the focus moved and was added elsewhere:
        # rsync sets (and removes) the attributes back.
        os.setxattr(self.original, FOCUS, b"0.9,0.9")
        os.setxattr(self.p("posts/1/photos/1/original.png"), FOCUS, b"0.5,0")
        result = tool("rsync", "-aX", backup + "/", self.mnt + "/")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.focus_of(self.original), "0.1,0.1")
        self.assertIsNone(self.focus_of(self.p("posts/1/photos/1/original.png")))
        self.assertEqual(self.read(self.thumb("100x100-cover.png")), crop)


if __name__ == "__main__":
    unittest.main()
