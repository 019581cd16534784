"""Writing originals (DESIGN §2, the write rows): cp, cat >, dd, rsync and its
staging files, replacement, identical commits, mtimes, modes, remount and
kill -9. Each behaviour is checked on a "multiple" attachment
(/posts/ID/photos/N/) and, where the level matters, on a "single" one
(/users/ID/picture/)."""

import os
import stat
import time

from harness import MountedTestCase, run, vips_size

# One set directory of each kind of attachment: multiple, single.
SETS = ("posts/1/photos/0", "users/7/picture")
# A fixed mtime with a nanosecond part, as rsync and cp -p set it.
MTIME_NS = 1_600_000_000 * 10**9 + 123_456_789


class UploadsTest(MountedTestCase):
    # Helpers (not tests: they do not start with "test_").

    def listing(self, relative):
        return sorted(os.listdir(self.p(relative)))

    def read_or_errno(self, path):
        """The bytes of `path`, or the errno that reading it raised."""
        try:
            return self.read(path)
        except OSError as error:
            return error.errno

    def thumb_size(self, path):
        """(width, height) of the thumbnail read from the mount at `path`."""
        copy = os.path.join(self.tmp, "thumb-" + os.path.basename(path))
        with open(copy, "wb") as f:
            f.write(self.read(path))
        return vips_size(copy)

    def assertStored(self, relative, source):
        """The original at `relative` holds exactly the bytes of `source`."""
        expected = self.read(source)
        self.assertEqual(self.read(self.p(relative)), expected)
        self.assertEqual(os.stat(self.p(relative)).st_size, len(expected))

    # cp, cat > and dd

    def test_cp_commits_byte_exact_on_an_empty_store_without_mkdir(self):
        photo = self.sample("rocket.jpg")
        for set_dir in SETS:
            self.put(f"{set_dir}/original.jpg", photo)
            self.assertStored(f"{set_dir}/original.jpg", photo)
            self.assertEqual(self.listing(set_dir), ["original.jpg", "thumb"])
        self.assertEqual(self.listing("posts"), ["1"])
        self.assertEqual(self.listing("posts/1/photos"), ["0"])
        self.assertEqual(self.listing("users"), ["7"])
        self.assertEqual(self.listing("users/7"), ["picture"])

    def test_cat_redirect_commits_byte_exact(self):
        photo = self.sample("rocket.jpg")
        for set_dir in SETS:
            target = self.p(f"{set_dir}/original.jpg")
            run("sh", "-c", 'cat "$1" > "$2"', "sh", photo, target)
            self.assertStored(f"{set_dir}/original.jpg", photo)
            self.assertEqual(self.listing(set_dir), ["original.jpg", "thumb"])

    def test_dd_in_small_blocks_commits_byte_exact(self):
        photo = self.sample("rocket.jpg")
        self.assertGreater(os.path.getsize(photo), 10 * 1024)  # many blocks
        for set_dir in SETS:
            target = self.p(f"{set_dir}/original.jpg")
            run("dd", f"if={photo}", f"of={target}", "bs=1024", "status=none")
            self.assertStored(f"{set_dir}/original.jpg", photo)
            self.assertEqual(self.listing(set_dir), ["original.jpg", "thumb"])

    def test_mkdir_p_of_a_deep_well_formed_path_succeeds(self):
        run("mkdir", "-p", self.p("posts/9/photos/4/thumb"), self.p("users/abc/picture/thumb"))
        self.assertTrue(os.path.isdir(self.p("posts/9/photos/4/thumb")))
        self.assertTrue(os.path.isdir(self.p("users/abc/picture/thumb")))
        source = self.image("a.png", 120, 80)
        self.put("posts/9/photos/4/original.png", source)
        self.put("users/abc/picture/original.png", source)
        self.assertStored("posts/9/photos/4/original.png", source)
        self.assertStored("users/abc/picture/original.png", source)
        self.assertEqual(self.listing("posts/9/photos"), ["4"])

    # Extensions and replacement

    def test_jpeg_extension_is_kept_as_written(self):
        photo = self.sample("rocket.jpg")
        for set_dir in SETS:
            self.put(f"{set_dir}/original.jpeg", photo)
            self.assertEqual(self.listing(set_dir), ["original.jpeg", "thumb"])
            self.assertStored(f"{set_dir}/original.jpeg", photo)
            self.assertErrno(2, os.stat, self.p(f"{set_dir}/original.jpg"))

    def test_writing_png_where_jpg_stands_replaces_it_and_drops_its_thumbnails(self):
        jpg = self.image("a.jpg", 800, 600)
        png = self.image("b.png", 400, 400)
        for set_dir in SETS:
            self.put(f"{set_dir}/original.jpg", jpg)
            self.assertEqual(self.thumb_size(self.p(f"{set_dir}/thumb/100.jpg")), (100, 75))
            self.assertEqual(self.listing(f"{set_dir}/thumb"), ["100.jpg", "lqip.webp"])
            self.put(f"{set_dir}/original.png", png)
            self.assertEqual(self.listing(set_dir), ["original.png", "thumb"])
            self.assertErrno(2, os.stat, self.p(f"{set_dir}/original.jpg"))
            self.assertStored(f"{set_dir}/original.png", png)
            self.assertEqual(self.listing(f"{set_dir}/thumb"), ["lqip.webp"])
            self.assertEqual(self.thumb_size(self.p(f"{set_dir}/thumb/100.png")), (100, 100))
            self.assertEqual(self.listing(f"{set_dir}/thumb"), ["100.png", "lqip.webp"])

    def test_replacing_an_original_remakes_thumbnails_from_the_new_bytes(self):
        wide = self.image("wide.jpg", 800, 400)
        tall = self.image("tall.jpg", 400, 800)
        for set_dir in SETS:
            self.put(f"{set_dir}/original.jpg", wide)
            thumb = self.p(f"{set_dir}/thumb/200.jpg")
            self.assertEqual(self.thumb_size(thumb), (200, 100))
            self.assertEqual(self.thumb_size(self.p(f"{set_dir}/thumb/x50.jpg")), (100, 50))
            self.put(f"{set_dir}/original.jpg", tall)
            self.assertStored(f"{set_dir}/original.jpg", tall)
            self.assertEqual(self.listing(f"{set_dir}/thumb"), ["lqip.webp"])
            self.assertEqual(self.thumb_size(thumb), (200, 400))
            self.assertEqual(self.listing(f"{set_dir}/thumb"), ["200.jpg", "lqip.webp"])

    def test_committing_identical_bytes_again_changes_nothing(self):
        source = self.image("a.jpg", 300, 200)
        for set_dir in SETS:
            original = self.put(f"{set_dir}/original.jpg", source)
            self.read(self.p(f"{set_dir}/thumb/100.jpg"))
        before = {s: (os.getxattr(self.p(f"{s}/original.jpg"), "user.image.created_at"),
                      os.stat(self.p(f"{s}/original.jpg")).st_mtime_ns) for s in SETS}
        time.sleep(1.1)  # a new commit would carry a later created_at and mtime
        for set_dir in SETS:
            original = self.put(f"{set_dir}/original.jpg", source)
            self.assertEqual((os.getxattr(original, "user.image.created_at"),
                              os.stat(original).st_mtime_ns), before[set_dir])
            self.assertEqual(self.listing(f"{set_dir}/thumb"), ["100.jpg", "lqip.webp"])
            self.assertStored(f"{set_dir}/original.jpg", source)

    def test_open_for_write_without_truncate_starts_from_the_committed_bytes(self):
        source = self.image("a.png", 300, 200)
        data = self.read(source)
        for set_dir in SETS:
            original = self.put(f"{set_dir}/original.png", source)
            made_at = os.getxattr(original, "user.image.created_at")
            # Only the first 16 bytes are written: had the upload started empty,
            # 16 bytes would be refused at close.
            self.write_through_fd(original, data[:16], os.O_WRONLY)
            self.assertStored(f"{set_dir}/original.png", source)
            self.assertEqual(os.getxattr(original, "user.image.created_at"), made_at)

    def test_two_writers_of_one_original_last_successful_flush_wins(self):
        first = self.image("first.png", 640, 480)
        a = self.read(self.image("a.png", 500, 400))
        b = self.read(self.image("b.png", 90, 60))
        self.assertGreater(len(a), len(b))  # mixed bytes would leave a's tail
        for set_dir in SETS:
            original = self.put(f"{set_dir}/original.png", first)
            fd_a = os.open(original, os.O_WRONLY | os.O_TRUNC)
            fd_b = os.open(original, os.O_WRONLY | os.O_TRUNC)
            try:
                os.write(fd_a, a)
                os.write(fd_b, b)
                os.close(fd_a)
                fd_a = None
                after_a = self.read_or_errno(original)
            finally:
                if fd_a is not None:
                    os.close(fd_a)
                os.close(fd_b)
            self.assertEqual(after_a, a)
            self.assertEqual(self.read(original), b)
            self.assertEqual(os.stat(original).st_size, len(b))

    # Staging files: rsync and editors

    def test_staging_file_renamed_onto_original_commits_it_with_its_mtime(self):
        photo = self.sample("rocket.jpg")
        data = self.read(photo)
        for set_dir in SETS:
            staging = self.p(f"{set_dir}/.original.jpg.Xy12ab")
            self.write_through_fd(staging, data[:1000], os.O_WRONLY | os.O_CREAT | os.O_EXCL)
            self.write_through_fd(staging, data[1000:], os.O_WRONLY | os.O_APPEND)
            # A set holding no original lists its staging files only.
            self.assertEqual(self.listing(set_dir), [".original.jpg.Xy12ab"])
            self.assertEqual(self.read(staging), data)
            os.utime(staging, ns=(MTIME_NS, MTIME_NS))
            self.assertEqual(os.stat(staging).st_mtime_ns, MTIME_NS)
            original = self.p(f"{set_dir}/original.jpg")
            os.rename(staging, original)
            self.assertStored(f"{set_dir}/original.jpg", photo)
            self.assertEqual(self.listing(set_dir), ["original.jpg", "thumb"])
            self.assertErrno(2, os.stat, staging)
            self.assertEqual(os.stat(original).st_mtime_ns, MTIME_NS)

    def test_rsync_copies_an_original_and_a_second_run_transfers_nothing(self):
        source_dir = os.path.join(self.tmp, "src")
        os.mkdir(source_dir)
        source = os.path.join(source_dir, "original.jpg")
        with open(source, "wb") as f:
            f.write(self.read(self.sample("rocket.jpg")))
        os.chmod(source, 0o644)
        os.utime(source, ns=(MTIME_NS, MTIME_NS))
        target_dir = self.p("posts/3/photos/0") + "/"
        # -O: a set directory's mtime is the mount's, not rsync's to set.
        run("rsync", "-a", "-O", "--no-owner", source_dir + "/", target_dir)
        self.assertStored("posts/3/photos/0/original.jpg", source)
        self.assertEqual(self.listing("posts/3/photos/0"), ["original.jpg", "thumb"])
        self.assertEqual(os.stat(self.p("posts/3/photos/0/original.jpg")).st_mtime_ns // 10**9,
                         MTIME_NS // 10**9)
        second = run("rsync", "-a", "-O", "--no-owner", "--itemize-changes",
                     source_dir + "/", target_dir)
        self.assertEqual(second.stdout.strip(), "")

    def test_editor_backup_file_is_listed_and_removed_by_unlink(self):
        photo = self.sample("rocket.jpg")
        for set_dir in SETS:
            self.put(f"{set_dir}/original.jpg", photo)
            backup = self.p(f"{set_dir}/original.jpg~")
            self.write_through_fd(backup, b"not an image, and that is fine")
            self.assertEqual(self.listing(set_dir), ["original.jpg", "original.jpg~", "thumb"])
            self.assertEqual(self.read(backup), b"not an image, and that is fine")
            os.unlink(backup)
            self.assertEqual(self.listing(set_dir), ["original.jpg", "thumb"])
            self.assertErrno(2, os.stat, backup)
            self.assertStored(f"{set_dir}/original.jpg", photo)

    def test_scratch_file_renamed_to_another_scratch_name_keeps_its_bytes(self):
        for set_dir in SETS:
            first = self.p(f"{set_dir}/.upload.tmp")
            second = self.p(f"{set_dir}/.upload.tmp2")
            fd = os.open(first, os.O_CREAT | os.O_RDWR, 0o644)
            try:
                os.write(fd, b"scratch bytes")
                os.rename(first, second)
                self.assertEqual(os.fstat(fd).st_size, 13)
                self.assertEqual(os.stat(second).st_size, 13)
            finally:
                os.close(fd)
            self.assertEqual(self.read(second), b"scratch bytes")
            self.assertEqual(self.listing(set_dir), [".upload.tmp2"])
            self.assertErrno(2, os.stat, first)

    def test_scratch_files_vanish_at_remount(self):
        photo = self.sample("rocket.jpg")
        for set_dir in SETS:
            self.put(f"{set_dir}/original.jpg", photo)
            self.write_through_fd(self.p(f"{set_dir}/.original.jpg.Ab12cd"), b"half a copy")
            self.write_through_fd(self.p(f"{set_dir}/original.jpg~"), b"backup")
        self.write_through_fd(self.p("posts/2/photos/5/.only-scratch"), b"x")
        self.assertEqual(self.listing("posts/2/photos/5"), [".only-scratch"])
        self.remount()
        for set_dir in SETS:
            self.assertEqual(self.listing(set_dir), ["original.jpg", "thumb"])
            self.assertErrno(2, os.stat, self.p(f"{set_dir}/original.jpg~"))
            self.assertStored(f"{set_dir}/original.jpg", photo)
        self.assertErrno(2, os.stat, self.p("posts/2/photos/5/.only-scratch"))

    # Metadata calls: utimens, chmod, chown, cp -a / -p

    def test_touch_and_utime_set_the_stored_mtime_which_survives_remount(self):
        source = self.image("a.jpg", 300, 200)
        for set_dir in SETS:
            self.put(f"{set_dir}/original.jpg", source)
        multiple, single = (self.p(f"{s}/original.jpg") for s in SETS)
        os.utime(multiple, ns=(MTIME_NS, MTIME_NS))
        run("touch", "-m", "-d", "@1577934245", single)
        self.assertEqual(os.stat(multiple).st_mtime_ns, MTIME_NS)
        self.assertEqual(os.stat(single).st_mtime, 1577934245)
        self.remount()
        self.assertEqual(os.stat(multiple).st_mtime_ns, MTIME_NS)
        self.assertEqual(os.stat(single).st_mtime, 1577934245)
        self.assertStored(f"{SETS[0]}/original.jpg", source)

    def test_chmod_and_chown_succeed_and_change_nothing(self):
        source = self.image("a.jpg", 300, 200)
        for set_dir in SETS:
            original = self.put(f"{set_dir}/original.jpg", source)
            thumb = self.p(f"{set_dir}/thumb/100.jpg")
            self.read(thumb)
            directory = self.p(set_dir)
            for path, mode in ((original, 0o644), (thumb, 0o444), (directory, 0o755)):
                run("chmod", "600", path)
                os.chmod(path, 0o777)
                run("chown", "1234:1234", path)
                os.chown(path, 4321, 4321)
                st = os.stat(path)
                self.assertEqual(stat.S_IMODE(st.st_mode), mode, path)
                self.assertEqual((st.st_uid, st.st_gid), (os.getuid(), os.getgid()), path)
            self.assertStored(f"{set_dir}/original.jpg", source)

    def test_cp_a_and_cp_p_into_empty_sets_succeed_and_keep_the_mtime(self):
        source = os.path.join(self.tmp, "photo.jpg")
        with open(source, "wb") as f:
            f.write(self.read(self.sample("rocket.jpg")))
        os.utime(source, ns=(MTIME_NS, MTIME_NS))
        for flag, set_dir in (("-a", SETS[0]), ("-p", SETS[1])):
            target = self.p(f"{set_dir}/original.jpg")
            result = run("cp", flag, source, target, check=False)
            self.assertEqual(result.returncode, 0, f"cp {flag}: {result.stderr}")
            self.assertStored(f"{set_dir}/original.jpg", source)
            self.assertEqual(os.stat(target).st_mtime_ns, MTIME_NS, f"cp {flag} to {set_dir}")

    def test_cp_p_over_an_original_succeeds_and_keeps_the_mtime(self):
        source = self.image("new.jpg", 200, 100)
        os.utime(source, ns=(MTIME_NS, MTIME_NS))
        for set_dir in SETS:
            self.put(f"{set_dir}/original.jpg", self.image("old.jpg", 300, 200))
            target = self.p(f"{set_dir}/original.jpg")
            result = run("cp", "-p", source, target, check=False)
            self.assertEqual(result.returncode, 0, f"cp -p over an original: {result.stderr}")
            self.assertStored(f"{set_dir}/original.jpg", source)
            self.assertEqual(os.stat(target).st_mtime_ns, MTIME_NS)

    # Durability

    def test_committed_originals_survive_remount_byte_exact(self):
        sources = {
            "posts/1/photos/0/original.jpg": self.sample("rocket.jpg"),
            "posts/1/photos/1/original.png": self.image("a.png", 200, 100, alpha=True),
            "posts/x-7/photos/4294967295/original.webp": self.image("b.webp", 100, 200),
            "users/7/picture/original.gif": self.image("c.gif", 64, 64),
        }
        for relative, source in sources.items():
            self.put(relative, source)
        self.remount()
        for relative, source in sources.items():
            self.assertStored(relative, source)
        self.assertEqual(self.listing("posts"), ["1", "x-7"])
        self.assertEqual(self.listing("posts/1/photos"), ["0", "1"])

    def test_committed_originals_survive_kill9(self):
        sources = {}
        for i in range(6):
            sources[f"posts/{i}/photos/{i}/original.png"] = self.image(f"{i}.png", 50 + i, 40)
        sources["users/7/picture/original.jpg"] = self.sample("rocket.jpg")
        for relative, source in sources.items():
            self.write_through_fd(self.p(relative), self.read(source))  # close() returned 0
        self.mount.kill9()
        self.mount.start()
        for relative, source in sources.items():
            self.assertStored(relative, source)
        self.assertEqual(self.listing("posts"), [str(i) for i in range(6)])
        # The store is usable: a new commit and a thumbnail work.
        self.put("posts/0/photos/0/original.png", self.image("new.png", 80, 60))
        self.assertEqual(self.thumb_size(self.p("posts/0/photos/0/thumb/40.png")), (40, 30))

    # Readers during replacement

    def test_reader_of_the_old_original_keeps_its_bytes_after_a_staging_rename(self):
        old = self.read(self.sample("path-2560x1600.jpg"))
        new = self.read(self.sample("rocket.jpg"))
        for set_dir in SETS:
            original = self.p(f"{set_dir}/original.jpg")
            self.write_through_fd(original, old)
            with open(original, "rb", buffering=0) as reader:
                head = reader.read(4096)
                staging = self.p(f"{set_dir}/.original.jpg.Qw34er")
                self.write_through_fd(staging, new)
                os.rename(staging, original)
                self.assertEqual(self.read(original), new)
                rest = reader.read()
            self.assertEqual(head + rest, old)
            self.assertEqual(self.read(original), new)
