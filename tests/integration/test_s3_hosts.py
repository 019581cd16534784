"""Several hosts on one bucket (SCALEOUT.md §5, §7, §12, §14), against the
fixture's RGW (rgw_fixture.py): daemons A and B (and C) run as the test's
children in the foreground, each with its own store directory and mountpoint,
sharing one bucket that each test makes and removes; s3_poll=0.1.

What is checked is what the hosts show through their mounts, and the log in
the bucket: a name A just committed is at once visible on B (sync-on-miss);
racing replacements and moves from two hosts converge on one outcome; a
SIGKILLed writer loses no original whose close() returned 0, and the log stays
contiguous; a fresh host rebuilds the same tree from the log; a host cut off
from the bucket fails writes with EIO and catches up; the mount-time probe
and the refusals (thumbnails shared through the bucket and the cache budget:
test_s3_sharing.py). Data stays tiny (the memstore OSD keeps
it in RAM): images of a few hundred bytes, made here.
"""

import errno
import json
import os
import pwd
import random
import shutil
import tempfile
import threading
import time
import unittest
import urllib.parse

from s3_hosts import S3HostsCase, complaints, read_bytes, sha256, write_file
from tiny_images import png
import harness
import rgw_fixture
import tcp_proxy
from harness import Mount, run

POLL = "0.1"


