"""What an administrator installs: the man pages (rendered without warnings,
every option and command of --help in them), mount.imageattachfs --help,
`cmake --install`, the systemd unit (systemd-analyze verify and security), and
the daemon's sd_notify readiness (READY=1 once mounted, STOPPING=1 at stop)."""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import unittest

from harness import BINARY, run

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))
MAN_DIR = os.path.join(SOURCE, "contrib", "man")
UNIT = os.path.join(SOURCE, "contrib", "systemd", "imageattachfs@.service")
HELPER = os.environ.get("IAFS_MOUNT_HELPER", "")
# The worst `systemd-analyze security` exposure the unit may have (0 best, 10 worst).
MAX_EXPOSURE = 4.0


def build_dir():
    """The build tree of IAFS_BINARY (the directory holding CMakeCache.txt)."""
    path = os.path.dirname(BINARY)
    while path != "/" and not os.path.exists(os.path.join(path, "CMakeCache.txt")):
        path = os.path.dirname(path)
    return path if path != "/" else None


class PackagingTest(unittest.TestCase):
    def setUp(self):
        if not BINARY:
            raise unittest.SkipTest("IAFS_BINARY not set (run through ctest)")
        self.tmp = tempfile.mkdtemp(prefix="iafs-it-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def render(self, page):
        """The page as man(1) renders it at 80 columns; fails on any warning."""
        env = dict(os.environ, MANWIDTH="80", LANG="C.UTF-8")
        result = subprocess.run(["man", "--warnings", "-l", os.path.join(MAN_DIR, page)],
                                capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "", f"{page}: man --warnings")
        groff = subprocess.run(["groff", "-ww", "-z", "-man", "-Tutf8",
                                os.path.join(MAN_DIR, page)], capture_output=True, text=True)
        self.assertEqual((groff.returncode, groff.stderr), (0, ""), page)
        # Plain text: no overstrike bold, joined hyphenation-free words.
        return re.sub(r".\x08", "", result.stdout)

    def test_man_pages_render_without_warnings(self):
        for page, name in (("imageattachfs.8", "IMAGEATTACHFS(8)"),
                           ("mount.imageattachfs.8", "MOUNT.IMAGEATTACHFS(8)")):
            text = self.render(page)
            self.assertTrue(text.startswith(name), text[:200])
            for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "SEE ALSO"):
                self.assertIn("\n" + section + "\n", text, page)
            self.assertLessEqual(max(len(line) for line in text.splitlines()), 80, page)

    def test_daemon_page_documents_every_option_and_command_of_help(self):
        text = self.render("imageattachfs.8")
        words = set(re.findall(r"[a-z_\-]+=?", text))
        help_text = run(BINARY, "--help").stdout
        options = re.findall(r"^  ([a-z_]+=?)", help_text.split("mount options (-o):")[1], re.M)
        self.assertIn("loglevel=", options)
        for option in options:
            self.assertIn(option, words, f"-o {option} of --help is not in imageattachfs(8)")
        commands = re.findall(r"^    imageattachfs ([a-z\-]+) ", help_text, re.M)
        self.assertIn("fsck", commands)
        for command in commands:
            self.assertRegex(text, rf"\n {{7}}{re.escape(command)} ", f"command {command}")
        for flag in ("-f", "-d", "-s", "--help", "--version"):
            self.assertIn(flag, text)

    def test_mount_helper_help_exits_0(self):
        if not HELPER:
            raise unittest.SkipTest("IAFS_MOUNT_HELPER not set")
        for args in (["--help"], ["-h"], ["STORE", "MNT", "--help"]):
            result = subprocess.run([HELPER, *args], capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, args)
            self.assertTrue(result.stdout.startswith("usage: mount.imageattachfs STORE_DIR "),
                            result.stdout)
            self.assertEqual(result.stderr, "")
        # Still a usage error without --help, and -o's value is no flag.
        self.assertEqual(subprocess.run([HELPER], capture_output=True).returncode, 1)
        fake = subprocess.run([HELPER, "S", "M", "-f", "-o", "-h"], capture_output=True, text=True)
        self.assertEqual(fake.returncode, 0)
        self.assertTrue(fake.stdout.endswith(" S M -o -h\n"), fake.stdout)
        text = self.render("mount.imageattachfs.8")
        for option in ("nofail", "_netdev", "x-*", "-f", "-v", "--help"):
            self.assertIn(option, text)

    def test_cmake_install_puts_unit_man_pages_and_helper_in_place(self):
        build = build_dir()
        if build is None:
            raise unittest.SkipTest("no build tree beside IAFS_BINARY")
        dest = os.path.join(self.tmp, "dest")
        result = subprocess.run(["cmake", "--install", build, "--prefix", "/usr/local"],
                                capture_output=True, text=True, env=dict(os.environ, DESTDIR=dest),
                                timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        for path in ("usr/local/bin/imageattachfs", "sbin/mount.imageattachfs",
                     "usr/local/share/man/man8/imageattachfs.8",
                     "usr/local/share/man/man8/mount.imageattachfs.8",
                     "usr/local/lib/systemd/system/imageattachfs@.service",
                     "usr/local/etc/imageattachfs/schema.conf",
                     "usr/local/share/doc/imageattachfs/examples/nginx/imageattachfs.conf"):
            self.assertTrue(os.path.isfile(os.path.join(dest, path)), path)
        with open(os.path.join(dest, "usr/local/lib/systemd/system/imageattachfs@.service")) as f, \
                open(UNIT) as shipped:
            self.assertEqual(f.read(), shipped.read())
        self.assertTrue(os.access(os.path.join(dest, "sbin/mount.imageattachfs"), os.X_OK))

    def unit_for_analysis(self):
        """The unit as an instance, its ExecStart= naming the binary under test
        (systemd-analyze verify checks that every command exists)."""
        with open(UNIT) as f:
            text = f.read()
        text, count = re.subn(r"^ExecStart=imageattachfs ", f"ExecStart={BINARY} ", text,
                              flags=re.M)
        self.assertEqual(count, 1)
        path = os.path.join(self.tmp, "imageattachfs@test.service")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_unit_verifies(self):
        if shutil.which("systemd-analyze") is None:
            raise unittest.SkipTest("systemd-analyze not installed")
        with open(UNIT) as f:
            text = f.read()
        for line in ("Type=notify", "NotifyAccess=main", "LimitNOFILE=1048576",
                     "DeviceAllow=/dev/fuse rw", "NoNewPrivileges=yes",
                     "CapabilityBoundingSet=CAP_SYS_ADMIN"):
            self.assertIn("\n" + line + "\n", text)
        # Each of these gives the service a mount namespace, whose mounts never
        # reach the host: the mount would be invisible to nginx.
        for hiding in ("ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices",
                       "PrivateMounts", "ProtectKernelTunables", "ProtectKernelModules",
                       "ProtectKernelLogs", "ProtectControlGroups", "ReadWritePaths",
                       "ReadOnlyPaths", "InaccessiblePaths", "TemporaryFileSystem",
                       "MountFlags", "PrivateNetwork", "ProtectProc", "ProcSubset"):
            self.assertNotRegex(text, rf"(?m)^{hiding}=", hiding)
        result = subprocess.run(["systemd-analyze", "verify", "--man=no",
                                 self.unit_for_analysis()], capture_output=True, text=True,
                                timeout=60)
        self.assertEqual((result.returncode, result.stderr.strip()), (0, ""))

    def test_unit_security_exposure(self):
        if shutil.which("systemd-analyze") is None:
            raise unittest.SkipTest("systemd-analyze not installed")
        result = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                                 self.unit_for_analysis()], capture_output=True, text=True,
                                timeout=60)
        match = re.search(r"Overall exposure level for \S+: ([0-9.]+)", result.stdout)
        if match is None and "--offline" in result.stderr:
            raise unittest.SkipTest("systemd-analyze security has no --offline")
        self.assertIsNotNone(match, result.stdout + result.stderr)
        self.assertLessEqual(float(match.group(1)), MAX_EXPOSURE, result.stdout)

    def test_daemon_works_with_the_units_capabilities_only(self):
        # CapabilityBoundingSet= and NoNewPrivileges= of the unit, applied by
        # setpriv(1): mounting both mounts, uploading, making a thumbnail and
        # unmounting at SIGTERM need nothing else.
        if os.geteuid() != 0 or shutil.which("setpriv") is None:
            raise unittest.SkipTest("needs root and setpriv")
        with open(UNIT) as f:
            caps = re.search(r"(?m)^CapabilityBoundingSet=(.*)$", f.read()).group(1).split()
        bounding = "-all," + ",".join("+" + c.lower().removeprefix("cap_") for c in caps)
        store, mnt, serve = (os.path.join(self.tmp, n) for n in ("store", "mnt", "serve"))
        os.mkdir(mnt)
        os.mkdir(serve)
        log = open(os.path.join(self.tmp, "daemon.log"), "w")
        self.addCleanup(log.close)
        sock, path = self.notify_socket()
        proc = subprocess.Popen(["setpriv", "--no-new-privs", "--bounding-set", bounding,
                                 "--inh-caps", "-all", BINARY, "-o",
                                 f"allow_other,gid=33,umask=027,serve={serve}", store, mnt, "-f"],
                                env=dict(os.environ, NOTIFY_SOCKET=path), stdout=log,
                                stderr=subprocess.STDOUT)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        self.addCleanup(run, "fusermount3", "-uz", serve, check=False)
        self.addCleanup(run, "fusermount3", "-uz", mnt, check=False)
        fields, _ = self.receive(sock)  # setpriv execs the daemon: same pid
        self.assertEqual(fields.get("READY"), "1", fields)
        with open(f"/proc/{proc.pid}/status") as f:
            effective = int(re.search(r"^CapEff:\s+([0-9a-f]+)$", f.read(), re.M).group(1), 16)
        self.assertEqual(effective, 1 << 21)  # CAP_SYS_ADMIN alone
        photo = os.path.join(self.tmp, "a.jpg")
        run(os.environ["IAFS_MAKE_IMAGE"], photo, "300", "200")
        run("cp", photo, os.path.join(mnt, "posts/1/photos/0/original.jpg"))
        thumb = os.path.join(serve, "posts/1/photos/0/thumb/100.avif")
        self.assertEqual(os.stat(thumb).st_gid, 33)
        self.assertGreater(os.path.getsize(thumb), 0)
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=30), 0)
        self.assertFalse(self.mounted(mnt) or self.mounted(serve))

    def test_mount_namespace_hides_the_mount_from_the_host(self):
        # Why the unit has no ProtectSystem=: systemd turns every mount in a
        # service's own namespace into a slave of the host's, and a mount made
        # under a slave never propagates back. The same, with unshare(1).
        if shutil.which("unshare") is None:
            raise unittest.SkipTest("unshare not installed")
        store, mnt = os.path.join(self.tmp, "store"), os.path.join(self.tmp, "mnt")
        os.mkdir(mnt)
        # Seen inside the namespace; never in the host's (this process's) table.
        result = subprocess.run(["unshare", "--mount", "--propagation", "slave", "sh", "-c",
                                 f"{BINARY} {store} {mnt} && ls {mnt}"
                                 f" && cat /proc/$$/mounts > {self.tmp}/in"
                                 f" && cat /proc/{os.getpid()}/mounts > {self.tmp}/host"
                                 f" ; fusermount3 -u {mnt}"],
                                capture_output=True, text=True, timeout=60)
        if result.returncode != 0 and "unshare failed" in result.stderr:
            raise unittest.SkipTest("no mount namespaces here: " + result.stderr.strip())
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "posts\nusers\n")
        with open(os.path.join(self.tmp, "in")) as inside, \
                open(os.path.join(self.tmp, "host")) as host:
            self.assertIn(f" {mnt} fuse.imageattachfs ", inside.read())
            self.assertNotIn(f" {mnt} ", host.read())

    def notify_socket(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        path = os.path.join(self.tmp, "notify.sock")
        sock.bind(path)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        sock.settimeout(60)
        return sock, path

    def receive(self, sock):
        """(message fields as a dict, the sender's pid) of one datagram."""
        data, ancillary, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(12))
        pid = None
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = int.from_bytes(value[0:4], "little")
        fields = dict(line.split("=", 1) for line in data.decode().splitlines())
        return fields, pid

    def mounted(self, point):
        with open("/proc/self/mounts") as f:
            return any(line.split()[1] == point for line in f)

    def start_notifying(self):
        sock, path = self.notify_socket()
        store, mnt, serve = (os.path.join(self.tmp, n) for n in ("store", "mnt", "serve"))
        os.mkdir(mnt)
        os.mkdir(serve)
        log = open(os.path.join(self.tmp, "daemon.log"), "w")
        self.addCleanup(log.close)
        proc = subprocess.Popen([BINARY, "-o", f"serve={serve}", store, mnt, "-f"],
                                env=dict(os.environ, NOTIFY_SOCKET=path), stdout=log,
                                stderr=subprocess.STDOUT)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        self.addCleanup(run, "fusermount3", "-uz", serve, check=False)
        self.addCleanup(run, "fusermount3", "-uz", mnt, check=False)
        fields, pid = self.receive(sock)
        # Both mounts are up, and served, when READY=1 arrives.
        self.assertEqual(fields.get("READY"), "1", fields)
        self.assertEqual(pid, proc.pid)  # from the main process (NotifyAccess=main)
        self.assertTrue(self.mounted(mnt) and self.mounted(serve))
        self.assertEqual(sorted(os.listdir(mnt)), ["posts", "users"])
        self.assertEqual(sorted(os.listdir(serve)), ["posts", "users"])
        self.assertIn(mnt, fields.get("STATUS", ""))
        return sock, proc, mnt, serve

    def test_ready_after_mounting_and_stopping_on_sigterm(self):
        sock, proc, mnt, serve = self.start_notifying()
        proc.send_signal(signal.SIGTERM)
        fields, pid = self.receive(sock)
        self.assertEqual((fields.get("STOPPING"), pid), ("1", proc.pid))
        self.assertEqual(proc.wait(timeout=30), 0)
        self.assertFalse(self.mounted(mnt) or self.mounted(serve))

    def test_stopping_when_unmounted(self):
        sock, proc, mnt, serve = self.start_notifying()
        run("fusermount3", "-u", mnt)
        fields, _ = self.receive(sock)
        self.assertEqual(fields.get("STOPPING"), "1")
        self.assertEqual(proc.wait(timeout=30), 0)
        self.assertFalse(self.mounted(serve))

    def test_failed_start_sends_no_ready(self):
        sock, path = self.notify_socket()
        point = os.path.join(self.tmp, "file")
        open(point, "w").close()
        result = subprocess.run([BINARY, os.path.join(self.tmp, "store"), point, "-f"],
                                env=dict(os.environ, NOTIFY_SOCKET=path), capture_output=True,
                                text=True, timeout=20)
        self.assertEqual(result.returncode, 1)
        sock.setblocking(False)
        with self.assertRaises(BlockingIOError):
            sock.recv(4096)
