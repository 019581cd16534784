"""The namespace (DESIGN §1, §2): what each level lists, which directories
exist, what rm, rmdir, mkdir and mv do, the extended attributes, inode
numbers, streaming readdir, and the everyday tools (find, du, tar)."""

import datetime
import errno
import hashlib
import os
import subprocess

from harness import MountedTestCase, run, sanitized_or


class NamespaceTest(MountedTestCase):
    # Helpers (not tests): small images put in quickly.

    def small_jpeg(self, name="s.jpg", width=400, height=300, **kwargs):
        return self.image(name, width, height, **kwargs)

    def put_set(self, relative_set, source, ext="jpg"):
        """cp `source` to <relative_set>/original.<ext>; returns the mount path."""
        return self.put(f"{relative_set}/original.{ext}", source)

    def ls(self, relative, *flags):
        """`ls -1 -U` (directory order, not sorted) of a mount path."""
        result = run("ls", "-1", "-U", *flags, self.p(relative), check=False)
        self.assertEqual(result.returncode, 0, f"ls {relative}: {result.stderr}")
        return [line for line in result.stdout.splitlines() if line]

    def inode(self, path):
        return int(run("stat", "-c", "%i", path).stdout.strip())

    # ls at each level

    def test_root_lists_the_schema_types(self):
        self.assertEqual(sorted(self.ls("")), ["posts", "users"])

    def test_type_lists_integer_ids_numerically_then_string_ids_in_byte_order(self):
        source = self.small_jpeg()
        for entity in ["abc", "100", "007", "2", "10", "Z9", "_x"]:
            self.put_set(f"posts/{entity}/photos/0", source)
        expected = ["2", "10", "100", "007", "Z9", "_x", "abc"]
        self.assertEqual(os.listdir(self.p("posts")), expected)
        self.assertEqual(self.ls("posts"), expected)
        self.assertEqual(os.listdir(self.p("users")), [])

    def test_type_does_not_list_an_id_without_an_original(self):
        source = self.small_jpeg()
        self.put_set("posts/5/photos/0", source)
        os.makedirs(self.p("posts/6/photos/0"), exist_ok=True)
        os.stat(self.p("posts/7/photos/3/thumb"))
        self.assertEqual(os.listdir(self.p("posts")), ["5"])

    def test_entity_lists_only_attachments_holding_an_original(self):
        source = self.small_jpeg()
        self.assertEqual(self.ls("posts/42"), [])
        self.put_set("posts/42/photos/0", source)
        self.assertEqual(self.ls("posts/42"), ["photos"])
        self.put("users/7/picture/original.jpg", source)
        self.assertEqual(self.ls("users/7"), ["picture"])

    def test_attachment_lists_indexes_in_ascending_numeric_order(self):
        source = self.small_jpeg()
        for index in [300, 2, 10, 0]:
            self.put_set(f"posts/42/photos/{index}", source)
        self.assertEqual(self.ls("posts/42/photos"), ["0", "2", "10", "300"])
        self.assertEqual(os.listdir(self.p("posts/42/photos")), ["0", "2", "10", "300"])

    def test_set_lists_original_and_thumb(self):
        self.put_set("posts/42/photos/0", self.small_jpeg(), ext="jpeg")
        self.assertEqual(sorted(self.ls("posts/42/photos/0")), ["original.jpeg", "thumb"])
        self.assertEqual(sorted(self.ls("users/7/picture")), [])
        self.put("users/7/picture/original.png", self.image("p.png", 200, 100))
        self.assertEqual(sorted(self.ls("users/7/picture")), ["original.png", "thumb"])

    def test_listing_makes_no_thumbnails(self):
        self.put_set("posts/42/photos/0", self.small_jpeg())
        self.assertEqual(self.ls("posts/42/photos/0/thumb"), ["lqip.webp"])  # made at the commit
        run("ls", "-l", self.p("posts/42/photos/0"))
        run("ls", "-lR", self.p("posts"))
        self.assertEqual(self.ls("posts/42/photos/0/thumb"), ["lqip.webp"])
        self.read(self.p("posts/42/photos/0/thumb/300.jpg"))
        self.read(self.p("posts/42/photos/0/thumb/x50.png"))
        self.assertEqual(sorted(self.ls("posts/42/photos/0/thumb")),
                         ["300.jpg", "lqip.webp", "x50.png"])

    # Every well-formed directory exists

    def test_every_well_formed_directory_exists_but_is_not_listed(self):
        self.put_set("posts/42/photos/0", self.small_jpeg())
        for relative in ["posts/999/photos/5", "posts/999/photos/5/thumb", "posts/42/photos/7",
                         "users/abc/picture", "users/abc/picture/thumb"]:
            self.assertTrue(os.path.isdir(self.p(relative)), relative)
        stat = run("stat", "-c", "%F", self.p("posts/999/photos/5")).stdout.strip()
        self.assertEqual(stat, "directory")
        self.assertEqual(self.ls("posts/999/photos/5"), [])
        self.assertEqual(self.ls("posts/999/photos"), [])
        self.assertEqual(self.ls("posts/42/photos"), ["0"])
        self.assertEqual(self.ls("posts"), ["42"])

    def test_malformed_paths_do_not_exist(self):
        self.put_set("posts/42/photos/0", self.small_jpeg())
        for relative in ["comments", "posts/42/videos", "posts/42/photos/007",
                         "posts/42/photos/-1", "posts/42/photos/0/thumb/0.jpg",
                         "posts/42/photos/0/thumb/300.bmp", "posts/42/photos/0/original.png"]:
            self.assertErrno(errno.ENOENT, os.stat, self.p(relative))

    def test_mkdir_p_succeeds_and_plain_mkdir_is_eexist(self):
        result = run("mkdir", "-p", self.p("posts/999/photos/5"), check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertErrno(errno.EEXIST, os.mkdir, self.p("posts/999/photos/5"))
        self.assertErrno(errno.EEXIST, os.mkdir, self.p("posts/999"))
        self.assertEqual(self.ls("posts"), [])

    def test_rmdir_of_a_set_without_original_succeeds_and_changes_nothing(self):
        self.put_set("posts/42/photos/0", self.small_jpeg())
        os.rmdir(self.p("posts/42/photos/5"))
        self.assertTrue(os.path.isdir(self.p("posts/42/photos/5")))
        result = run("rmdir", self.p("posts/99/photos/1"), check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.ls("posts/42/photos"), ["0"])
        self.assertEqual(self.ls("posts"), ["42"])

    def test_rmdir_of_a_set_holding_an_original_is_enotempty(self):
        source = self.small_jpeg()
        self.put_set("posts/42/photos/0", source)
        self.assertErrno(errno.ENOTEMPTY, os.rmdir, self.p("posts/42/photos/0"))
        self.assertEqual(self.read(self.p("posts/42/photos/0/original.jpg")), self.read(source))

    def test_rmdir_of_an_entity_with_sets_is_enotempty(self):
        self.put_set("posts/42/photos/3", self.small_jpeg())
        self.assertErrno(errno.ENOTEMPTY, os.rmdir, self.p("posts/42"))
        self.assertErrno(errno.ENOTEMPTY, os.rmdir, self.p("posts/42/photos"))
        self.assertEqual(self.ls("posts/42/photos"), ["3"])

    # rm

    def test_rm_thumbnail_drops_it_and_the_next_read_makes_it_again(self):
        self.put_set("posts/42/photos/0", self.small_jpeg())
        thumb = self.p("posts/42/photos/0/thumb/300.jpg")
        first = self.read(thumb)
        self.read(self.p("posts/42/photos/0/thumb/100.jpg"))
        run("rm", thumb)
        self.assertEqual(self.ls("posts/42/photos/0/thumb"), ["100.jpg", "lqip.webp"])
        again = self.read(thumb)
        self.assertEqual(len(again), len(first))
        self.assertEqual(os.stat(thumb).st_size, len(first))
        self.assertEqual(sorted(self.ls("posts/42/photos/0/thumb")),
                         ["100.jpg", "300.jpg", "lqip.webp"])

    def test_rm_original_removes_the_whole_set(self):
        self.put_set("posts/42/photos/0", self.small_jpeg())
        self.put_set("posts/42/photos/1", self.small_jpeg("b.jpg", 500, 300))
        self.read(self.p("posts/42/photos/0/thumb/300.jpg"))
        self.read(self.p("posts/42/photos/0/thumb/x100.png"))
        run("rm", self.p("posts/42/photos/0/original.jpg"))
        self.assertEqual(self.ls("posts/42/photos"), ["1"])
        self.assertEqual(self.ls("posts/42/photos/0"), [])
        self.assertEqual(self.ls("posts/42/photos/0/thumb"), [])
        self.assertErrno(errno.ENOENT, os.stat, self.p("posts/42/photos/0/original.jpg"))
        self.assertErrno(errno.ENOENT, os.stat, self.p("posts/42/photos/0/thumb/300.jpg"))

    def test_rm_r_entity_removes_every_set_without_error(self):
        source = self.small_jpeg()
        for index in range(3):
            self.put_set(f"posts/42/photos/{index}", source)
            self.read(self.p(f"posts/42/photos/{index}/thumb/100.jpg"))
            self.read(self.p(f"posts/42/photos/{index}/thumb/x50.webp"))
        self.put_set("posts/43/photos/0", source)
        result = run("rm", "-rv", self.p("posts/42"), check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")
        self.assertIn("removed", result.stdout)
        self.assertEqual(self.ls("posts"), ["43"])
        self.assertEqual(self.ls("posts/42"), [])
        self.assertEqual(self.ls("posts/42/photos"), [])
        for index in range(3):
            self.assertEqual(self.ls(f"posts/42/photos/{index}/thumb"), [])
        found = run("find", self.p("posts/42")).stdout.split()
        self.assertEqual(found, [self.p("posts/42")])

    # mv -T

    def test_mv_t_reorders_a_set_with_its_thumbnails(self):
        source = self.small_jpeg()
        self.put_set("posts/42/photos/3", source)
        thumbs = {}
        for name in ["300.jpg", "x100.png"]:
            thumbs[name] = self.read(self.p(f"posts/42/photos/3/thumb/{name}"))
        result = run("mv", "-T", self.p("posts/42/photos/3"), self.p("posts/42/photos/1"),
                     check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.ls("posts/42/photos"), ["1"])
        self.assertEqual(self.read(self.p("posts/42/photos/1/original.jpg")), self.read(source))
        self.assertEqual(sorted(self.ls("posts/42/photos/1/thumb")),
                         ["300.jpg", "lqip.webp", "x100.png"])
        for name, data in thumbs.items():
            self.assertEqual(self.read(self.p(f"posts/42/photos/1/thumb/{name}")), data)
        self.assertEqual(self.ls("posts/42/photos/3/thumb"), [])

    def test_mv_onto_a_set_holding_an_original_is_enotempty(self):
        a = self.small_jpeg("a.jpg", 400, 300)
        b = self.small_jpeg("b.jpg", 300, 400)
        self.put_set("posts/42/photos/3", a)
        self.put_set("posts/42/photos/1", b)
        self.assertErrno(errno.ENOTEMPTY, os.rename, self.p("posts/42/photos/3"),
                         self.p("posts/42/photos/1"))
        self.assertEqual(self.read(self.p("posts/42/photos/3/original.jpg")), self.read(a))
        self.assertEqual(self.read(self.p("posts/42/photos/1/original.jpg")), self.read(b))
        self.assertEqual(self.ls("posts/42/photos"), ["1", "3"])

    def test_mv_to_another_entity_of_the_same_type_and_attachment(self):
        source = self.small_jpeg()
        self.put_set("posts/42/photos/3", source)
        thumb = self.read(self.p("posts/42/photos/3/thumb/200.jpg"))
        result = run("mv", "-T", self.p("posts/42/photos/3"), self.p("posts/43/photos/0"),
                     check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.ls("posts"), ["43"])
        self.assertEqual(self.read(self.p("posts/43/photos/0/original.jpg")), self.read(source))
        self.assertEqual(self.read(self.p("posts/43/photos/0/thumb/200.jpg")), thumb)
        self.assertEqual(self.ls("posts/43/photos/0/thumb"), ["200.jpg", "lqip.webp"])

    def test_mv_to_another_attachment_or_type_is_exdev(self):
        source = self.small_jpeg()
        self.put_set("posts/42/photos/3", source)
        self.assertErrno(errno.EXDEV, os.rename, self.p("posts/42/photos/3"),
                         self.p("users/7/picture"))
        self.assertEqual(self.ls("posts/42/photos"), ["3"])
        self.assertEqual(self.ls("users"), [])

    def test_mv_without_t_moves_into_the_directory_and_is_einval(self):
        source = self.small_jpeg()
        self.put_set("posts/42/photos/3", source)
        result = run("mv", self.p("posts/42/photos/3"), self.p("posts/42/photos/1"), check=False)
        # rename(2) answers EINVAL, which mv words as "to a subdirectory of itself".
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("subdirectory of itself", result.stderr)
        self.assertErrno(errno.EINVAL, os.rename, self.p("posts/42/photos/3"),
                         self.p("posts/42/photos/1/3"))
        self.assertEqual(self.ls("posts/42/photos"), ["3"])
        self.assertEqual(self.read(self.p("posts/42/photos/3/original.jpg")), self.read(source))

    def test_renaming_a_committed_original_is_eperm(self):
        source = self.small_jpeg()
        self.put_set("posts/42/photos/3", source)
        original = self.p("posts/42/photos/3/original.jpg")
        self.assertErrno(errno.EPERM, os.rename, original, self.p("posts/42/photos/3/original.png"))
        self.assertErrno(errno.EPERM, os.rename, original, self.p("posts/42/photos/3/.keep.jpg"))
        self.assertEqual(self.read(original), self.read(source))

    def test_after_mv_t_old_path_is_an_empty_dir_and_new_path_reads_the_moved_original(self):
        a = self.small_jpeg("a.jpg", 400, 300)
        b = self.small_jpeg("b.jpg", 640, 480)
        self.put_set("posts/42/photos/3", a)
        self.put_set("posts/42/photos/1", b)
        # The kernel has both cached, then 1 is emptied and 3 moved onto it.
        self.assertEqual(self.read(self.p("posts/42/photos/1/original.jpg")), self.read(b))
        self.assertEqual(self.read(self.p("posts/42/photos/3/original.jpg")), self.read(a))
        run("rm", self.p("posts/42/photos/1/original.jpg"))
        run("mv", "-T", self.p("posts/42/photos/3"), self.p("posts/42/photos/1"))
        self.assertTrue(os.path.isdir(self.p("posts/42/photos/3")))
        self.assertEqual(self.ls("posts/42/photos/3"), [])
        self.assertErrno(errno.ENOENT, os.stat, self.p("posts/42/photos/3/original.jpg"))
        moved = self.p("posts/42/photos/1/original.jpg")
        self.assertEqual(self.read(moved), self.read(a))
        self.assertEqual(os.stat(moved).st_size, len(self.read(a)))
        self.assertEqual(self.ls("posts/42/photos"), ["1"])

    # Extended attributes

    def test_xattr_width_and_height_are_as_displayed_after_exif_orientation(self):
        rotated = self.small_jpeg("r.jpg", 300, 200, orientation=6)
        original = self.put_set("posts/42/photos/0", rotated)
        self.assertEqual(os.getxattr(original, "user.image.width"), b"200")
        self.assertEqual(os.getxattr(original, "user.image.height"), b"300")
        self.assertEqual(os.getxattr(original, "user.image.mimetype"), b"image/jpeg")
        thumb = self.p("posts/42/photos/0/thumb/100.png")
        self.assertEqual(os.getxattr(thumb, "user.image.width"), b"100")
        self.assertEqual(os.getxattr(thumb, "user.image.height"), b"150")
        self.assertEqual(os.getxattr(thumb, "user.image.mimetype"), b"image/png")

    def test_xattr_sha256_and_created_at_of_original_and_thumbnail(self):
        source = self.small_jpeg()
        original = self.put_set("posts/42/photos/0", source)
        thumb = self.p("posts/42/photos/0/thumb/120.webp")
        for path in [original, thumb]:
            data = self.read(path)
            self.assertEqual(os.getxattr(path, "user.image.sha256").decode(),
                             hashlib.sha256(data).hexdigest(), path)
            created = os.getxattr(path, "user.image.created_at").decode()
            self.assertRegex(created, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")
            when = datetime.datetime.fromisoformat(created.replace("Z", "+00:00"))
            self.assertEqual(when.utcoffset(), datetime.timedelta(0))
            now = datetime.datetime.now(datetime.timezone.utc)
            self.assertLess(abs((now - when).total_seconds()), 60, created)
        self.assertEqual(os.getxattr(thumb, "user.image.mimetype"), b"image/webp")
        self.assertEqual(os.getxattr(original, "user.image.sha256").decode(),
                         hashlib.sha256(self.read(source)).hexdigest())

    def test_getfattr_dump_lists_the_image_attributes(self):
        original = self.put_set("posts/42/photos/0", self.small_jpeg())
        expected = {"user.image.width", "user.image.height", "user.image.mimetype",
                    "user.image.created_at", "user.image.sha256"}
        placeholders = {"user.image.blurhash", "user.image.color"}  # originals only
        for path, names_of in [(original, expected | placeholders),
                               (self.p("posts/42/photos/0/thumb/100.jpg"), expected)]:
            out = run("getfattr", "-d", path).stdout
            names = {line.split("=", 1)[0] for line in out.splitlines() if "=" in line}
            self.assertEqual(names, names_of, out)
        self.assertEqual(set(os.listxattr(original)), expected | placeholders)
        self.assertIn('user.image.width="400"', run("getfattr", "-d", original).stdout)

    def test_setting_an_xattr_to_another_value_or_removing_one_is_refused(self):
        original = self.put_set("posts/42/photos/0", self.small_jpeg())
        # Computed from the bytes: only its own value (a restore) is accepted.
        result = run("setfattr", "-n", "user.image.width", "-v", "1", original, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("Operation not permitted", result.stderr)
        run("setfattr", "-n", "user.image.width", "-v", "400", original)
        result = run("setfattr", "-n", "user.comment", "-v", "x", original, check=False)
        self.assertIn("Operation not supported", result.stderr)
        self.assertErrno(errno.ENOTSUP, os.removexattr, original, "user.image.width")
        self.assertEqual(os.getxattr(original, "user.image.width"), b"400")

    def test_a_directory_has_no_xattrs(self):
        self.put_set("posts/42/photos/0", self.small_jpeg())
        for relative in ["", "posts", "posts/42", "posts/42/photos", "posts/42/photos/0",
                         "posts/42/photos/0/thumb"]:
            self.assertEqual(os.listxattr(self.p(relative)), [], relative)

    # Inode numbers

    def test_two_originals_have_different_inode_numbers(self):
        source = self.small_jpeg()
        a = self.put_set("posts/42/photos/0", source)
        b = self.put_set("posts/42/photos/1", source)  # same bytes, other set
        self.assertNotEqual(self.inode(a), self.inode(b))
        thumb_a = self.p("posts/42/photos/0/thumb/100.jpg")
        thumb_b = self.p("posts/42/photos/1/thumb/100.jpg")
        self.read(thumb_a)
        self.read(thumb_b)
        self.assertNotEqual(self.inode(thumb_a), self.inode(thumb_b))

    def test_an_original_keeps_its_inode_number_until_replaced(self):
        original = self.put_set("posts/42/photos/0", self.small_jpeg())
        before = self.inode(original)
        self.assertEqual(self.inode(original), before)
        self.assertEqual(os.stat(original).st_ino, before)
        replacement = self.small_jpeg("b.jpg", 640, 480)
        self.put_set("posts/42/photos/0", replacement)
        after = self.inode(original)
        self.assertNotEqual(after, before)
        self.assertEqual(self.inode(original), after)
        self.assertEqual(os.getxattr(original, "user.image.width"), b"640")

    def test_replacing_an_original_serves_the_new_version_at_once(self):
        original = self.put_set("posts/42/photos/0", self.small_jpeg())
        self.read(self.p("posts/42/photos/0/thumb/100.jpg"))
        os.stat(original)  # the kernel knows the name
        replacement = self.small_jpeg("b.jpg", 640, 480)
        self.put_set("posts/42/photos/0", replacement)
        self.assertEqual(os.stat(original).st_size, os.path.getsize(replacement))
        self.assertEqual(self.read(original), self.read(replacement))
        self.assertEqual(os.getxattr(original, "user.image.width"), b"640")
        thumb = self.p("posts/42/photos/0/thumb/100.jpg")
        self.assertEqual(os.getxattr(thumb, "user.image.height"), b"75")

    # Streaming readdir

    def test_type_with_thousands_of_ids_lists_each_once_in_numeric_order(self):
        data = self.read(self.image("tiny.jpg", 8, 8))
        # 1000 ids (400 under the sanitizers) span several readdir batches
        # (a 4 KiB batch holds ~150 names).
        made = [str(entity) for entity in range(1, sanitized_or(1001, 401))]
        for entity in made:
            self.write_through_fd(self.p(f"posts/{entity}/photos/0/original.jpg"), data,
                                  settle=False)  # lqip.webp made behind: not listed here
        listed = os.listdir(self.p("posts"))
        self.assertEqual(len(listed), len(set(listed)))
        self.assertEqual(listed, made)
        self.assertEqual(self.ls("posts"), made)

    def test_scandir_of_an_attachment_with_300_sets_gives_indexes_in_order(self):
        data = self.read(self.image("tiny.jpg", 8, 8))
        for index in reversed(range(300)):
            self.write_through_fd(self.p(f"posts/1/photos/{index}/original.jpg"), data,
                                  settle=False)
        with os.scandir(self.p("posts/1/photos")) as entries:
            names = [(entry.name, entry.is_dir()) for entry in entries]
        self.assertEqual(names, [(str(i), True) for i in range(300)])

    def test_ls_f_lists_what_listdir_lists_plus_the_dots(self):
        data = self.read(self.image("tiny.jpg", 8, 8))
        for entity in ["3", "1", "20", "x", "05"]:
            for index in [0, 7]:
                self.write_through_fd(self.p(f"posts/{entity}/photos/{index}/original.jpg"), data)
        for relative in ["", "posts", "posts/20", "posts/20/photos", "posts/20/photos/7"]:
            out = run("ls", "-f", self.p(relative)).stdout.split()
            self.assertEqual(out[:2], [".", ".."], relative)
            self.assertEqual(out[2:], os.listdir(self.p(relative)), relative)
        self.assertEqual(os.listdir(self.p("posts")), ["1", "3", "20", "05", "x"])

    def test_readdir_resumes_after_a_rewind(self):
        data = self.read(self.image("tiny.jpg", 8, 8))
        for index in range(40):
            self.write_through_fd(self.p(f"posts/1/photos/{index}/original.jpg"), data,
                                  settle=False)
        # Python's scandir iterator over a fresh descriptor twice, and listdir,
        # agree; then the same directory read by a second tool.
        first = os.listdir(self.p("posts/1/photos"))
        fd = os.open(self.p("posts/1/photos"), os.O_RDONLY | os.O_DIRECTORY)
        try:
            second = os.listdir(fd)
            os.lseek(fd, 0, os.SEEK_SET)
            third = os.listdir(fd)
        finally:
            os.close(fd)
        expected = [str(i) for i in range(40)]
        self.assertEqual(first, expected)
        self.assertEqual(second, expected)
        self.assertEqual(third, expected)

    # Everyday tools

    def test_find_lists_originals_and_only_stored_thumbnails(self):
        source = self.small_jpeg()
        self.put_set("posts/42/photos/0", source)
        self.put_set("posts/42/photos/5", source)
        self.put("users/7/picture/original.png", self.image("p.png", 200, 100))
        self.read(self.p("posts/42/photos/5/thumb/100.jpg"))
        self.read(self.p("users/7/picture/thumb/x20.gif"))
        out = run("find", ".", "-type", "f", cwd=self.mnt).stdout.split()
        self.assertEqual(sorted(out), sorted([
            "./posts/42/photos/0/original.jpg",
            "./posts/42/photos/0/thumb/lqip.webp",
            "./posts/42/photos/5/original.jpg",
            "./posts/42/photos/5/thumb/100.jpg",
            "./posts/42/photos/5/thumb/lqip.webp",
            "./users/7/picture/original.png",
            "./users/7/picture/thumb/lqip.webp",
            "./users/7/picture/thumb/x20.gif",
        ]))
        dirs = run("find", ".", "-type", "d", cwd=self.mnt).stdout.split()
        self.assertIn("./posts/42/photos/0/thumb", dirs)
        self.assertNotIn("./posts/42/photos/1", dirs)

    def test_du_counts_the_stored_files(self):
        source = self.image("big.png", 600, 400)
        self.put_set("posts/42/photos/0", source, ext="png")
        result = run("du", "-s", "-B1", "--apparent-size", self.p("posts"), check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        apparent = int(result.stdout.split()[0])
        self.assertGreaterEqual(apparent, os.path.getsize(source))
        result = run("du", "-s", self.mnt, check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertGreater(int(result.stdout.split()[0]), 0)

    def test_tar_of_the_mount_lists_and_extracts_the_files(self):
        source = self.small_jpeg()
        self.put_set("posts/42/photos/0", source)
        self.read(self.p("posts/42/photos/0/thumb/100.jpg"))
        tar = subprocess.run(f"tar -cf - -C {self.mnt} posts | tar -tf -", shell=True,
                             capture_output=True, text=True)
        self.assertEqual(tar.returncode, 0, tar.stderr)
        files = [name for name in tar.stdout.split() if not name.endswith("/")]
        self.assertEqual(sorted(files), ["posts/42/photos/0/original.jpg",
                                         "posts/42/photos/0/thumb/100.jpg",
                                         "posts/42/photos/0/thumb/lqip.webp"])
        out = os.path.join(self.tmp, "out")
        os.mkdir(out)
        tar = subprocess.run(f"tar -cf - -C {self.mnt} posts | tar -xf - -C {out}", shell=True,
                             capture_output=True, text=True)
        self.assertEqual(tar.returncode, 0, tar.stderr)
        self.assertEqual(self.read(os.path.join(out, "posts/42/photos/0/original.jpg")),
                         self.read(source))

    def test_hard_and_symbolic_links_are_eperm(self):
        original = self.put_set("posts/42/photos/0", self.small_jpeg())
        self.assertErrno(errno.EPERM, os.link, original, self.p("posts/42/photos/1/original.jpg"))
        self.assertErrno(errno.EPERM, os.symlink, "original.jpg",
                         self.p("posts/42/photos/0/.link"))
        result = run("ln", "-s", original, self.p("posts/42/photos/2/original.jpg"), check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("Operation not permitted", result.stderr)
        result = run("ln", original, self.p("posts/42/photos/0/.hard"), check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("Operation not permitted", result.stderr)
        self.assertEqual(self.ls("posts/42/photos"), ["0"])