class S3HostsTest(S3HostsCase):
    # --- 1. a new name on A is at once visible on B --------------------------

    def test_an_upload_on_a_is_at_once_stat_and_read_on_b(self):
        nginx_reason = self.nginx_unavailable()
        a = self.host("a")
        # nginx's workers (www-data) read B's mount through the group.
        b_extra = ("allow_other", "gid=33", "umask=027") if nginx_reason is None else ()
        b = self.host("b", extra=b_extra)
        for r in range(5):
            data = png(24 + r, 16, seed=r)
            source = os.path.join(self.tmp, f"up{r}.png")
            with open(source, "wb") as f:
                f.write(data)
            relative = f"posts/{r + 1}/photos/0/original.png"
            run("cp", source, a.path(relative))
            # At once: no wait, no retry. B's lookup misses and catches up.
            try:
                on_b = os.stat(b.path(relative))
            except OSError as e:
                self.fail(f"round {r}: stat on B right after cp on A: {e}" + self.logs())
            self.assertEqual(read_bytes(b.path(relative)), data, f"round {r}: bytes on B")
            on_a = os.stat(a.path(relative))
            self.assertEqual((on_b.st_size, on_b.st_mtime_ns), (on_a.st_size, on_a.st_mtime_ns),
                             f"round {r}: size and mtime on B vs A")
            self.assertEqual(on_a.st_size, len(data))

        if nginx_reason is not None:
            if rgw_fixture.in_ci():
                self.fail(f"nginx part: {nginx_reason} (CI=true: nginx is required)")
            print(f"\n(nginx part skipped: {nginx_reason})")
            return
        import test_nginx
        os.chmod(self.tmp, 0o711)
        os.chmod(b.root, 0o711)
        workdir = tempfile.mkdtemp(prefix="nginx-", dir=self.tmp)
        nginx = test_nginx.Nginx(workdir, b.mnt)
        self.addCleanup(nginx.stop)
        nginx.start()
        for r in range(5):
            data = png(20 + r, 12, seed=100 + r)
            source = os.path.join(self.tmp, f"web{r}.png")
            with open(source, "wb") as f:
                f.write(data)
            relative = f"posts/{100 + r}/photos/0/original.png"
            run("cp", source, a.path(relative))
            status, headers, body = nginx.get("/" + relative)
            self.assertEqual(status, 200, f"round {r}: GET via nginx on B right after cp on A: "
                             f"{nginx.errors()}" + self.logs())
            self.assertEqual(body, data, f"round {r}: bytes via nginx on B")
            self.assertEqual(headers.get("content-length"), str(len(data)))
            self.assertEqual(os.stat(b.path(relative)).st_mtime_ns,
                             os.stat(a.path(relative)).st_mtime_ns)
        print("\n(5 GETs via nginx on B right after cp on A: 200, bytes equal)")

    @staticmethod
    def nginx_unavailable():
        """Why nginx cannot serve B's mount here, or None."""
        import test_nginx
        if not os.path.exists(test_nginx.NGINX):
            return "nginx not installed"
        if os.geteuid() != 0:
            return "workers as www-data need nginx started as root"
        try:
            pwd.getpwnam(test_nginx.WORKER_USER)
        except KeyError:
            return "no user www-data"
        return None

    # --- 2. racing replacements converge --------------------------------------

    def test_racing_replacements_from_a_and_b_converge(self):
        a, b = self.host("a"), self.host("b")
        relative = "posts/1/photos/0/original.png"
        first = png(16, 16, seed=9999)
        write_file(a.path(relative), first)
        self.assertEqual(read_bytes(b.path(relative)), first, "B sees the first original")

        per_host = 50
        uploads = [png(16 + i % 7, 16 + i // 7, seed=i) for i in range(2 * per_host)]
        self.assertEqual(len({sha256(u) for u in uploads}), len(uploads), "distinct uploads")
        barrier = threading.Barrier(len(uploads), timeout=60)
        outcome = [None] * len(uploads)

        def replace(i):
            mount = a if i < per_host else b
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                outcome[i] = "barrier broken"
                return
            try:
                write_file(mount.path(relative), uploads[i])
                outcome[i] = 0
            except OSError as e:
                outcome[i] = e

        threads = [threading.Thread(target=replace, args=(i,)) for i in range(len(uploads))]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        self.assertFalse(any(t.is_alive() for t in threads), "a replacement hung" + self.logs())
        race_seconds = time.monotonic() - started
        failed = {i: o for i, o in enumerate(outcome) if o != 0}
        # Nothing in a replacement may fail: each close() commits its bytes.
        self.assertEqual(failed, {}, "replacements whose close() did not return 0" + self.logs())
        committed = {sha256(uploads[i]) for i, o in enumerate(outcome) if o == 0}

        def agreed():
            on_a = sha256(read_bytes(a.path(relative)))
            on_b = sha256(read_bytes(b.path(relative)))
            return on_a if on_a == on_b else None

        final, seconds = self.wait_for("A and B show the same original", agreed, 10)
        self.assertIn(final, committed, "the original both show is one whose close() returned 0")
        self.assertNotEqual(final, sha256(first))

        # The log decides: its last attach of the set is what both show, and
        # every committed upload is in it exactly once.
        keys, entries = self.log_entries()
        self.assertLogContiguous(keys)
        attaches = [op for e in entries for op in e["ops"]
                    if op["op"] == "attach" and op["set"] == {"type": "posts", "id": "1",
                                                              "att": "photos", "index": 0}]
        self.assertEqual(attaches[-1]["blob"], final, "the log's last attach of the set")
        self.assertEqual(len(attaches), 1 + len(uploads),
                         f"attach ops of the set in the log ({len(entries)} entries)")
        self.assertEqual({op["blob"] for op in attaches}, committed | {sha256(first)})
        self.assertEqual(len({op["id"] for op in attaches}), len(attaches), "op ids repeat")

        # index.json lists the thumbnails stored on that host, and thumbnails
        # are still made per host: have each host make the placeholder (its
        # bytes are a function of the original), then compare the files.
        index = "posts/1/photos/index.json"
        for mount in (a, b):
            os.stat(mount.path("posts/1/photos/0/thumb/lqip.webp"))
            mount.settle()

        def same_index():
            on_a, on_b = read_bytes(a.path(index)), read_bytes(b.path(index))
            return on_a if on_a == on_b else None

        try:
            text, _ = self.wait_for("identical index.json on A and B", same_index,
                                    max(1.0, 10 - seconds))
        except AssertionError:
            self.fail(f"index.json differs:\nA: {read_bytes(a.path(index))!r}\n"
                      f"B: {read_bytes(b.path(index))!r}")
        self.assertEqual(json.loads(text)["sets"][0]["sha256"], final)
        print(f"\n({len(uploads)} replacements in {race_seconds:.2f} s, "
              f"{len(entries) - 1} log entries; agreed after {seconds:.2f} s)")

    # --- 3. racing moves onto two targets: one wins ----------------------------

    def test_racing_moves_onto_one_target_exactly_one_wins(self):
        a, b = self.host("a"), self.host("b")
        wins = {"a": 0, "b": 0}
        for r in range(6):
            photos = f"posts/{200 + r}/photos"
            data = png(12, 12, seed=300 + r)
            write_file(a.path(f"{photos}/3/original.png"), data)
            self.assertEqual(read_bytes(b.path(f"{photos}/3/original.png")), data,
                             f"round {r}: B sees the set at 3")
            barrier = threading.Barrier(2, timeout=30)
            results = {}

            def move(name, mount, target):
                try:
                    barrier.wait()
                    os.rename(mount.path(f"{photos}/3"), mount.path(f"{photos}/{target}"))
                    results[name] = 0
                except OSError as e:
                    results[name] = e.errno
                except threading.BrokenBarrierError:
                    results[name] = "barrier broken"

            threads = [threading.Thread(target=move, args=("a", a, 1)),
                       threading.Thread(target=move, args=("b", b, 2))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
            self.assertFalse(any(t.is_alive() for t in threads), f"round {r}: a move hung")
            shown = {k: errno.errorcode.get(v, v) if v else 0 for k, v in results.items()}
            self.assertEqual(sorted(results.values(), key=str), sorted([0, errno.ENOENT], key=str),
                             f"round {r}: exactly one move succeeds, the other ENOENT: {shown}"
                             + self.logs())
            winner = "a" if results["a"] == 0 else "b"
            wins[winner] += 1
            target = "1" if winner == "a" else "2"

            def both_list_one():
                la = sorted(os.listdir(a.path(photos)))
                lb = sorted(os.listdir(b.path(photos)))
                return (la, lb) if la == lb == [target] else None

            self.wait_for(f"round {r}: A and B list only {photos}/{target}", both_list_one, 5)
            for mount in (a, b):
                self.assertEqual(read_bytes(mount.path(f"{photos}/{target}/original.png")), data)
                self.assertErrno(errno.ENOENT, os.stat, mount.path(f"{photos}/3/original.png"))
        print(f"\n(wins: {wins})")

    # --- 4. SIGKILL of a writer ----------------------------------------------

    def test_sigkill_of_a_during_uploads_loses_no_committed_original(self):
        b = self.host("b")
        root_a = os.path.join(self.tmp, "a")
        os.makedirs(root_a)
        store_a = os.path.join(root_a, "store")
        rounds = harness.sanitized_or(60, 15)
        seed = random.randrange(1 << 30)
        rng = random.Random(seed)
        committed = {}  # relative path -> bytes, for each close() that returned 0
        counter = [0]
        started = time.monotonic()
        last_log = ""
        current = []  # this round's A: stopped (unmounted, reaped) if the test fails midway

        def stop_current():
            if current:
                current[-1].stop()
                log = getattr(current[-1], "log", None)
                if log is not None and not log.closed:
                    log.close()  # a start that failed at once leaves it open

        self.addCleanup(stop_current)
        for r in range(rounds):
            a = Mount(root_a, store=store_a, options=self.s3_options(), env=self.env)
            a.name = f"a (round {r})"
            current[:] = [a]
            try:
                a.start()
            except AssertionError as e:
                self.fail(f"round {r}: A did not come back after SIGKILL (seed {seed}): {e}"
                          + self.logs(b))
            stop = threading.Event()

            def writer(mount=a):
                while not stop.is_set():
                    counter[0] += 1
                    n = counter[0]
                    relative = f"posts/{n}/photos/0/original.png"
                    data = png(8 + n % 13, 8 + n % 11, seed=n)
                    try:
                        write_file(mount.path(relative), data)
                    except OSError:
                        return  # the daemon is gone (ENOTCONN, EIO, ...)
                    committed[relative] = data

            thread = threading.Thread(target=writer)
            thread.start()
            delay = rng.uniform(0, 0.3)
            time.sleep(delay)
            a.proc.kill()
            a.proc.wait()
            stop.set()
            thread.join(timeout=20)
            alive = thread.is_alive()
            a.log.close()
            a.proc = None
            if run("fusermount3", "-u", a.mnt, check=False).returncode != 0:
                run("umount", "-l", a.mnt, check=False)
            self.assertFalse(a.is_mounted(), f"round {r}: A's dead mount is still mounted")
            self.assertFalse(alive, f"round {r}: the writer hung after SIGKILL of A")
            last_log = a.read_log()
        kill_seconds = time.monotonic() - started
        self.assertGreaterEqual(len(committed), rounds // 2,
                                f"too few uploads committed to check anything: {len(committed)}")

        # Every original whose close() returned 0 is on B, byte-exact.
        missing, wrong = [], []
        for relative, data in sorted(committed.items()):
            try:
                if read_bytes(b.path(relative)) != data:
                    wrong.append(relative)
            except OSError as e:
                missing.append(f"{relative}: {e.strerror}")
        self.assertEqual((missing[:10], wrong[:10]), ([], []),
                         f"of {len(committed)} committed originals, {len(missing)} missing and "
                         f"{len(wrong)} wrong on B (seed {seed})" + self.logs(b) +
                         "\n--- last A log:\n" + last_log[-3000:])
        # The log is contiguous.
        keys, entries = self.log_entries()
        self.assertLogContiguous(keys)
        # Every original an entry names is in the bucket (an entry references
        # only blobs whose PUT returned), committed by a reply or not.
        blobs = set(k[2:] for k in self.s3.list_all(prefix="b/")[0])
        named = {op["blob"] for e in entries for op in e["ops"] if op["op"] == "attach"}
        self.assertEqual(named - blobs, set(), "log entries name originals not in the bucket")
        self.assertLessEqual({sha256(d) for d in committed.values()}, named,
                             "committed originals missing from the log")
        # Every mount of A's store directory wrote as one host.
        self.assertEqual(len({e["host"] for e in entries}), 1,
                         "A's store keeps its host uuid across SIGKILLs and remounts")
        # A, once more on its store directory, catches up and has them all.
        a = Mount(root_a, store=store_a, options=self.s3_options(), env=self.env)
        a.name = "a (last)"
        self.hosts.append(a)
        self.addCleanup(a.stop)
        a.start()
        for relative, data in sorted(committed.items()):
            self.assertEqual(read_bytes(a.path(relative)), data, f"{relative} on A after restart")
        print(f"\n({rounds} SIGKILLs in {kill_seconds:.1f} s, seed {seed}; {counter[0]} uploads "
              f"started, {len(committed)} committed; {len(keys)} log entries)")

    # --- 5. a fresh host ---------------------------------------------------------

    def test_a_fresh_host_lists_identically(self):
        a, b = self.host("a"), self.host("b")
        img = {i: png(10 + i, 9 + i, seed=500 + i) for i in range(1, 8)}
        write_file(a.path("posts/1/photos/0/original.png"), img[1])
        write_file(a.path("posts/1/photos/1/original.png"), img[2])
        write_file(a.path("users/7/picture/original.png"), img[3])
        write_file(a.path("posts/2/photos/0/original.png"), img[4])
        write_file(b.path("posts/3/photos/0/original.png"), img[5])
        write_file(b.path("posts/1/photos/5/original.png"), img[6])
        # Replacements across hosts (each looks up the other's name first).
        write_file(b.path("posts/1/photos/0/original.png"), img[7])
        write_file(a.path("posts/3/photos/0/original.png"), img[2])
        # A removal, a move and two touches.
        os.unlink(a.path("posts/2/photos/0/original.png"))
        os.stat(b.path("posts/1/photos/1/original.png"))
        os.rename(b.path("posts/1/photos/1"), b.path("posts/1/photos/4"))
        touched_users = 1_600_000_000_123_456_789
        os.utime(b.path("users/7/picture/original.png"), ns=(touched_users, touched_users))
        touched_moved = 1_500_000_000_987_654_321

        def moved_on_a():
            return os.stat(a.path("posts/1/photos/4/original.png"))

        self.wait_for("A sees B's move", moved_on_a, 5)
        os.utime(a.path("posts/1/photos/4/original.png"), ns=(touched_moved, touched_moved))

        expected = {"posts/1/photos/0/original.png": img[7],
                    "posts/1/photos/4/original.png": img[2],
                    "posts/1/photos/5/original.png": img[6],
                    "posts/3/photos/0/original.png": img[2],
                    "users/7/picture/original.png": img[3]}
        mtimes = {"posts/1/photos/4/original.png": touched_moved,
                  "users/7/picture/original.png": touched_users}

        def settled(mount):
            def check():
                tree = self.tree(mount)
                files = {k: v for k, v in tree.items() if not k.endswith("/")}
                if {k: v[2] for k, v in files.items()} != {k: sha256(v)
                                                           for k, v in expected.items()}:
                    return None
                if any(files[k][1] != v for k, v in mtimes.items()):
                    return None
                return tree
            return check

        tree_a, _ = self.wait_for("A shows every change", settled(a), 10, mounts=[a])
        c = self.host("c", start=False)
        self.assertFalse(os.path.exists(c.store), "C starts with an empty store directory")
        c.start()
        tree_c, seconds = self.wait_for("C shows every change", settled(c), 10, mounts=[c])
        tree_a = self.tree(a)
        self.assertEqual(tree_c, tree_a, "the fresh host C's tree vs A's")
        tree_b, _ = self.wait_for("B shows every change", settled(b), 10, mounts=[b])
        self.assertEqual(self.tree(b), tree_a, "B's tree vs A's")
        # Not vacuous: the tree holds what was done, with xattrs.
        for relative, data in expected.items():
            size, _, digest, xattrs = tree_a[relative]
            self.assertEqual((size, digest), (len(data), sha256(data)), relative)
            self.assertEqual(xattrs.get("user.image.sha256"), sha256(data).encode(), relative)
            self.assertIn("user.image.created_at", xattrs, relative)
        self.assertEqual(tree_a["posts/1/photos/"], ["0", "4", "5"])
        self.assertEqual(tree_a["posts/"], ["1", "3"])
        print(f"\n(C matched {len(tree_c)} entries {seconds:.2f} s after its mount)")

    # --- 6. a host cut off from the bucket --------------------------------------

    def test_cut_off_host_fails_writes_with_eio_and_catches_up(self):
        url = urllib.parse.urlsplit(self.rgw.endpoint)
        proxy = tcp_proxy.TcpProxy(url.hostname, url.port or 80).start()
        self.addCleanup(proxy.stop)
        timeout = 3
        a = self.host("a")
        b = self.host("b", endpoint=proxy.endpoint, extra=(f"s3_commit_timeout={timeout}",))
        cached = png(20, 14, seed=700)
        write_file(a.path("posts/1/photos/0/original.png"), cached)
        self.assertEqual(read_bytes(b.path("posts/1/photos/0/original.png")), cached)
        before = png(20, 15, seed=701)
        write_file(b.path("posts/2/photos/0/original.png"), before)  # through the proxy
        self.assertEqual(read_bytes(a.path("posts/2/photos/0/original.png")), before)
        self.assertGreater(proxy.forwarded, 0, "B reached the bucket through the proxy")

        # Resumed before the daemons stop, whatever happens (cleanups run last first).
        self.addCleanup(proxy.resume)
        margin = 4
        timings = {}
        problems = []  # writes that got no answer in time: reported at the end
        cached_path = b.path("posts/1/photos/0/original.png")

        def cut_off_write(mode, what, change):
            """change() on B must fail with EIO within the commit timeout
            (+ margin). A write still without an answer then is a problem:
            the proxy is resumed so that it ends, and the test goes on."""
            outcome = {}

            def attempt():
                t0 = time.monotonic()
                try:
                    change()
                    outcome["result"] = 0
                except OSError as e:
                    outcome["result"] = e
                outcome["seconds"] = time.monotonic() - t0

            writer = threading.Thread(target=attempt)
            writer.start()
            writer.join(timeout=timeout + margin)
            if writer.is_alive():
                proxy.resume()
                writer.join(timeout=180)
                self.assertFalse(writer.is_alive(), f"{mode}: {what} on B hung after the resume")
                problems.append(f"{mode}: {what} on cut-off B had no answer within "
                                f"s3_commit_timeout={timeout} s + {margin} s; once the proxy "
                                f"forwarded again it ended with {outcome['result']!r} after "
                                f"{outcome['seconds']:.1f} s")
                return None
            self.assertIsInstance(outcome["result"], OSError,
                                  f"{mode}: {what} on cut-off B succeeded")
            self.assertEqual(outcome["result"].errno, errno.EIO,
                             f"{mode}: {what}: {outcome['result']}" + self.logs(b))
            timings[f"{what}, {mode}"] = outcome["seconds"]
            return outcome["seconds"]

        during = png(21, 14, seed=703)
        for n, mode in enumerate(("hang", "reset")):
            proxy.pause(mode)
            if mode == "reset":
                # Meanwhile A writes; B learns of it once the proxy forwards again.
                write_file(a.path("posts/4/photos/0/original.png"), during)
            # An op without bytes to store (touch), then an upload of new bytes.
            stamp = 1_700_000_000_000_000_000 + n
            cut_off_write(mode, "touch", lambda: os.utime(cached_path, ns=(stamp, stamp)))
            # What B has it still serves.
            self.assertEqual(read_bytes(cached_path), cached, mode)
            self.assertEqual(read_bytes(b.path("posts/2/photos/0/original.png")), before, mode)
            self.assertEqual(os.stat(cached_path).st_size, len(cached), mode)
            cut_off_write(mode, "cp", lambda: write_file(b.path(f"posts/3/photos/{n}/original.png"),
                                                         png(20, 16, seed=702 + n)))

        proxy.resume()
        resumed = time.monotonic()
        got, seconds = self.wait_for(
            "A's upload during the pause on B after the resume",
            lambda: read_bytes(b.path("posts/4/photos/0/original.png")), 10, mounts=[b])
        self.assertEqual(got, during)
        self.wait_for("B lists A's upload", lambda: "4" in os.listdir(b.path("posts")), 5,
                      mounts=[b])
        # And B writes again.
        after = png(22, 14, seed=704)
        write_file(b.path("posts/5/photos/0/original.png"), after)
        self.assertEqual(read_bytes(a.path("posts/5/photos/0/original.png")), after)
        print("\n(EIO after " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()) +
              f"; A's upload on B {seconds:.2f} s after the resume, "
              f"{time.monotonic() - resumed:.2f} s to B's next write)")
        self.assertEqual(problems, [], "writes on cut-off B" + self.logs(b))

    # --- 7. the probe: a versioned bucket --------------------------------------

    def test_a_versioned_bucket_mounts_read_only_with_one_line(self):
        self.s3.put_bucket_versioning("Enabled")
        a = self.host("a")
        self.assertTrue(a.is_mounted())
        self.assertEqual(sorted(os.listdir(a.mnt)), ["posts", "users"])
        self.assertErrno(errno.EROFS, write_file, a.path("posts/1/photos/0/original.png"),
                         png(8, 8, seed=1))
        self.assertErrno(errno.EROFS, os.mkdir, a.path("posts/1/photos/0/.scratch"))
        lines = [line for line in a.read_log().splitlines() if "not enforced" in line]
        self.assertEqual(len(lines), 1, "lines saying 'not enforced'" + self.logs(a))
        self.assertIn("read-only", lines[0])
        self.assertEqual(self.s3.list_all(prefix="log/")[0], [], "a read-only host wrote the log")

    # --- 8. refusals ---------------------------------------------------------------

    def test_stores_and_options_that_would_mix_state_are_refused(self):
        # A store holding sets of its own cannot join a bucket.
        local = Mount(os.path.join(self.tmp, "local"))
        self.addCleanup(local.stop)
        local.start()
        write_file(local.path("posts/1/photos/0/original.png"), png(8, 8, seed=2))
        local.stop()
        status, out = self.refused(local.store, local.mnt, self.s3_options())
        self.assertEqual(status, 1, out)
        self.assertEqual(len(complaints(out)), 1, f"one line: {out}")

        # A store used with a bucket cannot be mounted without it.
        a = self.host("a")
        write_file(a.path("posts/1/photos/0/original.png"), png(9, 8, seed=3))
        a.stop()
        status, out = self.refused(a.store, a.mnt, [])
        self.assertEqual(status, 1, out)
        self.assertEqual(len(complaints(out)), 1, f"one line: {out}")
        self.assertIn("-o s3=", complaints(out)[0])
        a.start()  # still whole: it mounts with its bucket
        self.assertEqual(read_bytes(a.path("posts/1/photos/0/original.png")), png(9, 8, seed=3))
        a.stop()

        # No option takes a secret, whatever its case.
        secret = "Sx7-not-to-be-echoed"
        for name in ("s3_access_key", "secret", "s3_session_token", "password", "credentials",
                     "AWS_Secret_Access_Key", "s3_key"):
            root = os.path.join(self.tmp, "k-" + name)
            status, out = self.refused(os.path.join(root, "store"), os.path.join(root, "mnt"),
                                       self.s3_options(extra=(f"{name}={secret}",)))
            self.assertEqual(status, 1, f"{name}: {out}")
            self.assertEqual(len(complaints(out)), 1, f"{name}: one line: {out}")
            self.assertIn(name, complaints(out)[0])
            self.assertNotIn(secret, out, f"{name}: the value was echoed")

    # --- 9. the probe: a schema that differs ----------------------------------

    def test_schema_different_from_the_buckets_mounts_read_only(self):
        a = self.host("a")  # makes fs.json with the tests' open schema
        data = png(12, 9, seed=900)
        write_file(a.path("posts/1/photos/0/original.png"), data)
        with open(harness.OPEN_SCHEMA) as f:
            text = f.read()
        other = os.path.join(self.tmp, "other.conf")
        changed = text.replace("thumbnail_widths = 1-4096", "thumbnail_widths = 1-2048", 1)
        self.assertNotEqual(changed, text)
        with open(other, "w") as f:
            f.write(changed)
        c = self.host("c", extra=("schema=" + other,))
        lines = [line for line in complaints(c.read_log()) if "schema" in line]
        self.assertEqual(len(lines), 1, "one line about the schema" + self.logs(c))
        self.assertIn("read-only", lines[0])
        self.assertEqual(read_bytes(c.path("posts/1/photos/0/original.png")), data,
                         "a read-only host serves the bucket's originals")
        self.assertErrno(errno.EROFS, write_file, c.path("posts/2/photos/0/original.png"),
                         png(8, 8, seed=901))
        self.assertErrno(errno.EROFS, os.unlink, c.path("posts/1/photos/0/original.png"))
        # The same text from another file is the same schema: read-write.
        same = os.path.join(self.tmp, "same.conf")
        shutil.copyfile(harness.OPEN_SCHEMA, same)
        d = self.host("d", extra=("schema=" + same,))
        self.assertEqual([line for line in complaints(d.read_log()) if "schema" in line], [])
        write_file(d.path("posts/3/photos/0/original.png"), png(8, 9, seed=902))
        self.assertEqual(read_bytes(a.path("posts/3/photos/0/original.png")), png(8, 9, seed=902))


if __name__ == "__main__":
    unittest.main()
