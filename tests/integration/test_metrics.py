"""The daemon's counters at /.imageattachfs/metrics (README "Metrics"):
Prometheus text that moves with uploads and thumbnails, read whole and
consistent by cat, by reads in pieces and through nginx, and never written."""

import errno
import os
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

from harness import Mount, MountedTestCase, run

METRICS = ".imageattachfs/metrics"
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
SAMPLE = re.compile(rf'^({NAME})(\{{(.*)\}})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')


def parse_exposition(text):
    """Checks `text` against the text format 0.0.4 as Prometheus reads it and
    returns {(name, ((label, value), ...)): float}. Raises AssertionError."""
    assert text.endswith("\n"), "the text ends with a newline"
    types, helped, samples = {}, set(), {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            assert name not in helped, f"HELP of {name} twice"
            helped.add(name)
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram"), line
            assert name not in types, f"TYPE of {name} twice"
            assert name.startswith("imageattachfs_"), name
            types[name] = kind
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, _, label_text, value = match.groups()
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
        assert family in types, f"{name} before its # TYPE"
        labels = []
        rest = label_text or ""
        while rest:
            label = LABEL.match(rest)
            assert label, f"bad labels in {line!r}"
            labels.append((label.group(1), label.group(2)))
            rest = rest[label.end():]
        key = (name, tuple(labels))
        assert key not in samples, f"{line!r} twice"
        samples[key] = float(value)
    for name, kind in types.items():
        assert name in helped, f"no HELP for {name}"
        if kind == "histogram":
            buckets = [(labels, v) for (n, labels), v in samples.items() if n == name + "_bucket"]
            bounds = [float(dict(labels)["le"]) for labels, _ in buckets]
            assert bounds == sorted(bounds) and bounds[-1] == float("inf"), bounds
            counts = [v for _, v in buckets]
            assert counts == sorted(counts), f"{name} buckets not cumulative: {counts}"
            assert samples[(name + "_count", ())] == counts[-1], "+Inf bucket == _count"
            assert (name + "_sum", ()) in samples
        elif kind == "counter":
            assert name.endswith("_total"), name
    return samples


def value(samples, name, **labels):
    return samples[(name, tuple(labels.items()))]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MetricsTest(MountedTestCase):
    def metrics(self):
        with open(self.p(METRICS), "rb") as f:
            return parse_exposition(f.read().decode())

    def test_the_control_directory_is_not_listed_and_holds_only_metrics(self):
        self.assertNotIn(".imageattachfs", os.listdir(self.mnt))
        listed = run("ls", "-a", self.mnt).stdout.split()
        self.assertNotIn(".imageattachfs", listed)
        self.assertEqual(sorted(os.listdir(self.p(".imageattachfs"))), ["metrics"])
        dir_st = os.stat(self.p(".imageattachfs"))
        self.assertTrue(stat.S_ISDIR(dir_st.st_mode))
        self.assertEqual(stat.S_IMODE(dir_st.st_mode), 0o555)
        st = os.stat(self.p(METRICS))
        self.assertTrue(stat.S_ISREG(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o444)
        # ls -l (readdirplus) shows the size of a whole rendering.
        long_listing = run("ls", "-l", self.p(".imageattachfs")).stdout
        self.assertRegex(long_listing, r"-r--r--r-- .* metrics")
        for name in (".imageattachfs/other", ".imageattachfs/.metrics", ".git", ".imageattachfs2"):
            self.assertErrno(errno.ENOENT, os.stat, self.p(name))

    def test_cat_twice_gives_whole_well_formed_text_of_its_size(self):
        for _ in range(2):
            text = run("cat", self.p(METRICS)).stdout
            samples = parse_exposition(text)
            self.assertEqual(value(samples, "imageattachfs_thumbnails_made_total"), 0)
        for _ in range(3):
            fd = os.open(self.p(METRICS), os.O_RDONLY)
            try:
                size = os.fstat(fd).st_size
                # Read in small pieces: one snapshot, whatever the offsets.
                pieces = []
                while True:
                    piece = os.read(fd, 7)
                    if not piece:
                        break
                    pieces.append(piece)
                data = b"".join(pieces)
                self.assertEqual(os.pread(fd, 100, size), b"")
                self.assertEqual(os.fstat(fd).st_size, size)
            finally:
                os.close(fd)
            self.assertEqual(len(data), size)
            parse_exposition(data.decode())

    def test_a_snapshot_stays_whole_while_counters_move(self):
        """An open file keeps the text of its lookup while uploads change the
        counters; the next open sees them."""
        photo = self.sample("rocket.jpg")
        with open(self.p(METRICS), "rb") as before:
            head = before.read(100)
            self.put("posts/1/photos/0/original.jpg", photo)
            rest = before.read()
            size = os.fstat(before.fileno()).st_size
        old = parse_exposition((head + rest).decode())
        self.assertEqual(len(head + rest), size)
        self.assertEqual(value(old, "imageattachfs_uploads_committed_total"), 0)
        self.assertEqual(value(self.metrics(), "imageattachfs_uploads_committed_total"), 1)

    def test_uploads_move_the_counters_and_a_refusal_counts_its_reason(self):
        photo, png = self.sample("rocket.jpg"), self.sample("chelsea.png")
        self.put("posts/1/photos/0/original.jpg", photo)
        self.put("users/7/picture/original.png", png)
        self.put("posts/1/photos/1/original.jpg", photo)  # the same bytes in another set
        bad = os.path.join(self.tmp, "bad.jpg")
        with open(bad, "wb") as f:
            f.write(b"\xff\xd8 not really a jpeg " * 50)
        self.assertErrno(errno.EINVAL, self.write_through_fd,
                         self.p("posts/2/photos/0/original.jpg"), open(bad, "rb").read())
        samples = self.metrics()
        self.assertEqual(value(samples, "imageattachfs_uploads_committed_total"), 3)
        self.assertEqual(value(samples, "imageattachfs_uploads_refused_total",
                               reason="invalid_image"), 1)
        self.assertEqual(value(samples, "imageattachfs_uploads_refused_total",
                               reason="too_large"), 0)
        self.assertEqual(value(samples, "imageattachfs_uploads_in_progress"), 0)
        self.assertEqual(value(samples, "imageattachfs_originals_stored"), 3)
        expected = 2 * os.path.getsize(photo) + os.path.getsize(png)
        self.assertEqual(value(samples, "imageattachfs_original_bytes"), expected)
        # Copying the same bytes again commits nothing new.
        self.put("posts/1/photos/0/original.jpg", photo)
        self.assertEqual(value(self.metrics(), "imageattachfs_uploads_committed_total"), 3)
        os.unlink(self.p("posts/1/photos/1/original.jpg"))
        samples = self.metrics()
        self.assertEqual(value(samples, "imageattachfs_originals_stored"), 2)
        self.assertEqual(value(samples, "imageattachfs_original_bytes"),
                         os.path.getsize(photo) + os.path.getsize(png))
        # The totals are the store's: they survive a remount; counters start again.
        self.remount()
        samples = self.metrics()
        self.assertEqual(value(samples, "imageattachfs_originals_stored"), 2)
        self.assertEqual(value(samples, "imageattachfs_uploads_committed_total"), 0)

    def test_a_thumbnail_is_made_once_then_served_from_the_store(self):
        self.put("posts/1/photos/0/original.jpg", self.sample("rocket.jpg"))
        thumb = self.p("posts/1/photos/0/thumb/300.jpg")
        first = self.read(thumb)
        lqip = self.read(self.p("posts/1/photos/0/thumb/lqip.webp"))  # made at the commit
        samples = self.metrics()
        self.assertEqual(value(samples, "imageattachfs_thumbnails_made_total"), 2)
        self.assertEqual(value(samples, "imageattachfs_eager_thumbnails_made_total"), 1)
        self.assertEqual(value(samples, "imageattachfs_thumbnail_seconds_count"), 2)
        self.assertGreater(value(samples, "imageattachfs_thumbnail_seconds_sum"), 0)
        self.assertEqual(value(samples, "imageattachfs_thumbnails_stored"), 2)
        self.assertEqual(value(samples, "imageattachfs_thumbnail_bytes"), len(first) + len(lqip))
        self.assertEqual(self.read(thumb), first)
        self.assertEqual(value(self.metrics(), "imageattachfs_thumbnails_made_total"), 2)
        # After a remount the kernel knows nothing: the lookup finds it stored.
        self.remount()
        self.assertEqual(self.read(thumb), first)
        samples = self.metrics()
        self.assertEqual(value(samples, "imageattachfs_thumbnails_made_total"), 0)
        self.assertEqual(value(samples, "imageattachfs_thumbnails_found_total"), 1)

    def test_concurrent_first_reads_of_a_thumbnail_make_it_once(self):
        self.put("posts/1/photos/0/original.jpg", self.sample("rocket.jpg"))
        thumb = self.p("posts/1/photos/0/thumb/200.jpg")
        results, barrier = [], threading.Barrier(32)

        def reader():
            barrier.wait()
            results.append(self.read(thumb))

        threads = [threading.Thread(target=reader) for _ in range(32)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(len(results), 32)
        self.assertEqual(len(set(results)), 1, "identical bytes for all")
        samples = self.metrics()
        self.assertEqual(value(samples, "imageattachfs_thumbnails_made_total"), 2)  # and lqip.webp
        self.assertEqual(value(samples, "imageattachfs_thumbnail_failures_total"), 0)

    def test_writes_to_the_daemon_files_are_refused(self):
        path = self.p(METRICS)
        before = self.read(path)
        for flags in (os.O_WRONLY, os.O_RDWR, os.O_WRONLY | os.O_TRUNC, os.O_WRONLY | os.O_APPEND):
            self.assertErrno(errno.EPERM, os.open, path, flags)
        self.assertErrno(errno.EPERM, os.truncate, path, 0)
        self.assertErrno(errno.EPERM, os.unlink, path)
        self.assertErrno(errno.EPERM, os.rename, path, self.p(".imageattachfs/old"))
        self.assertErrno(errno.EPERM, os.rename, path, self.p("posts/1/photos/0/original.jpg"))
        self.assertErrno(errno.EPERM, os.rmdir, self.p(".imageattachfs"))
        self.assertErrno(errno.EPERM, os.mkdir, self.p(".imageattachfs/d"))
        self.assertErrno(errno.EPERM, os.open, self.p(".imageattachfs/new"),
                         os.O_WRONLY | os.O_CREAT, 0o644)
        self.assertErrno(errno.ENOTSUP, os.setxattr, path, "user.x", b"1")
        self.assertNotEqual(run("sh", "-c", f"echo x > {path}", check=False).returncode, 0)
        self.assertEqual(self.read(path)[:40], before[:40])
        self.assertEqual(sorted(os.listdir(self.p(".imageattachfs"))), ["metrics"])

    def test_nginx_serves_the_metrics_to_an_allowed_address_only(self):
        nginx = shutil.which("nginx") or (os.path.exists("/usr/sbin/nginx") and "/usr/sbin/nginx")
        if not nginx:
            self.skipTest("nginx is not installed (contrib/install-deps.sh installs it)")
        options = []
        if os.getuid() == 0:
            # As the README says: nginx's workers are another user, so the
            # mount needs allow_other (and its tree must be traversable).
            self.mount.stop()
            os.chmod(self.tmp, 0o755)
            self.mount = Mount(self.tmp, options=["allow_other"])
            self.addCleanup(self.mount.stop)
            self.mount.start()
            options.append("user nobody nogroup;")
        port = free_port()
        conf_dir = tempfile.mkdtemp(prefix="nginx-", dir=self.tmp)
        metrics_file = self.p(METRICS)
        conf = os.path.join(conf_dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""
{' '.join(options)}
worker_processes 1;
daemon off;
pid {conf_dir}/nginx.pid;
error_log {conf_dir}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {conf_dir}/body;
  proxy_temp_path {conf_dir}/proxy;
  fastcgi_temp_path {conf_dir}/fastcgi;
  uwsgi_temp_path {conf_dir}/uwsgi;
  scgi_temp_path {conf_dir}/scgi;
  sendfile on;
  open_file_cache max=100;  # as for the images: the metrics location turns it off
  server {{
    listen 127.0.0.1:{port};
    location = /metrics {{
      allow 127.0.0.1;
      deny all;
      open_file_cache off;
      default_type "text/plain; version=0.0.4";
      alias {metrics_file};
    }}
    location = /metrics-elsewhere {{
      allow 192.0.2.1;
      deny all;
      default_type "text/plain; version=0.0.4";
      alias {metrics_file};
    }}
  }}
}}
""")
        proc = subprocess.Popen([nginx, "-e", f"{conf_dir}/error.log", "-c", conf],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def stop_nginx():
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            proc.stderr.close()

        self.addCleanup(stop_nginx)
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                self.fail("nginx exited: " + proc.stderr.read().decode())
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.fail("nginx did not listen")
                time.sleep(0.05)

        def scrape():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as r:
                body = r.read()
                self.assertEqual(r.status, 200)
                self.assertEqual(int(r.headers["Content-Length"]), len(body))
                self.assertTrue(r.headers["Content-Type"].startswith("text/plain"))
                return parse_exposition(body.decode())

        self.assertEqual(value(scrape(), "imageattachfs_uploads_committed_total"), 0)
        self.put("posts/1/photos/0/original.jpg", self.sample("rocket.jpg"))
        self.read(self.p("posts/1/photos/0/thumb/100.jpg"))
        for _ in range(3):
            samples = scrape()
            self.assertEqual(value(samples, "imageattachfs_uploads_committed_total"), 1)
            self.assertEqual(value(samples, "imageattachfs_thumbnails_made_total"), 2)  # + lqip
        with self.assertRaises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics-elsewhere", timeout=30)
        self.assertEqual(denied.exception.code, 403)
        denied.exception.close()
