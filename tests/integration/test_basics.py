"""The first thing a user does: copy a photo in, read a thumbnail, remount."""

import os
import time

from harness import MountedTestCase, run, testdata, vips_loader, vips_size


class BasicsTest(MountedTestCase):
    def test_copy_original_and_read_thumbnail(self):
        photo = testdata("colorful-cups-2560x1600.jpg")
        original = self.put("posts/1/photos/0/original.jpg", photo)
        self.assertEqual(self.read(original), self.read(photo))
        out = os.path.join(self.tmp, "t.jpg")
        with open(out, "wb") as f:
            f.write(self.read(self.p("posts/1/photos/0/thumb/300.jpg")))
        self.assertEqual(vips_size(out), (300, 187))
        self.assertEqual(vips_loader(out), "jpegload")

    def test_thumbnail_survives_remount_and_is_not_made_again(self):
        source = self.image("a.jpg", 800, 600)
        self.put("posts/1/photos/0/original.jpg", source)
        thumb = self.p("posts/1/photos/0/thumb/300.jpg")
        first = self.read(thumb)
        made_at = os.getxattr(thumb, "user.image.created_at")
        time.sleep(1.1)  # a remade thumbnail would carry a later created_at
        self.remount()
        self.assertEqual(sorted(os.listdir(self.p("posts/1/photos/0/thumb"))), ["300.jpg", "lqip.webp"])
        self.assertEqual(os.getxattr(thumb, "user.image.created_at"), made_at)
        self.assertEqual(self.read(thumb), first)
        self.assertEqual(self.read(self.p("posts/1/photos/0/original.jpg")), self.read(source))

    def test_root_lists_the_schema_types(self):
        self.assertEqual(os.listdir(self.mnt), ["posts", "users"])

    def test_single_attachment_has_no_index_level(self):
        source = self.image("p.png", 200, 100)
        self.put("users/7/picture/original.png", source)
        self.assertEqual(sorted(os.listdir(self.p("users/7/picture"))), ["original.png", "thumb"])
        out = os.path.join(self.tmp, "64.png")
        with open(out, "wb") as f:
            f.write(self.read(self.p("users/7/picture/thumb/64.png")))
        self.assertEqual(vips_size(out), (64, 32))
        self.assertEqual(vips_loader(out), "pngload")

    def test_daemonizes_without_f_and_unmounts_cleanly(self):
        self.mount.stop()
        self.mount.start(foreground=False)
        self.assertTrue(os.path.ismount(self.mnt))
        source = self.image("b.jpg", 400, 300)
        self.put("posts/2/photos/5/original.jpg", source)
        self.assertEqual(os.listdir(self.p("posts/2/photos")), ["5"])
        run("fusermount3", "-u", self.mnt)
        self.assertFalse(os.path.ismount(self.mnt))
