"""The daemon's command line, start-up checks and the store's limits."""

import errno
import os
import subprocess

from harness import BINARY, Mount, MountedTestCase, run


class DaemonTest(MountedTestCase):
    def start_fails(self, *args):
        """Runs the daemon expecting it to exit at once; returns stderr lines."""
        result = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=20)
        self.assertNotEqual(result.returncode, 0, result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, result.stderr)
        return lines[0]

    def test_missing_mountpoint_is_one_line_and_nonzero(self):
        line = self.start_fails(os.path.join(self.tmp, "s2"))
        self.assertIn("MOUNTPOINT", line)

    def test_bad_schema_names_file_and_line(self):
        schema = os.path.join(self.tmp, "bad.conf")
        with open(schema, "w") as f:
            f.write("[posts.photos]\nmultiple = maybe\n")
        other = os.path.join(self.tmp, "mnt2")
        os.mkdir(other)
        line = self.start_fails("-o", f"schema={schema}", os.path.join(self.tmp, "s2"), other, "-f")
        self.assertIn(f"{schema}:2", line)
        self.assertFalse(os.path.ismount(other))

    def test_store_that_is_a_file_is_refused(self):
        store = os.path.join(self.tmp, "file")
        open(store, "w").close()
        other = os.path.join(self.tmp, "mnt2")
        os.mkdir(other)
        line = self.start_fails(store, other, "-f")
        self.assertIn(store, line)

    def test_second_daemon_on_the_same_store_exits_1(self):
        other = os.path.join(self.tmp, "mnt2")
        os.mkdir(other)
        result = subprocess.run([BINARY, self.mount.store, other, "-f"], capture_output=True,
                                text=True, timeout=20)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        self.assertIn("in use", result.stderr)
        self.assertFalse(os.path.ismount(other))

    def test_help_and_version_exit_0(self):
        self.assertIn("schema=PATH", run(BINARY, "--help").stdout)
        self.assertIn("imageattachfs", run(BINARY, "--version").stdout)

    def test_custom_schema_types_are_the_namespace(self):
        self.mount.stop()
        schema = os.path.join(self.tmp, "shop.conf")
        with open(schema, "w") as f:
            f.write("[products.gallery]\nmultiple = true\nthumbnail_widths = 100-300/100\n")
        mount = Mount(self.tmp, options=[f"schema={schema}"])
        self.addCleanup(mount.stop)
        mount.start()
        self.assertEqual(os.listdir(mount.mnt), ["products"])
        src = os.path.join(self.tmp, "a.jpg")
        run(os.environ["IAFS_MAKE_IMAGE"], src, "640", "480")
        run("cp", src, mount.path("products/9/gallery/0/original.jpg"))
        self.assertGreater(os.stat(mount.path("products/9/gallery/0/thumb/200.jpg")).st_size, 0)
        with self.assertRaises(FileNotFoundError):
            os.stat(mount.path("products/9/gallery/0/thumb/150.jpg"))

    def test_full_store_is_enospc_and_reads_go_on(self):
        self.mount.stop()
        mount = Mount(self.tmp, store=os.path.join(self.tmp, "small"), options=["mapsize=3M"])
        self.addCleanup(mount.stop)
        mount.start()
        small = os.path.join(self.tmp, "small.png")
        run(os.environ["IAFS_MAKE_IMAGE"], small, "64", "64")
        run("cp", small, mount.path("posts/1/photos/0/original.png"))
        noise = os.path.join(self.tmp, "noise.v")
        run("vips", "gaussnoise", noise, "2000", "2000", "--mean", "128", "--sigma", "80")
        grey = os.path.join(self.tmp, "grey.v")
        run("vips", "cast", noise, grey, "uchar")
        big = os.path.join(self.tmp, "big.png")
        run("vips", "copy", grey, big)  # noise does not compress: ~ 4 MB, over the map
        self.assertGreater(os.path.getsize(big), 3 * 1024 * 1024)
        with open(big, "rb") as f:
            data = f.read()
        fd = os.open(mount.path("posts/2/photos/0/original.png"), os.O_CREAT | os.O_WRONLY)
        os.write(fd, data)
        with self.assertRaises(OSError) as caught:
            os.close(fd)
        self.assertEqual(caught.exception.errno, errno.ENOSPC)
        with open(mount.path("posts/1/photos/0/original.png"), "rb") as f, open(small, "rb") as g:
            self.assertEqual(f.read(), g.read())
        self.assertEqual(os.listdir(mount.path("posts")), ["1"])

    def test_mount_helper_mounts_with_fstab_options(self):
        """mount.imageattachfs, as mount(8) runs it for an fstab line, mounts for real."""
        other = os.path.join(self.tmp, "mnt2")
        os.mkdir(other)
        store = os.path.join(self.tmp, "store2")
        env = dict(os.environ, IMAGEATTACHFS_BINARY=BINARY)
        result = subprocess.run(
            [os.environ["IAFS_MOUNT_HELPER"], store, other, "-o",
             "defaults,nofail,_netdev,x-systemd.automount"],
            capture_output=True, text=True, timeout=20, env=env)
        self.addCleanup(run, "fusermount3", "-u", other, check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(os.path.ismount(other))
        self.assertEqual(os.listdir(other), ["posts", "users"])
        run("fusermount3", "-u", other)
        self.assertFalse(os.path.ismount(other))

    # The store directory is trusted only when it is the daemon's own.

    def untrusted_store_is_refused(self, store, expected):
        other = os.path.join(self.tmp, "mnt2")
        os.makedirs(other, exist_ok=True)
        line = self.start_fails(store, other, "-f")
        self.assertIn(expected, line)
        self.assertFalse(os.path.ismount(other))

    def test_a_new_store_is_created_0700(self):
        store = os.path.join(self.tmp, "fresh")
        mount = Mount(self.tmp, store=store)
        mount.mnt = os.path.join(self.tmp, "mnt3")
        os.makedirs(mount.mnt)
        self.addCleanup(mount.stop)
        mount.start()
        self.assertEqual(os.stat(store).st_mode & 0o777, 0o700)

    def test_a_store_writable_by_others_is_refused(self):
        store = os.path.join(self.tmp, "open")
        os.mkdir(store)
        os.chmod(store, 0o777)
        self.untrusted_store_is_refused(store, "writable by others (mode 0777)")

    def test_a_store_owned_by_another_user_is_refused(self):
        store = os.path.join(self.tmp, "theirs")
        os.mkdir(store, 0o700)
        os.chown(store, 65534, 65534)
        self.untrusted_store_is_refused(store, "owned by uid 65534")

    def test_links_inside_the_store_are_refused_and_their_targets_untouched(self):
        victim = os.path.join(self.tmp, "victim")
        os.mkdir(victim)
        precious = os.path.join(victim, "precious")
        with open(precious, "w") as f:
            f.write("keep me")
        for name, target in (("staging", victim), ("lock.mdb", precious), ("lock", precious)):
            store = os.path.join(self.tmp, "linked-" + name.replace(".", "-"))
            os.mkdir(store, 0o700)
            os.symlink(target, os.path.join(store, name))
            self.untrusted_store_is_refused(store, f"{name} is a symbolic link")
            with open(precious) as f:
                self.assertEqual(f.read(), "keep me")

    def test_a_full_disk_is_enospc_and_the_store_stays_readable(self):
        disk = os.path.join(self.tmp, "disk")
        os.mkdir(disk)
        run("mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", disk)
        self.addCleanup(run, "umount", "-l", disk, check=False)
        noise = os.path.join(self.tmp, "noise.v")
        run("vips", "gaussnoise", noise, "1200", "1000", "--mean", "128", "--sigma", "60")
        mount = Mount(self.tmp, store=os.path.join(disk, "store"))
        mount.mnt = os.path.join(self.tmp, "mnt-full")
        os.makedirs(mount.mnt)
        self.addCleanup(mount.stop)
        mount.start()
        committed = {}
        refusal = None
        for n in range(40):
            source = os.path.join(self.tmp, f"c{n}.jpg")
            run("vips", "crop", noise, f"{source}[Q=95]", str(n), "0", "1100", "1000")
            target = mount.path(f"posts/{n}/photos/0/original.jpg")
            result = subprocess.run(["cp", source, target], capture_output=True, text=True)
            if result.returncode != 0:
                refusal = result.stderr
                break
            committed[target] = source
        self.assertIsNotNone(refusal, "12 MB took 40 MB of originals")
        self.assertIn("No space left on device", refusal)
        self.assertGreater(len(committed), 0)
        for target, source in committed.items():
            with open(target, "rb") as f, open(source, "rb") as g:
                self.assertEqual(f.read(), g.read(), target)
        mount.stop()
        result = subprocess.run([BINARY, "fsck", mount.store], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
