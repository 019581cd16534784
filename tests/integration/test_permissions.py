"""allow_other with the kernel checking modes: the owner the mount shows
(-o uid=,gid=,umask=) uploads, replaces and removes; other local users only
read."""

import os
import subprocess

from harness import MountedTestCase

SET = "posts/1/photos/0"
def as_user(uid, *command):
    """Runs `command` as uid:gid `uid` with no supplementary groups."""
    result = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                             *command], capture_output=True)
    result.stderr = result.stderr.decode(errors="replace")
    return result


APP, OTHER = 65533, 65534


class PermissionsTest(MountedTestCase):
    """With allow_other, the owner the mount shows writes; others only read."""

    mount_options = ("allow_other", f"uid={APP}", f"gid={APP}", "umask=022")

    def setUp(self):
        super().setUp()
        os.chmod(self.tmp, 0o755)  # other users reach the mountpoint

    def test_another_user_reads_but_cannot_replace_or_remove(self):
        source = self.image("a.jpg", 200, 100)
        os.chmod(source, 0o644)
        original = self.put(f"{SET}/original.jpg", source)
        st = os.stat(original)
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o777), (APP, APP, 0o644))
        self.assertEqual(as_user(OTHER, "cat", original).returncode, 0)
        for command in (["rm", "-f", original], ["rm", "-rf", self.p("posts/1")],
                        ["cp", source, original], ["cp", source, self.p("posts/9/photos/0/original.jpg")],
                        ["touch", original]):
            result = as_user(OTHER, *command)
            self.assertNotEqual(result.returncode, 0, f"{command} as {OTHER}: {result.stderr}")
            self.assertIn("denied", result.stderr)
        self.assertEqual(self.read(original), self.read(source))

    def test_the_owner_uploads_replaces_and_removes(self):
        source = self.image("a.jpg", 200, 100)
        os.chmod(source, 0o644)
        original = self.p(f"{SET}/original.jpg")
        for command in (["cp", source, original], ["cp", source, original], ["rm", original]):
            result = as_user(APP, *command)
            self.assertEqual(result.returncode, 0, f"{command}: {result.stderr}")
        self.assertFalse(os.path.exists(original))
