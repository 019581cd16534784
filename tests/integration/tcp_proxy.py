"""A small threaded TCP proxy for the S3 tests' faults (SCALEOUT.md §14): a
daemon's s3_endpoint points at it, it forwards to the RGW port, and a test can
pause it (the host is cut off from the bucket) and resume it.

    proxy = TcpProxy("127.0.0.1", 7480).start()   # listens on 127.0.0.1:<free port>
    proxy.endpoint                                  # "http://127.0.0.1:<port>"
    proxy.pause()          # nothing is forwarded, no connection is served
    proxy.resume()
    proxy.stop()           # closes everything and joins its threads

Paused, it forwards nothing either way and serves no connection: connections
already open hang (their bytes stay unread), and new ones are taken off the
backlog and held without being read, so a client sees what a partition
looks like, requests that never get an answer (mode "hang", the default); or,
with mode "reset", every open and new connection is reset at once (what a
client sees of a dead peer). A connection that was open or held during a
pause is reset when the pause ends, never forwarded afterwards: a request the
client gave up on is not delivered late. Used only by tests and the S3 bench.

For the bench (tests/bench/s3_bench.py), two flags: `latency_ms` holds back
the first bytes of every answer (what the target sends after the client last
sent) that long, so each request/response exchange takes that much longer, as
against a distant bucket; `tap(conn, direction, data)` sees every byte
forwarded ("request": client to target, "response": back), per connection
number, e.g. to count requests (tests/bench/s3_traffic.py).
"""

import select
import socket
import struct
import threading
import time


def _reset(sock):
    """Closes `sock` with an RST (SO_LINGER 0), so the peer sees a reset, not
    a clean end of stream."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class TcpProxy:
    def __init__(self, target_host, target_port, listen_host="127.0.0.1", latency_ms=0,
                 tap=None):
        self.target = (target_host, int(target_port))
        self.latency = latency_ms / 1000.0
        self.tap = tap
        self.listen_host = listen_host
        self.listener = None
        self.port = None
        self.lock = threading.Lock()
        self.paused = False
        self.mode = "hang"
        # Bumped at every pause and every resume: a connection served in an
        # earlier epoch than the current one is reset (never forwarded across
        # a pause).
        self.epoch = 0
        self.stopping = threading.Event()
        self.threads = []
        self.sockets = set()
        self.accepted = 0   # connections taken, for tests that want to know
        self.forwarded = 0  # connections that reached the target

    @property
    def endpoint(self):
        return f"http://{self.listen_host}:{self.port}"

    def start(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((self.listen_host, 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        thread = threading.Thread(target=self._accept_loop, name=f"proxy-{self.port}",
                                  daemon=True)
        self.threads.append(thread)
        thread.start()
        return self

    def pause(self, mode="hang"):
        """Stops forwarding and serving: "hang" (requests get no answer) or
        "reset" (connections are reset)."""
        if mode not in ("hang", "reset"):
            raise ValueError(f"pause mode {mode!r}: 'hang' or 'reset'")
        with self.lock:
            if self.paused and self.mode == mode:
                return
            # From "hang" to "reset" while paused: the held connections go too.
            self.mode = mode
            self.paused = True
            self.epoch += 1

    def resume(self):
        with self.lock:
            if not self.paused:
                return
            self.paused = False
            self.epoch += 1

    def stop(self):
        self.stopping.set()
        if self.listener is not None:
            try:
                self.listener.close()
            except OSError:
                pass
        for _ in range(2):  # the accept loop first; then what it started last
            with self.lock:
                threads = list(self.threads)
            for thread in threads:
                thread.join(timeout=10)
        with self.lock:
            left = list(self.sockets)
            self.sockets.clear()
        for sock in left:
            _reset(sock)
        alive = [t.name for t in self.threads if t.is_alive()]
        if alive:
            raise AssertionError(f"proxy threads did not stop: {alive}")

    # --- internals -----------------------------------------------------------

    def _state(self):
        with self.lock:
            return self.paused, self.mode, self.epoch

    def _track(self, sock):
        with self.lock:
            self.sockets.add(sock)

    def _untrack_and_close(self, sock, reset):
        with self.lock:
            self.sockets.discard(sock)
        if reset:
            _reset(sock)
        else:
            try:
                sock.close()
            except OSError:
                pass

    def _accept_loop(self):
        while not self.stopping.is_set():
            try:
                ready, _, _ = select.select([self.listener], [], [], 0.05)
            except (OSError, ValueError):
                return  # the listener was closed by stop()
            if not ready:
                continue
            try:
                client, _ = self.listener.accept()
            except OSError:
                if self.stopping.is_set():
                    return
                continue
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            paused, mode, epoch = self._state()
            self.accepted += 1
            if paused and mode == "reset":
                _reset(client)
                continue
            self._track(client)
            thread = threading.Thread(target=self._serve,
                                      args=(client, epoch, paused, self.accepted),
                                      name=f"proxy-{self.port}-conn{self.accepted}", daemon=True)
            with self.lock:
                self.threads = [t for t in self.threads if t.is_alive()]
                self.threads.append(thread)
            thread.start()

    def _serve(self, client, epoch, accepted_paused, number):
        upstream = None
        reset = True
        answering = False  # the target spoke last: its bytes are not held back again
        try:
            while not self.stopping.is_set():
                paused, mode, now = self._state()
                if now != epoch:
                    # Open when a "hang" pause began: it hangs until the pause
                    # ends. Anything else since (a resume, a reset): reset it,
                    # never forward across a pause.
                    if paused and mode == "hang" and now == epoch + 1 and not accepted_paused:
                        time.sleep(0.02)
                        continue
                    return
                if paused:
                    time.sleep(0.02)  # held off the backlog: read nothing, send nothing
                    continue
                if upstream is None:
                    try:
                        upstream = socket.create_connection(self.target, timeout=5)
                    except OSError:
                        return
                    upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    self._track(upstream)
                    self.forwarded += 1
                ready, _, _ = select.select([client, upstream], [], [], 0.05)
                for sock in ready:
                    other = upstream if sock is client else client
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        return
                    if not data:
                        reset = False  # a clean end of stream: pass it on cleanly
                        return
                    # A pause may have begun while we waited: check again
                    # before any byte goes on.
                    if self._state()[2] != epoch:
                        return
                    if sock is upstream and self.latency and not answering:
                        time.sleep(self.latency)
                    answering = sock is upstream
                    if self.tap is not None:
                        self.tap(number, "response" if answering else "request", data)
                    try:
                        other.sendall(data)
                    except OSError:
                        return
        finally:
            self._untrack_and_close(client, reset)
            if upstream is not None:
                self._untrack_and_close(upstream, reset)
