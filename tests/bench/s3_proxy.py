"""A counting HTTP/1.1 proxy between a daemon and RGW, run in a thread of the
S3 bench (tests/bench/s3_bench.py):

    proxy = S3Proxy("127.0.0.1", 7480).start()  # listens on 127.0.0.1:<free port>
    env["AWS_ENDPOINT_URL_S3"] = proxy.endpoint   # the daemon signs Host = the proxy's
    proxy.latency = 0.020                         # each request waits 20 ms before it is forwarded
    proxy.reset(); ...; proxy.counts()            # {("PUT", "log", 200): 3, ("LIST", "log", 200): 1, ...}
    proxy.stop()

It parses each request (request line, headers, a Content-Length or chunked
body) and its response (no body for HEAD, 1xx, 204, 304), so that it can
count requests on kept-alive connections; the bytes go through unchanged,
Host included (SigV4 signs it: the daemon signs the proxy's host:port, and
RGW with path-style addressing accepts it). Each client connection has one
upstream connection of its own, kept alive as long as the client's is.

A request is counted by method (GET, PUT, HEAD, DELETE, POST; a GET on the
bucket with list-type=2 is LIST), kind (the first part of the key: log, b, t,
hosts, probe, snap; fs.json; for a LIST the prefix's; "bucket" for anything
else on the bucket) and the response's status.
"""

import socket
import threading
import time
import urllib.parse

KINDS = ("log", "b", "t", "hosts", "probe", "snap")


class ProxyError(Exception):
    pass


def kind_of(method, target):
    """(counted method, kind) of a path-style request target "/BUCKET/KEY?Q"."""
    url = urllib.parse.urlsplit(target)
    path = urllib.parse.unquote(url.path).lstrip("/")
    _, _, key = path.partition("/")
    query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
    if not key:
        if method == "GET" and query.get("list-type") == "2":
            return "LIST", _kind_of_key(query.get("prefix", ""), "bucket")
        return method, "bucket"
    return method, _kind_of_key(key, "other")


def _kind_of_key(key, default):
    if key == "fs.json":
        return "fs.json"
    first = key.split("/", 1)[0]
    return first if first in KINDS else (default if not key else "other")


