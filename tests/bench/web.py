"""nginx as the bench's child (its own configuration, 127.0.0.1, a free port,
stopped by pid), wrk, and a small HTTP client that times each request."""

import http.client
import os
import pwd
import re
import shutil
import socket
import subprocess
import time

from benchlib import SOURCE_ROOT

SITE = os.path.join(SOURCE_ROOT, "contrib", "nginx", "imageattachfs.conf")
WORKERS = 16  # as contrib/nginx/imageattachfs.conf advises for nginx.conf
POOL_THREADS = 16


def require_tools():
    missing = [tool for tool in ("nginx", "wrk") if shutil.which(tool) is None
               and not os.path.exists("/usr/sbin/" + tool)]
    if missing:
        raise RuntimeError(f"{' and '.join(missing)} not installed: run contrib/install-deps.sh")


def nginx_binary():
    return shutil.which("nginx") or "/usr/sbin/nginx"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def site_config(root, port, open_file_cache):
    """contrib/nginx/imageattachfs.conf listening on 127.0.0.1:port with
    `root`; without its open_file_cache lines when `open_file_cache` is off."""
    with open(SITE) as f:
        text = f.read()
    text = re.sub(r"^\s*listen\s+[^;]*;", f"    listen 127.0.0.1:{port};", text, flags=re.M)
    text = re.sub(r"^\s*root\s+[^;]*;", f"    root {root};", text, flags=re.M)
    if not open_file_cache:
        text = re.sub(r"^\s*open_file_cache[a-z_]*\s[^;]*;\n", "", text, flags=re.M)
        text += "\n# open_file_cache off (the bench's comparison)\n"
    return text


class Nginx:
    """nginx -g 'daemon off;' as a child, serving `root`; stop() stops it by pid."""

    def __init__(self, workdir, root, open_file_cache):
        self.dir = workdir
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.root = root
        user = ""
        if os.geteuid() == 0:  # workers as the mount's user: a FUSE mount without allow_other
            user = f"user {pwd.getpwuid(0).pw_name};\n"
        temp = "".join(f"    {kind}_temp_path {self.dir}/{kind};\n"
                       for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        conf = (f"{user}worker_processes {WORKERS};\n"
                f"thread_pool imageattachfs threads={POOL_THREADS};\n"
                f"pid {self.dir}/nginx.pid;\nerror_log {self.dir}/error.log warn;\n"
                "events { worker_connections 4096; }\n"
                "http {\n"
                "    types { image/jpeg jpg jpeg; image/png png; image/webp webp; image/gif gif;"
                " image/avif avif; }\n"
                "    default_type application/octet-stream;\n"
                "    keepalive_requests 1000000;\n"
                f"{temp}"
                + site_config(root, self.port, open_file_cache) + "}\n")
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.proc = None

    def __enter__(self):
        log = open(os.path.join(self.dir, "stderr.log"), "w")
        self.proc = subprocess.Popen(
            [nginx_binary(), "-p", self.dir, "-e", os.path.join(self.dir, "error.log"),
             "-c", self.conf, "-g", "daemon off;"], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("nginx exited: " + self.errors())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("nginx did not listen: " + self.errors())
                time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.stop()

    def errors(self):
        text = ""
        for name in ("stderr.log", "error.log"):
            try:
                with open(os.path.join(self.dir, name)) as f:
                    text += f.read()
            except OSError:
                pass
        return text.strip()[-2000:]

    def stop(self):
        if self.proc is None:
            return
        self.proc.terminate()  # SIGTERM to the master: it stops its workers
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def url(self, path):
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"


def wrk(nginx, paths, seconds, workdir, connections=64, threads=2):
    """Requests/s of wrk (`connections` connections) cycling through `paths`;
    raises if any response was not 200."""
    script = os.path.join(workdir, "paths.lua")
    with open(script, "w") as f:
        f.write("local paths = {" + ",".join(f'"/{p.lstrip("/")}"' for p in paths) + "}\n"
                "local i = 0\n"
                "request = function()\n  i = i % #paths + 1\n"
                "  return wrk.format('GET', paths[i])\nend\n")
    result = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections),
                             "-d", f"{seconds}s", "-s", script, nginx.url("/")],
                            capture_output=True, text=True, check=True)
    out = result.stdout
    match = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    if not match:
        raise RuntimeError("wrk printed no Requests/sec: " + out + result.stderr)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    if non2xx or errors:
        raise RuntimeError("wrk saw failed requests: " + out.strip().splitlines()[-3])
    return float(match.group(1))


class Client:
    """One keep-alive HTTP connection that times each GET (seconds)."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def get(self, path):
        start = time.perf_counter()
        self.conn.request("GET", "/" + path.lstrip("/"))
        response = self.conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - start
        if response.status != 200:
            raise RuntimeError(f"GET {path}: HTTP {response.status}")
        return elapsed, body

    def close(self):
        self.conn.close()


def nginx_version():
    result = subprocess.run([nginx_binary(), "-v"], capture_output=True, text=True)
    return (result.stderr or result.stdout).strip().rpartition("/")[2] or "?"
