"""Debian's nginx serving a serve mount with exactly contrib/nginx/imageattachfs.conf
(only its listen line and root replaced, as tests/bench does), its workers as
www-data: format negotiation by Accept, at most one thumbnail made per request,
caching and CORS headers, originals, metrics."""

import concurrent.futures
import http.client
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from harness import Mount, MountedTestCase

SITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "contrib", "nginx",
                    "imageattachfs.conf")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WORKER_USER = "www-data"
WWW_DATA_GID = 33
THUMB_CACHE = "public, max-age=604800"
ORIGINAL_CACHE = "public, max-age=3600"
CHROME_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kind_of(body):
    """The image format of the bytes, from their magic numbers."""
    if body[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return "webp"
    if body[4:12] in (b"ftypavif", b"ftypavis"):
        return "avif"
    if body[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    return "unknown"


class Nginx:
    """nginx -g 'daemon off;' as the test's child on 127.0.0.1:<free port>, with
    the site file as shipped, its own prefix and temp paths; stopped by pid."""

    def __init__(self, workdir, root):
        self.dir = workdir
        self.port = free_port()
        with open(SITE) as f:
            site = f.read()
        site, listens = re.subn(r"^\s*listen\s+[^;]*;", f"    listen 127.0.0.1:{self.port};",
                                site, flags=re.M)
        site, roots = re.subn(r"^\s*root\s+[^;]*;", f"    root {root};", site, flags=re.M)
        assert listens == 1 and roots == 1, "the site file has one listen and one root"
        temp = "".join(f"    {kind}_temp_path {self.dir}/{kind};\n"
                       for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            # Debian's nginx.conf, reduced to what a test needs: the site file is
            # included inside http, as sites-enabled/* is there.
            f.write(f"user {WORKER_USER};\nworker_processes 2;\n"
                    "thread_pool imageattachfs threads=4;\n"
                    f"pid {self.dir}/nginx.pid;\nerror_log {self.dir}/error.log warn;\n"
                    "events { worker_connections 256; }\n"
                    "http {\n    include /etc/nginx/mime.types;\n"
                    "    default_type application/octet-stream;\n"
                    f"{temp}    include {self.dir}/site.conf;\n}}\n")
        with open(os.path.join(self.dir, "site.conf"), "w") as f:
            f.write(site)
        self.proc = None

    def start(self):
        log = open(os.path.join(self.dir, "stderr.log"), "w")
        self.proc = subprocess.Popen(
            [NGINX, "-p", self.dir, "-e", os.path.join(self.dir, "error.log"), "-c", self.conf,
             "-g", "daemon off;"], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 20
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("nginx exited: " + self.errors())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("nginx did not listen: " + self.errors())
                time.sleep(0.05)

    def errors(self):
        text = ""
        for name in ("stderr.log", "error.log"):
            try:
                with open(os.path.join(self.dir, name)) as f:
                    text += f.read()
            except OSError:
                pass
        return text[-3000:]

    def stop(self):
        if self.proc is None:
            return
        self.proc.terminate()  # SIGTERM to the master, by pid: it stops its workers
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def get(self, path, accept=None):
        """(status, headers as a dict of lower-case names, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            headers = {"Accept": accept} if accept is not None else {}
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, body
        finally:
            conn.close()


class NginxTest(MountedTestCase):
    # www-data reads through the group; the test's user (root) owns and writes.
    mount_options = ("allow_other", f"gid={WWW_DATA_GID}", "umask=027")
    mount_serve = True

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(NGINX):
            raise unittest.SkipTest("nginx not installed: run contrib/install-deps.sh")
        if os.geteuid() != 0:
            raise unittest.SkipTest("workers as www-data need nginx started as root")
        try:
            pwd.getpwnam(WORKER_USER)
        except KeyError:
            raise unittest.SkipTest("no user www-data")

    def setUp(self):
        super().setUp()
        # www-data must reach the serve mount through the test's directory.
        os.chmod(self.tmp, 0o711)
        self.nginx = Nginx(tempfile.mkdtemp(prefix="nginx-", dir=self.tmp), self.serve)
        self.addCleanup(self.nginx.stop)
        self.nginx.start()
        self.photo = self.put("posts/1/photos/0/original.jpg", self.sample("rocket.jpg"))

    def made(self):
        """imageattachfs_thumbnails_made_total, read from the main mount."""
        with open(self.p(".imageattachfs/metrics")) as f:
            text = f.read()
        return int(re.search(r"^imageattachfs_thumbnails_made_total (\d+)$", text, re.M).group(1))

    def get_counting(self, path, accept=None):
        """GET through nginx; returns (status, headers, body, thumbnails made by it)."""
        before = self.made()
        status, headers, body = self.nginx.get(path, accept)
        return status, headers, body, self.made() - before

    def thumbs_stored(self, set_dir="posts/1/photos/0"):
        return sorted(os.listdir(self.p(set_dir + "/thumb")))

    def test_accept_chooses_avif_webp_or_jpeg_one_thumbnail_each(self):
        url = "/posts/1/photos/0/thumb/300.jpg"
        for accept, kind, content_type in ((CHROME_ACCEPT, "avif", "image/avif"),
                                           ("image/webp,*/*", "webp", "image/webp"),
                                           (None, "jpeg", "image/jpeg"),
                                           ("*/*", "jpeg", "image/jpeg")):
            status, headers, body, made = self.get_counting(url, accept)
            self.assertEqual(status, 200, (accept, self.nginx.errors()))
            self.assertEqual(kind_of(body), kind, accept)
            self.assertEqual(headers["content-type"], content_type, accept)
            self.assertEqual(headers["vary"], "Accept")
            self.assertEqual(headers["cache-control"], THUMB_CACHE)
            self.assertEqual(headers["access-control-allow-origin"], "*")
            self.assertEqual(headers["content-length"], str(len(body)))
            self.assertLessEqual(made, 1, accept)
        self.assertEqual(self.thumbs_stored(), ["300.avif", "300.jpg", "300.webp", "lqip.webp"])
        # Served again: nothing is made.
        for accept in (CHROME_ACCEPT, "image/webp", None):
            status, _, _, made = self.get_counting(url, accept)
            self.assertEqual((status, made), (200, 0), accept)

    def test_browser_accepting_both_makes_only_the_preferred(self):
        status, _, body, made = self.get_counting("/posts/1/photos/0/thumb/120.png", CHROME_ACCEPT)
        self.assertEqual((status, kind_of(body), made), (200, "avif", 1))
        self.assertEqual(self.thumbs_stored(), ["120.avif", "lqip.webp"])
        with open(self.p("posts/1/photos/0/thumb/120.avif"), "rb") as f:
            self.assertEqual(f.read(), body)

    def test_heights_and_jpeg_spelling_are_negotiated_too(self):
        for name, accept, kind in (("x40.jpg", "image/webp", "webp"),
                                   ("x40.jpg", None, "jpeg"),
                                   ("90.png", CHROME_ACCEPT, "avif"),
                                   ("90.png", None, "png")):
            status, headers, body, made = self.get_counting(f"/posts/1/photos/0/thumb/{name}",
                                                            accept)
            self.assertEqual((status, kind_of(body), made), (200, kind, 1), (name, accept))
            self.assertEqual(headers["vary"], "Accept")
        self.assertEqual(self.thumbs_stored(),
                         ["90.avif", "90.png", "lqip.webp", "x40.jpg", "x40.webp"])
        # Malformed names are the daemon's ENOENT, whatever the Accept.
        # thumb/300.JPG is no name (lower case only): 404 for every browser alike.
        for name in ("x.jpg", "300.JPG", "0300.jpg", "300.jpg.jpg", "-1.png", "300.JPEG"):
            status, _, _, made = self.get_counting(f"/posts/1/photos/0/thumb/{name}",
                                                   CHROME_ACCEPT)
            self.assertEqual((status, made), (404, 0), name)

    def test_q_zero_refuses_a_format(self):
        for accept, kind in (("image/avif;q=0, image/webp", "webp"),
                             ("image/avif; q=0.0,image/webp;q=0", "jpeg"),
                             ("image/avif;q=0.5", "avif")):
            status, _, body = self.nginx.get("/posts/1/photos/0/thumb/64.jpg", accept)
            self.assertEqual((status, kind_of(body)), (200, kind), accept)

    def test_width_not_allowed_is_404_and_makes_nothing(self):
        # Wider than the 640 px original: ENOENT for every format, at no encode.
        for accept in (CHROME_ACCEPT, None):
            status, _, _, made = self.get_counting("/posts/1/photos/0/thumb/4000.jpg", accept)
            self.assertEqual((status, made), (404, 0), accept)
        status, _, _, made = self.get_counting("/posts/1/photos/0/thumb/0.jpg", CHROME_ACCEPT)
        self.assertEqual((status, made), (404, 0))
        self.assertEqual(self.thumbs_stored(), ["lqip.webp"])  # made at the commit

    def test_concurrent_first_requests_make_one_thumbnail(self):
        url = "/posts/1/photos/0/thumb/200.jpg"
        before = self.made()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda _: self.nginx.get(url, CHROME_ACCEPT), range(8)))
        self.assertEqual(self.made() - before, 1)
        self.assertEqual({(status, kind_of(body)) for status, _, body in results}, {(200, "avif")})
        self.assertEqual(len({body for _, _, body in results}), 1)

    def test_named_formats_and_originals(self):
        status, headers, body, made = self.get_counting("/posts/1/photos/0/thumb/100.webp",
                                                        "image/avif")
        self.assertEqual((status, kind_of(body), made), (200, "webp", 1))
        self.assertNotIn("vary", headers)  # asked for by name: nothing negotiated
        self.assertEqual(headers["cache-control"], THUMB_CACHE)
        self.assertEqual(headers["access-control-allow-origin"], "*")
        status, headers, body, made = self.get_counting("/posts/1/photos/0/original.jpg",
                                                        CHROME_ACCEPT)
        self.assertEqual((status, made), (200, 0))
        with open(self.photo, "rb") as f:
            self.assertEqual(body, f.read())
        self.assertEqual(headers["content-type"], "image/jpeg")
        self.assertEqual(headers["cache-control"], ORIGINAL_CACHE)
        self.assertEqual(headers["access-control-allow-origin"], "*")
        self.assertNotIn("vary", headers)
        status, _, _ = self.nginx.get("/posts/2/photos/0/original.jpg")
        self.assertEqual(status, 404)

    def test_metrics_under_their_location_only(self):
        status, headers, body = self.nginx.get("/imageattachfs-metrics")
        self.assertEqual(status, 200, self.nginx.errors())
        self.assertEqual(headers["content-type"], "text/plain; version=0.0.4")
        self.assertEqual(headers["cache-control"], "no-store")
        self.assertIn(b"imageattachfs_thumbnails_made_total ", body)
        self.nginx.get("/posts/1/photos/0/thumb/50.jpg")
        _, _, again = self.nginx.get("/imageattachfs-metrics")
        self.assertNotEqual(body, again)  # a new snapshot, not a cached one
        for path in ("/.imageattachfs/metrics", "/.imageattachfs/", "/.imageattachfs"):
            self.assertEqual(self.nginx.get(path)[0], 404, path)

    def test_preferred_format_not_stored_falls_back_on_a_read_only_mount(self):
        # A read-only mount makes nothing: thumb/300.avif is ENOENT there,
        # so nginx serves the stored thumb/300.jpg.
        self.assertEqual(os.path.getsize(self.p("posts/1/photos/0/thumb/300.jpg")) > 0, True)
        self.nginx.stop()
        self.mount.stop()
        ro = Mount(self.tmp, options=list(self.mount_options) + ["ro"], serve=True)
        self.addCleanup(ro.stop)
        ro.start()
        self.nginx.start()
        status, headers, body = self.nginx.get("/posts/1/photos/0/thumb/300.jpg", CHROME_ACCEPT)
        self.assertEqual((status, kind_of(body)), (200, "jpeg"), self.nginx.errors())
        self.assertEqual(headers["vary"], "Accept")
        self.assertEqual(self.nginx.get("/posts/1/photos/0/thumb/301.jpg", CHROME_ACCEPT)[0], 404)