class _Stream:
    """Buffered reading of a socket: lines, exact counts, chunked bodies."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def line(self):
        while b"\r\n" not in self.buf:
            if len(self.buf) > 65536:
                raise ProxyError("header line too long")
            self._fill()
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line + b"\r\n"

    def exactly(self, count):
        parts = []
        while count > 0:
            if not self.buf:
                self._fill()
            part, self.buf = self.buf[:count], self.buf[count:]
            parts.append(part)
            count -= len(part)
        return b"".join(parts)

    def head(self):
        """The start line and headers, raw; and the headers by lower-case name."""
        first = self.line()
        raw, headers = [first], {}
        while True:
            line = self.line()
            raw.append(line)
            if line == b"\r\n":
                return first, b"".join(raw), headers
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()

    def body(self, headers):
        """The raw bytes of a message body framed by `headers`."""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parts = []
            while True:
                size_line = self.line()
                parts.append(size_line)
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    while True:  # trailers, up to the empty line
                        trailer = self.line()
                        parts.append(trailer)
                        if trailer == b"\r\n":
                            return b"".join(parts)
                parts.append(self.exactly(size + 2))
        length = headers.get("content-length")
        return self.exactly(int(length)) if length else b""

    def rest(self):
        """Everything up to the end of the stream (a response without framing)."""
        parts = [self.buf]
        self.buf = b""
        while True:
            data = self.sock.recv(65536)
            if not data:
                return b"".join(parts)
            parts.append(data)


class S3Proxy:
    def __init__(self, target_host, target_port, listen_host="127.0.0.1", latency=0.0):
        self.target = (target_host, int(target_port))
        self.listen_host = listen_host
        self.latency = latency
        self.lock = threading.Lock()
        self._counts = {}
        self.errors = []       # what went wrong in a connection (not the client's closing)
        self.connections = 0   # client connections accepted
        self.listener = None
        self.port = None
        self.stopping = threading.Event()
        self.threads = []
        self.sockets = set()

    @property
    def endpoint(self):
        return f"http://{self.listen_host}:{self.port}"

    def start(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((self.listen_host, 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        thread = threading.Thread(target=self._accept_loop, daemon=True, name="s3proxy-accept")
        thread.start()
        self.threads.append(thread)
        return self

    def stop(self):
        self.stopping.set()
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        with self.lock:
            sockets = list(self.sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self.threads:
            thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- counts --------------------------------------------------------------

    def reset(self):
        with self.lock:
            self._counts = {}

    def counts(self):
        """{(method, kind, status): requests} since the last reset."""
        with self.lock:
            return dict(self._counts)

    def total(self, method=None, kind=None, statuses=None):
        return sum(n for (m, k, s), n in self.counts().items()
                   if (method is None or m == method) and (kind is None or k == kind)
                   and (statuses is None or s in statuses))

    def _count(self, method, kind, status):
        with self.lock:
            key = (method, kind, status)
            self._counts[key] = self._counts.get(key, 0) + 1

    # --- serving -------------------------------------------------------------

    def _accept_loop(self):
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.connections += 1
                self.sockets.add(client)
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True,
                                      name="s3proxy-conn")
            thread.start()
            self.threads = [t for t in self.threads if t.is_alive()] + [thread]

    def _connect(self):
        upstream = socket.create_connection(self.target, timeout=120)
        upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.lock:
            self.sockets.add(upstream)
        return upstream, _Stream(upstream)

    def _serve(self, client):
        upstream, up = None, None
        down = _Stream(client)
        try:
            while not self.stopping.is_set():
                try:
                    first, raw, headers = down.head()
                except EOFError:
                    return  # the client closed its kept-alive connection
                parts = first.decode("latin-1").split()
                if len(parts) != 3:
                    raise ProxyError(f"bad request line {first!r}")
                method, target, _ = parts
                if headers.get("expect", "").lower() == "100-continue":
                    client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                body = down.body(headers)
                if self.latency > 0:
                    time.sleep(self.latency)
                status_line, response, answer = None, None, None
                for attempt in range(2):
                    reused = upstream is not None
                    if upstream is None:
                        upstream, up = self._connect()
                    try:
                        upstream.sendall(raw + body)
                        status_line, response, answer = up.head()
                        break
                    except (EOFError, ConnectionResetError, BrokenPipeError):
                        # RGW closed the idle kept-alive connection: send again on a new one.
                        self._drop(upstream)
                        upstream, up = None, None
                        if not reused:
                            raise
                while True:
                    status = int(status_line.split()[1])
                    if status >= 200:
                        break
                    if status != 100:
                        client.sendall(response)  # other 1xx go through; our own 100 went already
                    status_line, response, answer = up.head()
                if method == "HEAD" or status in (204, 304):
                    payload = b""
                elif "content-length" in answer or "transfer-encoding" in answer:
                    payload = up.body(answer)
                else:
                    payload = up.rest()
                    answer["connection"] = "close"
                self._count(*kind_of(method, target), status)
                client.sendall(response + payload)
                if (answer.get("connection", "").lower() == "close" or
                        headers.get("connection", "").lower() == "close"):
                    return
        except EOFError:
            self._error("upstream closed the connection mid-request")
        except (OSError, ProxyError, ValueError, IndexError) as e:
            if not self.stopping.is_set():
                self._error(f"{type(e).__name__}: {e}")
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    self._drop(sock)

    def _drop(self, sock):
        with self.lock:
            self.sockets.discard(sock)
        try:
            sock.close()
        except OSError:
            pass

    def _error(self, text):
        with self.lock:
            self.errors.append(text)
