"""A one-host Ceph cluster with RGW on loopback, for the S3 tests
(SCALEOUT.md §13): one mon (msgr v2 only), one OSD on memstore, no mgr,
auth none, radosgw's beast frontend with tcp_nodelay. Conf, data, run
directory (pid files, admin sockets), logs and keyring live in one scratch
directory; the mon and RGW ports are free ones picked when it starts.

Stop kills only the daemons this directory started: a pid (from a pid file or
/proc) is signalled only when its command line names a ceph binary and this
directory's ceph.conf. Every wait is bounded.

    python3 rgw.py start DIR | stop DIR    (rgw_fixture.py is ctest's door)
"""

import json
import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
import uuid

REGION = "us-east-1"
BINARIES = ("monmaptool", "ceph-mon", "ceph-osd", "ceph", "radosgw", "radosgw-admin")
# Names that may be signalled (the ceph CLI is a Python script: argv[1]).
CEPH_PROGRAMS = {"ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph", "monmaptool"}
# The daemons' pid files, in the order they are stopped.
PID_FILES = ("client.rgw.a.pid", "osd.0.pid", "mon.a.pid")
COMMAND_TIMEOUT = 90      # one ceph command (mkfs, osd new, user create)
RGW_TIMEOUT = 90          # radosgw answering HTTP after it was started
TERM_TIMEOUT = 15         # a daemon gone after SIGTERM, before SIGKILL
# radosgw 16.2 often hangs in its SIGTERM shutdown (an alarm of 120 s), and
# its data is in the OSD: it gets little grace.
RGW_TERM_TIMEOUT = 3
KILL_TIMEOUT = 10


class RgwError(Exception):
    pass


def missing_binaries():
    """The ceph programs not on PATH (empty: all there)."""
    return [name for name in BINARIES if shutil.which(name) is None]


