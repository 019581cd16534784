"""S3 requests counted at a host's proxy (tests/integration/tcp_proxy.py's
`tap`), for the S3 bench: the HTTP/1.1 byte stream of each connection is
parsed as it passes (request line and headers, bodies skipped by
Content-Length or chunked encoding; answers paired with their requests in
order, HEAD, 1xx, 204 and 304 without a body), and every exchange is counted
by (type, key prefix, status).

    traffic = Traffic()
    proxy = TcpProxy(host, port, tap=traffic.tap)
    before = traffic.counts()
    ...
    by_type(traffic.counts() - before)   # {"PUT": 3, "GET": 1, ...}

Type: PUT, GET, HEAD, LIST (a GET of the bucket with list-type), DELETE, or
the method and "bucket" for other requests on the bucket (versioning). Key
prefix: the key's first path segment ("log", "b", "t", "snap", "hosts",
"probe", "fs.json")."""

import collections
import threading
import urllib.parse

TYPES = ("PUT", "GET", "HEAD", "LIST", "DELETE")


def classify(method, target):
    """(type, key prefix) of a request line's method and target
    ("/bucket/key?query", path style)."""
    path, _, query = target.partition("?")
    parts = urllib.parse.unquote(path).lstrip("/").split("/", 1)
    key = parts[1] if len(parts) > 1 else ""
    if not key:
        names = {pair.split("=", 1)[0] for pair in query.split("&") if pair}
        if method == "GET" and "list-type" in names:
            return "LIST", ""
        return f"{method} bucket", ""
    return method, key.split("/", 1)[0]


class _Stream:
    """One direction of one connection: HTTP messages parsed incrementally."""

    def __init__(self):
        self.buffer = bytearray()
        self.state = "head"  # head, body (`left` bytes), chunk-size, chunk-data, trailer
        self.left = 0

    def feed(self, data, on_head):
        """Consumes `data`; calls on_head(start line, headers) at each message
        head, which returns how its body is framed: ("length", n),
        ("chunked", 0) or ("none", 0)."""
        self.buffer += data
        while True:
            if self.state == "head":
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
                del self.buffer[:end + 4]
                headers = {}
                for line in head[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                framing, length = on_head(head[0], headers)
                if framing == "chunked":
                    self.state = "chunk-size"
                elif framing == "length" and length > 0:
                    self.state, self.left = "body", length
            elif self.state in ("body", "chunk-data"):
                take = min(self.left, len(self.buffer))
                del self.buffer[:take]
                self.left -= take
                if self.left:
                    return
                self.state = "head" if self.state == "body" else "chunk-size"
            elif self.state == "chunk-size":
                end = self.buffer.find(b"\r\n")
                if end < 0:
                    return
                line = bytes(self.buffer[:end]).split(b";", 1)[0].strip()
                del self.buffer[:end + 2]
                if not line:
                    continue  # the CRLF after a chunk's data
                size = int(line, 16)
                if size == 0:
                    self.state = "trailer"
                else:
                    self.state, self.left = "chunk-data", size
            elif self.state == "trailer":
                end = self.buffer.find(b"\r\n")
                if end < 0:
                    return
                line = self.buffer[:end]
                del self.buffer[:end + 2]
                if not line:
                    self.state = "head"


def _framing(headers):
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return "chunked", 0
    if "content-length" in headers:
        return "length", int(headers["content-length"])
    return "none", 0


class Traffic:
    """Counts of the S3 exchanges seen by one proxy's tap (thread-safe)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counter = collections.Counter()  # (type, prefix, status) -> exchanges
        self.connections = {}  # number -> (request stream, response stream, pending)

    def tap(self, number, direction, data):
        with self.lock:
            if number not in self.connections:
                self.connections[number] = (_Stream(), _Stream(), collections.deque())
            requests, responses, pending = self.connections[number]

            def on_request(line, headers):
                method, target = (line.split(" ") + ["", ""])[:2]
                pending.append((method, target))
                return _framing(headers)

            def on_response(line, headers):
                status = int((line.split(" ") + ["0", "0"])[1])
                if 100 <= status < 200:
                    return "none", 0  # interim: the real answer follows
                method, target = pending.popleft() if pending else ("?", "/")
                kind, prefix = classify(method, target)
                self.counter[(kind, prefix, status)] += 1
                if method == "HEAD" or status in (204, 304):
                    return "none", 0
                return _framing(headers)

            try:
                if direction == "request":
                    requests.feed(data, on_request)
                else:
                    responses.feed(data, on_response)
            except (ValueError, IndexError):
                self.counter[("unparsed", "", 0)] += 1
                self.connections.pop(number, None)

    def counts(self):
        """A copy of the counts so far (subtract two to count a window)."""
        with self.lock:
            return collections.Counter(self.counter)


def by_type(counts, prefix=None, status=None):
    """{type: exchanges} of a Counter from Traffic.counts() (or a
    difference of two), optionally of one key prefix or status."""
    found = collections.Counter()
    for (kind, key_prefix, code), n in counts.items():
        if (prefix is None or key_prefix == prefix) and (status is None or code == status):
            found[kind] += n
    return found


def type_text(counts, scale=1.0):
    """"PUT 2, GET 1.5, HEAD 1, LIST 0, DELETE 0" (per `scale` operations),
    other kinds appended when present."""
    found = by_type(counts)
    names = list(TYPES) + sorted(k for k in found if k not in TYPES)
    return ", ".join(f"{name} {_number(found[name] / scale)}" for name in names)


def _number(value):
    if value >= 10 or value == int(value):
        return f"{value:.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


# AWS S3 Standard list prices (us-east-1), $ per 1,000 requests: PUT, COPY,
# POST, LIST 0.005; GET, HEAD and the rest 0.0004; DELETE free.
PRICE_PER_1000 = {"PUT": 0.005, "LIST": 0.005, "GET": 0.0004, "HEAD": 0.0004, "DELETE": 0.0}


def dollars_per_1000(counts, operations):
    """$ of the requests in `counts` per 1,000 operations, at AWS's prices."""
    found = by_type(counts)
    total = sum(PRICE_PER_1000.get(kind, 0.0004) * n / 1000 for kind, n in found.items())
    return total * 1000 / max(1, operations)
