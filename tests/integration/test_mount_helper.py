"""mount.imageattachfs: the argv it gives the daemon, run against a fake daemon.

The helper comes from $IAFS_MOUNT_HELPER; $IMAGEATTACHFS_BINARY points it at a
script that records its arguments instead of mounting anything.
"""

import os
import shutil
import subprocess
import tempfile
import unittest

FAKE_DAEMON = """#!/bin/sh
: > "$(dirname "$0")/ran"
for arg in "$@"; do printf '%s\\n' "$arg"; done
exit "${FAKE_DAEMON_STATUS:-0}"
"""

FSTAB_OPTIONS = ("defaults,allow_other,nofail,_netdev,noauto,auto,user,users,"
                 "nouser,owner,group,comment=images,helper=x,"
                 "x-systemd.requires=network-online.target,x-mount.mkdir,"
                 "x-gvfs-hide")


class MountHelperTest(unittest.TestCase):

    def setUp(self):
        self.helper = os.environ.get("IAFS_MOUNT_HELPER")
        if not self.helper:
            self.skipTest("IAFS_MOUNT_HELPER is not set")
        self.dir = tempfile.mkdtemp(prefix="iafs-mount-helper-")
        self.addCleanup(shutil.rmtree, self.dir)
        self.daemon = os.path.join(self.dir, "fake-imageattachfs")
        with open(self.daemon, "w") as script:
            script.write(FAKE_DAEMON)
        os.chmod(self.daemon, 0o755)

    def run_helper(self, *args, status=0):
        env = dict(os.environ, IMAGEATTACHFS_BINARY=self.daemon,
                   FAKE_DAEMON_STATUS=str(status))
        return subprocess.run([self.helper, *args], env=env, capture_output=True,
                              text=True, timeout=30)

    def daemon_argv(self, *args):
        result = self.run_helper(*args)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout.splitlines()

    def daemon_ran(self):
        return os.path.exists(os.path.join(self.dir, "ran"))

    def test_drops_fstab_only_options(self):
        self.assertEqual(self.daemon_argv("/store", "/mnt", "-o", FSTAB_OPTIONS),
                         ["/store", "/mnt", "-o", "allow_other"])

    def test_keeps_other_options_in_order(self):
        argv = self.daemon_argv(
            "/store", "/mnt", "-o",
            "ro,nofail,schema=/etc/s.conf,_netdev,mapsize=1G,nodev,x-a=b,noatime")
        self.assertEqual(argv, ["/store", "/mnt", "-o",
                                "ro,schema=/etc/s.conf,mapsize=1G,nodev,noatime"])

    def test_omits_o_when_no_option_is_kept(self):
        self.assertEqual(self.daemon_argv("/store", "/mnt", "-o", "defaults,nofail"),
                         ["/store", "/mnt"])
        self.assertEqual(self.daemon_argv("/store", "/mnt"), ["/store", "/mnt"])

    def test_joins_several_o_lists(self):
        self.assertEqual(self.daemon_argv("/store", "/mnt", "-o", "ro", "-onodev,nofail",
                                          "-o", "allow_other"),
                         ["/store", "/mnt", "-o", "ro,nodev,allow_other"])

    def test_keeps_commas_inside_quoted_values(self):
        self.assertEqual(self.daemon_argv("/store", "/mnt", "-o", 'fsname="a,b",nofail'),
                         ["/store", "/mnt", "-o", 'fsname="a,b"'])

    def test_options_before_positional_arguments(self):
        self.assertEqual(self.daemon_argv("-s", "-n", "-o", "allow_other,nofail",
                                          "/store", "/mnt"),
                         ["/store", "/mnt", "-o", "allow_other"])

    def test_ignores_sloppy_nomtab_and_namespace_flags(self):
        self.assertEqual(self.daemon_argv("/store", "/mnt", "-sn", "-N", "/proc/1/ns/mnt",
                                          "-o", "ro"),
                         ["/store", "/mnt", "-o", "ro"])

    def test_fake_prints_command_without_running(self):
        result = self.run_helper("/store", "/mnt", "-f", "-o", "allow_other,nofail")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, f"{self.daemon} /store /mnt -o allow_other\n")
        self.assertFalse(self.daemon_ran())

    def test_verbose_prints_command_and_runs(self):
        result = self.run_helper("/store", "/mnt", "-v", "-o", "ro")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, f"{self.daemon} /store /mnt -o ro\n")
        self.assertEqual(result.stdout.splitlines(), ["/store", "/mnt", "-o", "ro"])
        self.assertTrue(self.daemon_ran())

    def test_exit_status_is_the_daemons(self):
        self.assertEqual(self.run_helper("/store", "/mnt", status=32).returncode, 32)

    def test_missing_arguments_exit_1_with_one_line(self):
        for args in ([], ["/store"], ["/store", "-o", "ro"], ["/store", "/mnt", "-o"]):
            with self.subTest(args=args):
                result = self.run_helper(*args)
                self.assertEqual(result.returncode, 1)
                self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
                self.assertEqual(result.stdout, "")
                self.assertFalse(self.daemon_ran())


if __name__ == "__main__":
    unittest.main()