def free_ports(count):
    """`count` distinct loopback ports nobody listens on now (bound to port 0)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def random_key(length, alphabet):
    return "".join(secrets.choice(alphabet) for _ in range(length))


def proc_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return None


def proc_gone(pid):
    """Whether pid no longer runs (absent, or a zombie waiting for its reaper)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def proc_rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Cluster:
    """The cluster whose scratch directory is `directory`."""

    def __init__(self, directory):
        self.dir = os.path.abspath(directory)
        self.conf = os.path.join(self.dir, "ceph.conf")
        self.run_dir = os.path.join(self.dir, "run")
        self.log_dir = os.path.join(self.dir, "log")
        self.timings = []   # (step, seconds) of the last start

    # --- start -----------------------------------------------------------

    def start(self, attempts=2):
        """Makes and starts the cluster and a fresh S3 user; returns
        {endpoint, access_key, secret_key, region, start_seconds}. On failure
        prints the logs' tails, stops whatever started, raises RgwError. A port
        taken between picking and binding is retried once with new ports."""
        missing = missing_binaries()
        if missing:
            raise RgwError("ceph binaries not found on PATH: " + ", ".join(missing))
        for attempt in range(attempts):
            began = time.monotonic()
            try:
                info = self._start_once()
            except (RgwError, OSError, subprocess.SubprocessError) as e:
                port_taken = self._logs_mention("Address already in use")
                self.print_log_tails()
                self.stop()
                if port_taken and attempt + 1 < attempts:
                    print(f"rgw: a port was taken, retrying: {e}", file=sys.stderr)
                    continue
                raise RgwError(f"ceph cluster in {self.dir} did not start: {e}") from e
            info["start_seconds"] = round(time.monotonic() - began, 2)
            info["timings"] = self.timings
            return info
        raise AssertionError("unreachable")

    def _start_once(self):
        self.timings = []
        if os.path.exists(self.dir):
            self.stop()
            shutil.rmtree(self.dir)
        for sub in ("mon", "osd/ceph-0", "run", "log", "rgw", "crash"):
            os.makedirs(os.path.join(self.dir, sub))
        mon_port, rgw_port = free_ports(2)
        fsid = str(uuid.uuid4())
        self._write_conf(fsid, mon_port, rgw_port)
        open(os.path.join(self.dir, "keyring"), "w").close()  # auth none: empty
        monmap = os.path.join(self.dir, "monmap")
        self._run("monmaptool", "--create", "--addv", "a", f"[v2:127.0.0.1:{mon_port}]",
                  "--fsid", fsid, monmap, conf=False)
        self._run("ceph-mon", "--mkfs", "-i", "a", "--monmap", monmap)
        self._run("ceph-mon", "-i", "a")   # returns once the daemon runs
        osd_uuid = str(uuid.uuid4())
        osd_id = self._run("ceph", "--connect-timeout", "30", "osd", "new", osd_uuid).strip()
        if osd_id != "0":
            raise RgwError(f"'ceph osd new' gave id {osd_id!r}, expected 0")
        self._run("ceph-osd", "-i", "0", "--mkfs", "--osd-uuid", osd_uuid)
        self._run("ceph", "osd", "crush", "add-bucket", "localhost", "host")
        self._run("ceph", "osd", "crush", "move", "localhost", "root=default")
        self._run("ceph", "osd", "crush", "add", "osd.0", "1.0", "host=localhost")
        self._run("ceph-osd", "-i", "0")
        self._run("radosgw", "-n", "client.rgw.a")
        endpoint = f"http://127.0.0.1:{rgw_port}"
        began = time.monotonic()
        self._wait_for_rgw(rgw_port)
        self.timings.append(("radosgw answers HTTP", round(time.monotonic() - began, 2)))
        uid = "iafs-" + secrets.token_hex(4)
        access_key = random_key(20, string.ascii_uppercase + string.digits)
        secret_key = random_key(40, string.ascii_letters + string.digits)
        self._run("radosgw-admin", "user", "create", f"--uid={uid}", f"--display-name={uid}",
                  f"--access-key={access_key}", f"--secret={secret_key}")
        self._warm_up(endpoint, access_key, secret_key)
        return {"endpoint": endpoint, "access_key": access_key, "secret_key": secret_key,
                "region": REGION, "user": uid}

    def _warm_up(self, endpoint, access_key, secret_key):
        """One bucket and object made and removed with the new keys: proves
        them, and the first bucket's and object's pools (about 2 s each) are
        made here rather than in a test."""
        import s3
        began = time.monotonic()
        client = s3.Client(endpoint, access_key, secret_key, REGION,
                           bucket="iafs-warm-up-" + secrets.token_hex(4))
        try:
            client.create_bucket()
            status, _, body = client.put_object("k", b"warm-up")
            if status != 200:
                raise s3.S3Error("warm-up PUT", status, body)
            client.delete_bucket()
        except (s3.S3Error, OSError) as e:
            raise RgwError(f"warm-up: {e}") from e
        finally:
            client.close()
        self.timings.append(("first bucket and object", round(time.monotonic() - began, 2)))

    def _write_conf(self, fsid, mon_port, rgw_port):
        d, run, log = self.dir, self.run_dir, self.log_dir
        # A unix socket path has at most 107 bytes: a deep scratch directory
        # gets its admin sockets in a short private directory of /tmp.
        asok = run
        if len(os.path.join(run, "client.rgw.a.asok")) > 100:
            asok = os.path.join("/tmp", "iafs-rgw-" + secrets.token_hex(4))
            os.mkdir(asok, 0o700)
            with open(os.path.join(d, "asok_dir"), "w") as f:
                f.write(asok)
        text = f"""[global]
fsid = {fsid}
mon host = v2:127.0.0.1:{mon_port}
mon initial members = a
public network = 127.0.0.0/8
ms bind msgr1 = false
ms bind msgr2 = true
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = false
ms mon client mode = crc
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
osd crush update on start = false
osd objectstore = memstore
memstore device bytes = 2147483648
osd memory target = 536870912
osd pool default pg autoscale mode = off
osd pool default pg num = 8
osd pool default pgp num = 8
mon max pg per osd = 1000
mon pg warn min per osd = 0
run dir = {run}
log file = {log}/$name.log
mon cluster log file = {log}/$cluster.log
pid file = {run}/$name.pid
mon data = {d}/mon/$cluster-$id
osd data = {d}/osd/$cluster-$id
keyring = {d}/keyring
crash dir = {d}/crash

[mon]
admin socket = {asok}/$name.asok

[osd]
admin socket = {asok}/$name.asok

[client.rgw.a]
admin socket = {asok}/$name.asok
rgw frontends = beast endpoint=127.0.0.1:{rgw_port} tcp_nodelay=1
rgw data = {d}/rgw/$cluster-$id
rgw dns name = 127.0.0.1
"""
        with open(self.conf, "w") as f:
            f.write(text)

    def _run(self, program, *args, conf=True):
        """Runs one ceph command (bounded); returns its stdout. Output goes
        through a file, not a pipe: a daemon that forks keeps its parent's
        descriptors a while, and a pipe would wait for it."""
        argv = [shutil.which(program) or program] + (["-c", self.conf] if conf else []) + list(args)
        what = f"{program} {' '.join(args)}"
        base = os.path.join(self.log_dir, program)
        began = time.monotonic()
        with open(base + ".stdout", "a+") as out, open(base + ".stderr", "a+") as err:
            out_at, err_at = out.seek(0, os.SEEK_END), err.seek(0, os.SEEK_END)
            try:
                code = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                      timeout=COMMAND_TIMEOUT).returncode
            except subprocess.TimeoutExpired as e:
                raise RgwError(f"{what}: no answer in {COMMAND_TIMEOUT} s") from e
            out.seek(out_at)
            err.seek(err_at)
            text, errors = out.read(), err.read()
        self.timings.append((" ".join([program] + list(args[:3])), round(time.monotonic() - began, 2)))
        if code != 0:
            raise RgwError(f"{what} exited {code}: {(errors or text).strip()[-2000:]}")
        return text

    def _wait_for_rgw(self, port):
        """Until radosgw answers HTTP on `port`; fails at once if it died."""
        pid_file = os.path.join(self.run_dir, "client.rgw.a.pid")
        deadline = time.monotonic() + RGW_TIMEOUT
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                    s.settimeout(5)
                    s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    if s.recv(16).startswith(b"HTTP/1."):
                        return
            except OSError:
                pass
            pid = self._read_pid(pid_file)
            if pid is not None and proc_gone(pid):
                raise RgwError("radosgw exited before answering HTTP")
            time.sleep(0.2)
        raise RgwError(f"radosgw did not answer on 127.0.0.1:{port} within {RGW_TIMEOUT} s")

    # --- stop ------------------------------------------------------------

    def stop(self):
        """Stops every daemon (and ceph command) of this directory: the pid
        files' daemons in order (rgw, osd, mon), then any other process whose
        command line names this conf. Returns the pids stopped."""
        if not os.path.exists(self.conf):
            return []
        stopped = []
        pids = [self._read_pid(os.path.join(self.run_dir, name)) for name in PID_FILES]
        for pid in [p for p in pids if p is not None] + self._processes_of_conf():
            if pid not in stopped and self._ours(pid):
                rgw = os.path.basename(proc_cmdline(pid)[0]) == "radosgw"
                self._terminate(pid, RGW_TERM_TIMEOUT if rgw else TERM_TIMEOUT)
                stopped.append(pid)
        self._remove_asok_dir()
        return stopped

    def _ours(self, pid):
        argv = proc_cmdline(pid)
        if not argv or proc_gone(pid):
            return False
        names = {os.path.basename(a) for a in argv[:2]}
        return bool(names & CEPH_PROGRAMS) and self.conf in argv

    def _processes_of_conf(self):
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) != os.getpid() and self._ours(int(entry)):
                found.append(int(entry))
        return sorted(found)

    def _terminate(self, pid, grace):
        for sig, timeout in ((signal.SIGTERM, grace), (signal.SIGKILL, KILL_TIMEOUT)):
            if not self._ours(pid):
                return
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if proc_gone(pid):
                    return
                time.sleep(0.05)
            if sig == signal.SIGKILL:
                print(f"rgw: pid {pid} still there {timeout} s after SIGKILL", file=sys.stderr)
        if not proc_gone(pid):
            raise RgwError(f"pid {pid} survived SIGKILL")

    def _remove_asok_dir(self):
        path = os.path.join(self.dir, "asok_dir")
        try:
            with open(path) as f:
                asok = f.read().strip()
        except OSError:
            return
        if asok.startswith("/tmp/iafs-rgw-"):
            shutil.rmtree(asok, ignore_errors=True)
        os.unlink(path)

    # --- inspection --------------------------------------------------------

    @staticmethod
    def _read_pid(path):
        try:
            with open(path) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def daemon_rss_kib(self):
        """{pid file name: RSS in KiB} of the daemons running now."""
        rss = {}
        for name in PID_FILES:
            pid = self._read_pid(os.path.join(self.run_dir, name))
            if pid is not None and self._ours(pid):
                rss[name[:-4]] = proc_rss_kib(pid)
        return rss

    def _logs_mention(self, needle):
        for name in self._log_files():
            with open(name, errors="replace") as f:
                if needle in f.read():
                    return True
        return False

    def _log_files(self):
        if not os.path.isdir(self.log_dir):
            return []
        return sorted(os.path.join(self.log_dir, n) for n in os.listdir(self.log_dir))

    def print_log_tails(self, lines=25):
        for name in self._log_files():
            with open(name, errors="replace") as f:
                tail = f.read().splitlines()[-lines:]
            if not tail:
                continue
            print(f"--- tail of {name}", file=sys.stderr)
            for line in tail:
                print(line, file=sys.stderr)


def main(argv):
    if len(argv) != 3 or argv[1] not in ("start", "stop"):
        print("usage: rgw.py start|stop DIR", file=sys.stderr)
        return 2
    cluster = Cluster(argv[2])
    try:
        if argv[1] == "start":
            print(json.dumps(cluster.start(), indent=1))
        else:
            print("stopped pids:", cluster.stop())
    except RgwError as e:
        print(f"rgw: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
