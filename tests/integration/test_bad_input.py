"""What bad input gets (DESIGN §4): a clear errno, nothing stored, the previous
original intact, and one log line naming the path and the reason. The log line
of a refused upload is written at RELEASE (DESIGN §5b), which the kernel sends
after close() returns, so the log is polled."""

import errno
import os
import stat
import struct
import zlib

from harness import Mount, MountedTestCase, run

SET = "posts/1/photos/0"
ORIGINAL = SET + "/original.jpg"
SINGLE = "users/7/picture/original.jpg"
NOT_AN_IMAGE = b"this is a text file, not an image\n" * 20


def png_chunk(kind, payload):
    return (struct.pack(">I", len(payload)) + kind + payload +
            struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))


def png_claiming(width, height):
    """A tiny PNG whose header claims width x height (8-bit RGB) with a few bytes
    of pixel data: a decompression bomb's header."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", pixels) +
            png_chunk(b"IEND", b""))


SCHEMA = """\
[posts.photos]
multiple = true
{limits}

[users.picture]
multiple = false
{limits}
"""


class BadInputTest(MountedTestCase):
    # Helpers (not tests: they do not start with "test_").

    def source(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def daemon_peak_rss_kb(self):
        with open(f"/proc/{self.mount.proc.pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

    def log_lines(self, needle):
        return self.mount.log_lines(needle)

    def assertOneLogLine(self, needle, *reasons):
        """Exactly one log line names `needle`, and it contains each of `reasons`."""
        lines = self.log_lines(needle)
        self.assertEqual(len(lines), 1, f"log lines naming {needle}:\n" + self.mount.read_log())
        for reason in reasons:
            self.assertIn(reason, lines[0].lower())

    def assertNothingStored(self, relative):
        self.assertErrno(errno.ENOENT, os.stat, self.p(relative))
        self.assertEqual(os.listdir(self.p(os.path.dirname(relative))), [])

    def assertStillStored(self, relative, data):
        self.assertEqual(self.read(self.p(relative)), data)
        self.assertEqual(os.stat(self.p(relative)).st_size, len(data))

    def mount_with_limits(self, limits):
        """Remounts the same store with a schema whose originals have `limits`."""
        self.mount.stop()
        schema = os.path.join(self.tmp, "schema.conf")
        with open(schema, "w") as f:
            f.write(SCHEMA.format(limits=limits))
        self.mount = Mount(self.tmp, options=["schema=" + schema])
        self.addCleanup(self.mount.stop)
        self.mount.start()

    # Bytes that are not an image of the named format

    def test_cp_of_non_image_bytes_fails_with_einval_and_stores_nothing(self):
        source = self.source("notes.jpg", NOT_AN_IMAGE)
        for relative in (ORIGINAL, SINGLE):
            result = run("cp", source, self.p(relative), check=False)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("Invalid argument", result.stderr)
            self.assertNothingStored(relative)
            self.assertOneLogLine("/" + relative, "refused")
        self.assertEqual(os.listdir(self.p("posts")), [])
        self.assertEqual(os.listdir(self.p("users")), [])

    def test_close_after_writing_non_image_bytes_raises_einval(self):
        for relative in (ORIGINAL, SINGLE):
            self.assertErrno(errno.EINVAL, self.write_through_fd, self.p(relative), NOT_AN_IMAGE)
            self.assertNothingStored(relative)
            self.assertOneLogLine("/" + relative, "refused")

    def test_truncated_jpeg_is_refused_with_einval(self):
        photo = self.read(self.sample("rocket.jpg"))
        half = photo[: len(photo) // 2]
        for relative in (ORIGINAL, SINGLE):
            self.assertErrno(errno.EINVAL, self.write_through_fd, self.p(relative), half)
            self.assertNothingStored(relative)
            self.assertOneLogLine("/" + relative, "refused")

    def test_png_bytes_written_to_original_jpg_are_refused_with_einval(self):
        png = self.read(self.sample("chelsea.png"))
        result = run("cp", self.sample("chelsea.png"), self.p(ORIGINAL), check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("Invalid argument", result.stderr)
        self.assertNothingStored(ORIGINAL)
        self.assertOneLogLine("/" + ORIGINAL, "png")
        self.assertErrno(errno.EINVAL, self.write_through_fd, self.p(SINGLE), png)
        self.assertNothingStored(SINGLE)
        self.assertOneLogLine("/" + SINGLE, "png")

    def test_empty_file_is_refused_with_einval(self):
        for relative in (ORIGINAL, SINGLE):
            fd = os.open(self.p(relative), os.O_CREAT | os.O_WRONLY, 0o644)
            self.assertErrno(errno.EINVAL, os.close, fd)
            self.assertNothingStored(relative)
            self.assertOneLogLine("/" + relative, "empty")

    # Limits

    def test_original_over_max_bytes_is_refused_with_efbig(self):
        self.mount_with_limits("max_bytes = 10K")
        photo = self.sample("rocket.jpg")
        self.assertGreater(os.path.getsize(photo), 10_000)
        small = self.read(self.image("small.png", 16, 16))
        self.assertLess(len(small), 10_000)
        for relative in (ORIGINAL, SINGLE):
            result = run("cp", photo, self.p(relative), check=False)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("File too large", result.stderr)
            self.assertNothingStored(relative)
            self.assertOneLogLine("/" + relative, "refused")
        # Under the limit, the same sets take an original.
        self.write_through_fd(self.p(SET + "/original.png"), small)
        self.assertStillStored(SET + "/original.png", small)

    def test_original_over_max_pixels_is_refused_with_efbig(self):
        self.mount_with_limits("max_pixels = 1M")
        big = self.read(self.image("big.png", 1001, 1000))
        fits = self.read(self.image("fits.png", 1000, 1000))
        for relative in (SET + "/original.png", "users/7/picture/original.png"):
            self.assertErrno(errno.EFBIG, self.write_through_fd, self.p(relative), big)
            self.assertNothingStored(relative)
            self.assertOneLogLine("/" + relative, "refused")
            self.write_through_fd(self.p(relative), fits)
            self.assertStillStored(relative, fits)

    def test_decompression_bomb_header_is_refused_by_its_header_with_efbig(self):
        bomb = png_claiming(50000, 50000)
        self.assertLess(len(bomb), 200)
        for relative in (SET + "/original.png", "users/7/picture/original.png"):
            before = self.daemon_peak_rss_kb()
            self.assertErrno(errno.EFBIG, self.write_through_fd, self.p(relative), bomb)
            # Judged from the header: its 7.5 GB of pixels were never allocated.
            self.assertLess(self.daemon_peak_rss_kb() - before, 256 * 1024)
            self.assertNothingStored(relative)
            self.assertOneLogLine("/" + relative, "refused")

    # The previous original stays

    def test_refused_upload_leaves_the_previous_original_intact(self):
        photo = self.read(self.sample("rocket.jpg"))
        garbage = self.source("garbage.jpg", NOT_AN_IMAGE)
        for relative in (ORIGINAL, SINGLE):
            self.write_through_fd(self.p(relative), photo)
            result = run("cp", garbage, self.p(relative), check=False)
            self.assertNotEqual(result.returncode, 0)
            self.assertStillStored(relative, photo)
            self.assertErrno(errno.EINVAL, self.write_through_fd, self.p(relative),
                             photo[: len(photo) // 2])
            self.assertStillStored(relative, photo)
            # Two refusals (the commit of the photo is an info line of its own).
            self.assertEqual(len([l for l in self.log_lines("/" + relative) if "refused" in l]), 2)
        self.remount()
        self.assertStillStored(ORIGINAL, photo)
        self.assertStillStored(SINGLE, photo)

    def test_rename_of_a_bad_staging_file_fails_with_einval_and_keeps_the_original(self):
        photo = self.read(self.sample("rocket.jpg"))
        for relative in (ORIGINAL, SINGLE):
            set_dir = os.path.dirname(relative)
            self.write_through_fd(self.p(relative), photo)
            staging = self.p(set_dir + "/.original.jpg.Bad123")
            self.write_through_fd(staging, NOT_AN_IMAGE)
            self.assertErrno(errno.EINVAL, os.rename, staging, self.p(relative))
            self.assertStillStored(relative, photo)
            self.assertOneLogLine("/" + set_dir + "/.original.jpg.Bad123", "refused")

    # Paths outside the grammar

    def test_bad_path_components_are_enoent_on_lookup(self):
        self.write_through_fd(self.p(ORIGINAL), self.read(self.image("a.jpg", 400, 300)))
        bad = [
            "videos", "videos/1", "Posts/1",                               # unknown type
            "posts/a b", "posts/" + "x" * 129, "posts/a*b", "posts/1/photos/x/original.jpg",
            "posts/1/videos", "users/7/photos",                            # unknown attachment
            "posts/1/photos/007", "posts/1/photos/-1", "posts/1/photos/+1",
            "posts/1/photos/4294967296", "posts/1/photos/ 1", "users/7/picture/0",
            "users/7/picture/index.json", SET + "/index.json", SET + "/thumb/meta.json",
            SET + "/original.bmp", SET + "/original.txt", SET + "/original", SET + "/foo.jpg",
            SET + "/thumb/0.jpg", SET + "/thumb/abc", SET + "/thumb/300.bmp",
            SET + "/thumb/0300.jpg", SET + "/thumb/x0.jpg", SET + "/thumb/300.JPEG",
            SET + "/thumb/300", SET + "/thumb/-300.jpg", SET + "/thumb/5000.jpg",
            "users/7/picture/thumb/0.png",
        ]
        for relative in bad:
            self.assertErrno(errno.ENOENT, os.stat, self.p(relative))
        self.assertEqual(os.listdir(self.p(SET + "/thumb")), ["lqip.webp"])  # made at the commit
        # The same well-formed, for contrast: a 128-byte id and a string id exist.
        os.stat(self.p("posts/" + "x" * 128 + "/photos/0"))
        os.stat(self.p("posts/007/photos/4294967295"))

    def test_thumbnail_wider_or_higher_than_the_original_is_enoent_and_makes_nothing(self):
        self.write_through_fd(self.p(ORIGINAL), self.read(self.image("a.jpg", 400, 300)))
        self.write_through_fd(self.p(SINGLE), self.read(self.image("b.jpg", 400, 300)))
        self.settle()  # their lqip.webp, made at the commit
        for set_dir in (SET, os.path.dirname(SINGLE)):
            for name in ("401.jpg", "x301.jpg", "4096.png", "x4096.webp"):
                self.assertErrno(errno.ENOENT, os.stat, self.p(f"{set_dir}/thumb/{name}"))
                self.assertErrno(errno.ENOENT, open, self.p(f"{set_dir}/thumb/{name}"), "rb")
            self.assertEqual(os.listdir(self.p(f"{set_dir}/thumb")), ["lqip.webp"])
            os.stat(self.p(f"{set_dir}/thumb/400.jpg"))  # at the original's size: made
            self.assertEqual(sorted(os.listdir(self.p(f"{set_dir}/thumb"))), ["400.jpg", "lqip.webp"])

    def test_creating_a_name_outside_the_grammar_is_einval(self):
        flags = os.O_CREAT | os.O_WRONLY | os.O_TRUNC
        for relative in (SET + "/foo.jpg", SET + "/original.bmp", SET + "/index.json",
                         "users/7/picture/original.txt"):
            self.assertErrno(errno.EINVAL, os.open, self.p(relative), flags, 0o644)
            self.assertOneLogLine(os.path.basename(relative), "refused")
            self.assertErrno(errno.ENOENT, os.stat, self.p(relative))
        # Under a directory that is not there, lookup fails first.
        self.assertErrno(errno.ENOENT, os.open, self.p("posts/1/photos/007/original.jpg"),
                         flags, 0o644)
        self.assertEqual(os.listdir(self.p("posts")), [])

    def test_mkdir_of_a_bad_name_is_einval(self):
        for relative in ("posts/1/photos/007", "posts/1/photos/abc", "posts/1/videos",
                         "posts/a b", "videos", SET + "/foo", "users/7/picture/0"):
            self.assertErrno(errno.EINVAL, os.mkdir, self.p(relative))
            self.assertErrno(errno.ENOENT, os.stat, self.p(relative))
        # A well-formed directory exists already.
        self.assertErrno(errno.EEXIST, os.mkdir, self.p("posts/1/photos/3"))

    # thumb/ is made, not written

    def test_writes_of_a_thumbnail_are_dropped_and_other_names_in_thumb_are_eperm(self):
        self.write_through_fd(self.p(ORIGINAL), self.read(self.image("a.jpg", 400, 300)))
        flags = os.O_CREAT | os.O_WRONLY | os.O_TRUNC
        for name in ("foo", "x.jpg", "300.bmp"):
            self.assertErrno(errno.EPERM, os.open, self.p(f"{SET}/thumb/{name}"), flags, 0o644)
        # A thumbnail's name (a restore: cp -a, tar -x) is accepted and its
        # bytes dropped; one larger than the original is never made.
        self.write_through_fd(self.p(f"{SET}/thumb/999.jpg"), b"evil", flags)
        self.assertEqual(os.listdir(self.p(SET + "/thumb")), ["lqip.webp"])
        self.assertErrno(errno.ENOENT, os.stat, self.p(f"{SET}/thumb/999.jpg"))
        # An existing thumbnail, opened for writing (as root: no 0444 check first).
        thumb = self.p(f"{SET}/thumb/100.jpg")
        made = self.read(thumb)
        self.assertEqual(stat.S_IMODE(os.stat(thumb).st_mode), 0o444)
        for write_flags in (os.O_WRONLY, os.O_RDWR, os.O_WRONLY | os.O_TRUNC, flags):
            self.write_through_fd(thumb, b"evil" * 10000, write_flags)
            self.assertEqual(self.read(thumb), made)
            self.assertEqual(os.stat(thumb).st_size, len(made))
        os.truncate(thumb, 1)
        result = run("sh", "-c", 'printf x > "$1"', "sh", thumb, check=False)
        self.assertEqual(result.returncode, 0)
        self.assertEqual(self.read(thumb), made)
        self.assertEqual(os.stat(thumb).st_size, len(made))
        self.assertEqual(self.mount.read_log().count("refused"), 3)  # foo, x.jpg, 300.bmp

    # Links, device nodes, attributes

    def test_hard_links_symlinks_and_device_nodes_are_eperm(self):
        photo = self.read(self.sample("rocket.jpg"))
        self.write_through_fd(self.p(ORIGINAL), photo)
        original = self.p(ORIGINAL)
        self.assertErrno(errno.EPERM, os.link, original, self.p(SET + "/original.jpg~"))
        self.assertErrno(errno.EPERM, os.symlink, "original.jpg", self.p(SET + "/.link"))
        self.assertErrno(errno.EPERM, os.mknod, self.p(SET + "/.fifo"), stat.S_IFIFO | 0o644)
        for tool in (("ln", original, self.p(SET + "/.hard")),
                     ("ln", "-s", "original.jpg", self.p(SET + "/.soft"))):
            result = run(*tool, check=False)
            self.assertNotEqual(result.returncode, 0, tool)
            self.assertIn("Operation not permitted", result.stderr)
        self.assertEqual(sorted(os.listdir(self.p(SET))), ["original.jpg", "thumb"])
        self.assertEqual(self.read(original), photo)

    def test_setting_an_xattr_to_another_value_is_refused_and_security_names_are_enotsup(self):
        original = self.p(ORIGINAL)
        self.write_through_fd(original, self.read(self.image("a.jpg", 400, 300)))
        self.assertEqual(os.getxattr(original, "user.image.width"), b"400")
        self.assertErrno(errno.EPERM, os.setxattr, original, "user.image.width", b"1")
        self.assertErrno(errno.EINVAL, os.setxattr, original, "user.image.created_at", b"1")
        self.assertErrno(errno.ENOTSUP, os.setxattr, original, "user.comment", b"1")
        self.assertErrno(errno.ENOTSUP, os.setxattr, self.p(SET), "user.image.width", b"1")
        for name in ("user.image.width", "user.comment"):
            self.assertErrno(errno.ENOTSUP, os.removexattr, original, name)
        self.assertErrno(errno.ENOTSUP, os.getxattr, original, "security.selinux")
        self.assertErrno(errno.ENOTSUP, os.getxattr, self.p(SET), "security.selinux")
        self.assertErrno(errno.ENOTSUP, os.getxattr, original, "system.posix_acl_access")
        result = run("setfattr", "-n", "user.x", "-v", "1", original, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(os.getxattr(original, "user.image.width"), b"400")

    # Tools that do not look at close()

    def test_shell_builtin_redirect_of_bad_bytes_logs_one_refusal_and_stores_nothing(self):
        for relative in (ORIGINAL, SINGLE):
            run("sh", "-c", 'printf x > "$1"', "sh", self.p(relative), check=False)
            self.assertNothingStored(relative)
            self.assertOneLogLine("/" + relative, "refused")

    def test_dd_of_non_image_bytes_reports_failure(self):
        source = self.source("notes.jpg", NOT_AN_IMAGE)
        for relative in (ORIGINAL, SINGLE):
            result = run("dd", f"if={source}", f"of={self.p(relative)}", "bs=100",
                         "status=none", check=False)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("Invalid argument", result.stderr)
            self.assertNothingStored(relative)
            self.assertOneLogLine("/" + relative, "refused")
