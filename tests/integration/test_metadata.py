"""Metadata files (README "Metadata files"): index.json of a multiple
attachment and meta.json of a set, JSON that follows every commit, removal,
move and thumbnail before the change's reply, on the main and the serve
mount, byte-stable, read-only, and not listed (so backups never copy them)."""

import datetime
import errno
import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request

from harness import Mount, MountedTestCase, run, vips_size

SRCSET_WIDTHS = [16, 32, 48, 64, 96, 128, 256, 384, 640, 750, 828, 1080, 1200, 1920, 2048, 3840]

PHOTOS = "posts/42/photos"
INDEX = PHOTOS + "/index.json"


def rfc3339(ns):
    seconds, fraction = divmod(ns, 1_000_000_000)
    when = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction:09d}Z"


class MetadataTest(MountedTestCase):
    mount_serve = True

    def setUp(self):
        super().setUp()
        self.sources = {
            "a.jpg": self.image("a.jpg", 400, 300),
            "b.png": self.image("b.png", 200, 100),
            "c.webp": self.image("c.webp", 120, 90),
            "d.jpg": self.image("d.jpg", 64, 48),
        }

    def load(self, relative, root=None):
        """The metadata file's bytes read whole, checked against its st_size
        and against cat; returns (bytes, parsed JSON). Thumbnails made at
        upload are waited for first: each one stored changes the file."""
        self.settle()
        path = os.path.join(root or self.mnt, relative)
        size = os.stat(path).st_size
        data = self.read(path)
        self.assertEqual(size, len(data), f"st_size of {relative}")
        self.assertEqual(run("cat", path).stdout.encode(), data)
        self.assertTrue(data.endswith(b"\n"))
        return data, json.loads(data)

    def expected_set(self, index, source, name, width, height, mimetype, set_dir):
        data = self.read(source)
        st = os.stat(self.p(f"{set_dir}/{name}"))
        path = self.p(f"{set_dir}/{name}")
        # The placeholders are the original's xattrs (their form: test_placeholders).
        blurhash = os.getxattr(path, "user.image.blurhash").decode()
        color = os.getxattr(path, "user.image.color").decode()
        self.assertRegex(blurhash, r"^L[0-9A-Za-z#$%*+,\-.:;=?@\[\]^_{|}~]{27}$")
        self.assertRegex(color, r"^#[0-9a-f]{6}$")
        # The open schema: a range of widths, so the common responsive ones.
        widths = [w for w in SRCSET_WIDTHS if w <= width]
        srcset = {ext: ", ".join(f"/{set_dir}/thumb/{w}.{ext} {w}w" for w in widths)
                  for ext in ("jpg", "png", "webp", "gif", "avif")} if widths else {}
        return {"index": index, "name": name, "width": width, "height": height,
                "mimetype": mimetype, "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "mtime": rfc3339(st.st_mtime_ns), "blurhash": blurhash, "color": color,
                "lqip": f"/{set_dir}/thumb/lqip.webp", "srcset": srcset,
                "thumbnails": [self.lqip_entry(set_dir)]}

    def lqip_entry(self, set_dir):
        """thumb/lqip.webp, made at the commit: listed last (key order)."""
        path = self.p(f"{set_dir}/thumb/lqip.webp")
        width, height = vips_size(path)
        return {"name": "lqip.webp", "width": width, "height": height,
                "bytes": os.path.getsize(path)}

    def put_three(self):
        self.put(f"{PHOTOS}/10/original.webp", self.sources["c.webp"])
        self.put(f"{PHOTOS}/0/original.jpg", self.sources["a.jpg"])
        self.put(f"{PHOTOS}/2/original.png", self.sources["b.png"])

    def test_index_json_lists_the_sets_in_order_after_cp(self):
        self.put_three()
        data, index = self.load(INDEX)
        self.assertEqual(list(index), ["sets"])
        self.assertEqual(index["sets"], [
            self.expected_set(0, self.sources["a.jpg"], "original.jpg", 400, 300, "image/jpeg",
                              PHOTOS + "/0"),
            self.expected_set(2, self.sources["b.png"], "original.png", 200, 100, "image/png",
                              PHOTOS + "/2"),
            self.expected_set(10, self.sources["c.webp"], "original.webp", 120, 90,
                              "image/webp", PHOTOS + "/10"),
        ])
        # Keys in the documented order, integers as integers, no whitespace.
        self.assertTrue(data.startswith(b'{"sets":[{"index":0,"name":"original.jpg","width":400,'
                                        b'"height":300,"mimetype":"image/jpeg","bytes":'), data)
        for entry in index["sets"]:
            meta, parsed = self.load(f"{PHOTOS}/{entry['index']}/meta.json")
            self.assertEqual(parsed, entry)
            self.assertIn(meta[:-1], data, "meta.json is the set's entry in index.json")
        # cp -p keeps the mtime: the file's mtime, to the nanosecond.
        run("cp", "-p", self.sources["d.jpg"], self.p(f"{PHOTOS}/3/original.jpg"))
        _, index = self.load(INDEX)
        self.assertEqual([s["index"] for s in index["sets"]], [0, 2, 3, 10])
        self.assertEqual(index["sets"][2]["mtime"],
                         rfc3339(os.stat(self.sources["d.jpg"]).st_mtime_ns))

    def test_rm_mv_and_replacement_change_them_at_once(self):
        self.put_three()
        self.load(INDEX)  # known to the kernel before each change
        os.unlink(self.p(f"{PHOTOS}/2/original.png"))
        _, index = self.load(INDEX)
        self.assertEqual([s["index"] for s in index["sets"]], [0, 10])
        self.assertErrno(errno.ENOENT, os.stat, self.p(f"{PHOTOS}/2/meta.json"))
        webp_sha = index["sets"][1]["sha256"]
        run("mv", "-T", self.p(f"{PHOTOS}/10"), self.p(f"{PHOTOS}/1"))
        _, index = self.load(INDEX)
        self.assertEqual([(s["index"], s["sha256"]) for s in index["sets"]][1], (1, webp_sha))
        self.assertEqual(self.load(f"{PHOTOS}/1/meta.json")[1]["sha256"], webp_sha)
        self.assertErrno(errno.ENOENT, os.stat, self.p(f"{PHOTOS}/10/meta.json"))
        self.put(f"{PHOTOS}/1/original.jpg", self.sources["d.jpg"])  # replaces the webp
        _, index = self.load(INDEX)
        self.assertEqual(index["sets"][1]["name"], "original.jpg")
        self.assertEqual(index["sets"][1]["width"], 64)
        run("rm", "-r", self.p("posts/42"))
        self.assertErrno(errno.ENOENT, os.stat, self.p(INDEX))
        self.assertErrno(errno.ENOENT, os.stat, self.p(f"{PHOTOS}/0/meta.json"))

    def test_thumbnails_made_and_removed_are_listed(self):
        self.put(f"{PHOTOS}/0/original.jpg", self.sources["a.jpg"])
        lqip = self.lqip_entry(f"{PHOTOS}/0")
        self.assertEqual(self.load(INDEX)[1]["sets"][0]["thumbnails"], [lqip])
        thumb = self.read(self.p(f"{PHOTOS}/0/thumb/300.jpg"))
        small = self.read(self.p(f"{PHOTOS}/0/thumb/x50.png"))
        expected = [{"name": "300.jpg", "width": 300, "height": 225, "bytes": len(thumb)},
                    {"name": "x50.png", "width": 66, "height": 50, "bytes": len(small)}, lqip]
        self.assertEqual(self.load(INDEX)[1]["sets"][0]["thumbnails"], expected)
        self.assertEqual(self.load(f"{PHOTOS}/0/meta.json")[1]["thumbnails"], expected)
        self.assertEqual(self.load(INDEX, self.serve)[1]["sets"][0]["thumbnails"], expected)
        os.unlink(self.p(f"{PHOTOS}/0/thumb/300.jpg"))
        self.assertEqual(self.load(INDEX)[1]["sets"][0]["thumbnails"], expected[1:])
        # A single attachment: meta.json beside original.<ext>, no index.json.
        self.put("users/7/picture/original.png", self.sources["b.png"])
        self.read(self.p("users/7/picture/thumb/64.png"))
        _, meta = self.load("users/7/picture/meta.json")
        self.assertEqual((meta["index"], meta["name"], meta["width"]), (0, "original.png", 200))
        self.assertEqual([t["name"] for t in meta["thumbnails"]], ["64.png", "lqip.webp"])
        self.assertErrno(errno.ENOENT, os.stat, self.p("users/7/picture/index.json"))

    def test_byte_stable_across_remounts(self):
        self.put_three()
        self.read(self.p(f"{PHOTOS}/2/thumb/100.webp"))
        before = self.load(INDEX)[0], self.load(f"{PHOTOS}/2/meta.json")[0]
        self.remount()
        self.assertEqual((self.load(INDEX)[0], self.load(f"{PHOTOS}/2/meta.json")[0]), before)

    def test_serve_mount_sees_each_change_with_the_exact_size(self):
        self.put(f"{PHOTOS}/0/original.jpg", self.sources["a.jpg"])
        first, _ = self.load(INDEX, self.serve)
        self.assertEqual(first, self.load(INDEX)[0])
        self.put(f"{PHOTOS}/7/original.png", self.sources["b.png"])
        second, index = self.load(INDEX, self.serve)
        self.assertEqual([s["index"] for s in index["sets"]], [0, 7])
        self.assertEqual(second, self.load(INDEX)[0])
        run("mv", "-T", self.p(f"{PHOTOS}/7"), self.p(f"{PHOTOS}/5"))
        self.assertEqual([s["index"] for s in self.load(INDEX, self.serve)[1]["sets"]], [0, 5])
        os.unlink(self.p(f"{PHOTOS}/0/original.jpg"))
        self.assertEqual([s["index"] for s in self.load(INDEX, self.serve)[1]["sets"]], [5])
        self.assertErrno(errno.ENOENT, os.stat, os.path.join(self.serve, PHOTOS, "0/meta.json"))

    def test_they_are_read_only(self):
        self.put(f"{PHOTOS}/0/original.jpg", self.sources["a.jpg"])
        self.put("users/7/picture/original.jpg", self.sources["a.jpg"])
        for relative in (INDEX, f"{PHOTOS}/0/meta.json", "users/7/picture/meta.json"):
            path = self.p(relative)
            before = self.read(path)
            for flags in (os.O_WRONLY, os.O_RDWR, os.O_WRONLY | os.O_TRUNC, os.O_WRONLY | os.O_APPEND):
                self.assertErrno(errno.EPERM, os.open, path, flags)
            self.assertErrno(errno.EPERM, os.truncate, path, 0)
            self.assertErrno(errno.EPERM, os.unlink, path)
            self.assertErrno(errno.EPERM, os.setxattr, path, "user.x", b"1")
            self.assertErrno(errno.EPERM, os.rename, path, path + "~")
            self.assertErrno(errno.EPERM, os.utime, path, (1, 1))
            self.assertNotEqual(run("cp", self.sources["d.jpg"], path, check=False).returncode, 0)
            self.assertEqual(self.read(path), before)
        # Onto them: a scratch file renamed, a directory moved.
        scratch = self.p(f"{PHOTOS}/0/.upload.tmp")
        self.write_through_fd(scratch, b"{}")
        self.assertErrno(errno.EPERM, os.rename, scratch, self.p(f"{PHOTOS}/0/meta.json"))
        self.assertErrno(errno.EPERM, os.rename, self.p(f"{PHOTOS}/0/original.jpg"),
                         self.p(f"{PHOTOS}/0/meta.json"))
        # (A directory onto a file: the kernel itself answers ENOTDIR.)
        self.assertErrno(errno.ENOTDIR, os.rename, self.p(f"{PHOTOS}/0"), self.p(INDEX))
        # Created where nothing is stored yet: EPERM too, and nothing appears.
        self.assertErrno(errno.EPERM, os.open, self.p("posts/9/photos/index.json"),
                         os.O_WRONLY | os.O_CREAT, 0o644)
        self.assertErrno(errno.EPERM, os.open, self.p("posts/9/photos/0/meta.json"),
                         os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        self.assertErrno(errno.ENOENT, os.stat, self.p("posts/9/photos/index.json"))
        self.assertIn("refused", self.mount.read_log())

    def test_not_listed_so_backups_never_carry_them(self):
        self.put_three()
        self.put("users/7/picture/original.jpg", self.sources["a.jpg"])
        os.stat(self.p(INDEX))
        self.assertEqual(sorted(os.listdir(self.p(PHOTOS))), ["0", "10", "2"])
        self.assertEqual(sorted(os.listdir(self.p(f"{PHOTOS}/0"))), ["original.jpg", "thumb"])
        self.assertEqual(sorted(os.listdir(self.p("users/7/picture"))), ["original.jpg", "thumb"])
        archive = subprocess.run(["tar", "-C", self.mnt, "-cf", "-", "."], capture_output=True,
                                 check=True).stdout
        listing = subprocess.run(["tar", "-tf", "-"], input=archive, capture_output=True,
                                 check=True).stdout
        self.assertNotIn(b"index.json", listing)
        self.assertNotIn(b"meta.json", listing)
        backup = os.path.join(self.tmp, "backup")
        run("rsync", "-a", self.mnt + "/", backup + "/")
        for _, _, files in os.walk(backup):
            self.assertFalse({"index.json", "meta.json"} & set(files))
        # The restore of that backup exits 0 (it writes no metadata file).
        self.assertEqual(run("rsync", "-a", backup + "/", self.mnt + "/", check=False).returncode, 0)

    def test_nginx_serves_them_as_application_json_and_current(self):
        nginx = shutil.which("nginx") or (os.path.exists("/usr/sbin/nginx") and "/usr/sbin/nginx")
        if not nginx:
            self.skipTest("nginx is not installed (contrib/install-deps.sh installs it)")
        user = ""
        if os.getuid() == 0:  # nginx's workers are another user: allow_other
            self.mount.stop()
            os.chmod(self.tmp, 0o755)
            self.mount = Mount(self.tmp, options=["allow_other"], serve=True)
            self.addCleanup(self.mount.stop)
            self.mount.start()
            user = "user nobody nogroup;"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        conf_dir = tempfile.mkdtemp(prefix="nginx-", dir=self.tmp)
        conf = os.path.join(conf_dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""
{user}
worker_processes 1;
daemon off;
pid {conf_dir}/nginx.pid;
error_log {conf_dir}/error.log;
events {{ worker_connections 64; }}
http {{
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path {conf_dir}/body;
  proxy_temp_path {conf_dir}/proxy;
  fastcgi_temp_path {conf_dir}/fastcgi;
  uwsgi_temp_path {conf_dir}/uwsgi;
  scgi_temp_path {conf_dir}/scgi;
  sendfile on;
  open_file_cache max=100 inactive=60s;
  open_file_cache_valid 60s;
  server {{
    listen 127.0.0.1:{port};
    root {self.mount.serve};
    location ~ /(index|meta)\\.json$ {{
      open_file_cache off;
    }}
  }}
}}
""")
        proc = subprocess.Popen([nginx, "-e", f"{conf_dir}/error.log", "-c", conf],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def stop_nginx():
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=20)
            proc.stderr.close()

        self.addCleanup(stop_nginx)
        deadline = time.monotonic() + 20
        while True:
            self.assertIsNone(proc.poll(), "nginx exited")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                self.assertLess(time.monotonic(), deadline, "nginx did not listen")
                time.sleep(0.05)

        def get(relative):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/{relative}", timeout=30) as r:
                body = r.read()
                self.assertEqual(r.status, 200)
                self.assertEqual(r.headers["Content-Type"], "application/json")
                self.assertEqual(int(r.headers["Content-Length"]), len(body))
                return body

        self.put(f"{PHOTOS}/0/original.jpg", self.sources["a.jpg"])
        self.assertEqual(get(INDEX), self.read(self.p(INDEX)))
        self.assertEqual(get(f"{PHOTOS}/0/meta.json"), self.read(self.p(f"{PHOTOS}/0/meta.json")))
        self.put(f"{PHOTOS}/4/original.png", self.sources["b.png"])
        self.read(self.p(f"{PHOTOS}/4/thumb/50.png"))
        body = get(INDEX)
        self.assertEqual(body, self.read(self.p(INDEX)))
        self.assertEqual([s["index"] for s in json.loads(body)["sets"]], [0, 4])
        self.assertEqual(json.loads(body)["sets"][1]["thumbnails"][0]["name"], "50.png")

    def test_a_reader_racing_replacements_always_reads_valid_json(self):
        names = ["b.png", "a.jpg", "c.webp", "d.jpg"]
        rounds = 40
        done = threading.Event()
        failures = []

        def replace():
            try:
                for i in range(rounds):
                    name = names[i % len(names)]
                    ext = name.split(".")[1]
                    # A new extension replaces the set's original too.
                    run("cp", self.sources[name], self.p(f"{PHOTOS}/{i % 3}/original.{ext}"))
            except Exception as e:  # reported by the main thread
                failures.append(e)
            finally:
                done.set()

        self.put(f"{PHOTOS}/0/original.jpg", self.sources["a.jpg"])
        writer = threading.Thread(target=replace)
        writer.start()
        reads = 0
        while not done.is_set() or reads == 0:
            for root in (self.mnt, self.serve):
                with open(os.path.join(root, INDEX), "rb") as f:
                    size = os.fstat(f.fileno()).st_size
                    data = f.read()
                self.assertEqual(len(data), size)
                indexes = [s["index"] for s in json.loads(data)["sets"]]
                self.assertEqual(indexes, sorted(set(indexes)))
                reads += 1
        writer.join()
        self.assertEqual(failures, [])
        # After the last cp returned (and its lqip.webp is made), both mounts
        # show every set's last original.
        self.settle()
        last = json.loads(self.read(self.p(INDEX)))
        self.assertEqual(last, json.loads(self.read(os.path.join(self.serve, INDEX))))
        for i in range(rounds - 3, rounds):
            source = self.read(self.sources[names[i % len(names)]])
            self.assertEqual(last["sets"][i % 3]["sha256"], hashlib.sha256(source).hexdigest())
