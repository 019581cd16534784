"""The Ceph RGW facts the S3 design builds on (SCALEOUT.md §2), against the
fixture's RGW (rgw_fixture.py): conditional create, payload hash checks,
ListObjectsV2 paging over keys that need percent-encoding, Range GET, and the
404/204 answers. Each test makes and removes its own bucket; data stays tiny
(the memstore OSD keeps it in RAM)."""

import datetime
import hashlib
import threading
import unittest

import rgw_fixture
import s3

# Keys that need percent-encoding in paths and queries (and '~', which must
# not be encoded), unicode of 2, 3 and 4 UTF-8 bytes, and nested prefixes.
AWKWARD_KEYS = [
    "a b", "a+b", "a~b", "a%20b", "a=b&c", "q?r#s", "plain",
    "dir a/x 1", "dir a/x+2", "dir a/~3", "dir a/é4", "dir a/日本/5", "dir a/日本/6 +",
    "dir a/sub/deep/7", "dir+b/8", "dir+b/9~", "tilde~/1", "ünïcödé/ç", "ünïcödé/😀",
    "z end", "z+end", "zz/ 10", "zz/+11", "zz/~12",
]


class S3RgwTest(unittest.TestCase):
    def setUp(self):
        self.rgw = rgw_fixture.rgw_or_skip(self)
        self.s3 = self.rgw.client()
        self.addCleanup(self.s3.close)
        self.s3.create_bucket()
        self.addCleanup(self.s3.delete_bucket)

    def assertCode(self, answer, status, code):
        got_status, _, body = answer
        self.assertEqual((got_status, s3.error_code(body)), (status, code), body[:300])

    def create_if_absent(self, client, key, body):
        return client.put_object(key, body, {"if-none-match": "*"})

    # --- If-None-Match: * -----------------------------------------------------

    def test_if_none_match_creates_once_and_keeps_first(self):
        self.assertEqual(self.create_if_absent(self.s3, "log/1", b"first")[0], 200)
        self.assertCode(self.create_if_absent(self.s3, "log/1", b"second"), 412,
                        "PreconditionFailed")
        status, _, body = self.s3.get_object("log/1")
        self.assertEqual((status, body), (200, b"first"))

    def test_if_none_match_race_has_one_winner(self):
        racers, rounds = 16, 4
        clients = [self.rgw.client() for _ in range(racers)]
        for c in clients:
            self.addCleanup(c.close)
        barrier = threading.Barrier(racers, timeout=60)
        answers = [[None] * racers for _ in range(rounds)]

        def race(i):
            try:
                for r in range(rounds):
                    barrier.wait()
                    answers[r][i] = self.create_if_absent(clients[i], f"race/{r}",
                                                          b"racer %d" % i)
            except Exception:
                barrier.abort()   # the others stop waiting; the None shows below
                raise

        threads = [threading.Thread(target=race, args=(i,)) for i in range(racers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        self.assertFalse(any(t.is_alive() for t in threads), "a racer hung")
        for r in range(rounds):
            statuses = [a[0] for a in answers[r]]
            winners = [i for i, s in enumerate(statuses) if s == 200]
            self.assertEqual(len(winners), 1, f"round {r}: {statuses}")
            self.assertEqual(statuses.count(412), racers - 1, f"round {r}: {statuses}")
            status, _, body = self.s3.get_object(f"race/{r}")
            self.assertEqual((status, body), (200, b"racer %d" % winners[0]))

    def test_versioned_bucket_ignores_if_none_match(self):
        # RGW 16.2 does not refuse the second create on a versioned bucket:
        # the mount-time probe sees 200 twice and mounts read-only (§12).
        self.s3.put_bucket_versioning("Enabled")
        self.assertEqual(self.s3.get_bucket_versioning(), "Enabled")
        self.assertEqual(self.create_if_absent(self.s3, "probe/1", b"first")[0], 200)
        self.assertEqual(self.create_if_absent(self.s3, "probe/1", b"second")[0], 200)
        self.assertEqual(self.s3.get_object("probe/1")[2], b"second")
        versions = [v for k, v in self.s3.list_object_versions() if k == "probe/1"]
        self.assertEqual(len(versions), 2, versions)

    def test_suspended_versioning_refuses_second_create(self):
        self.s3.put_bucket_versioning("Enabled")
        self.s3.put_bucket_versioning("Suspended")
        self.assertEqual(self.s3.get_bucket_versioning(), "Suspended")
        self.assertEqual(self.create_if_absent(self.s3, "probe/1", b"first")[0], 200)
        self.assertCode(self.create_if_absent(self.s3, "probe/1", b"second"), 412,
                        "PreconditionFailed")
        self.assertEqual(self.s3.get_object("probe/1")[2], b"first")

    # --- the payload hash --------------------------------------------------------

    def test_payload_hash_mismatch_is_refused_and_nothing_stored(self):
        claimed = hashlib.sha256(b"the body that was signed").hexdigest()
        answer = self.s3.put_object("b/x", b"the body that was sent!!", payload_sha256=claimed)
        self.assertCode(answer, 400, "XAmzContentSHA256Mismatch")
        self.assertEqual(self.s3.head_object("b/x")[0], 404)
        self.assertEqual(self.s3.list_objects_v2()["keys"], [])

    def test_missing_payload_hash_is_refused(self):
        # Without the header RGW 16.2 checks the signature as if the client
        # had signed UNSIGNED-PAYLOAD: the real hash signed, header left out,
        # is a signature mismatch (403, not the 400 SCALEOUT §2 had).
        self.assertCode(self.s3.put_object("b/y", b"body", send_payload_hash=False), 403,
                        "SignatureDoesNotMatch")
        self.assertCode(self.s3.request("GET", "b/y", send_payload_hash=False), 403,
                        "SignatureDoesNotMatch")
        self.assertEqual(self.s3.head_object("b/y")[0], 404)

    def test_unsigned_payload_is_accepted(self):
        # RGW does not insist on a payload hash: UNSIGNED-PAYLOAD, sent or
        # implied by a missing header, stores the body. Only a client that
        # always sends the real hash gets the check above.
        self.assertEqual(self.s3.put_object("u/1", b"one", payload_sha256="UNSIGNED-PAYLOAD")[0],
                         200)
        self.assertEqual(self.s3.put_object("u/2", b"two", payload_sha256="UNSIGNED-PAYLOAD",
                                            send_payload_hash=False)[0], 200)
        self.assertEqual([self.s3.get_object(k)[2] for k in ("u/1", "u/2")], [b"one", b"two"])

    # --- signatures and clocks (so the tests above are checked, not waved through)

    def test_wrong_secret_is_refused(self):
        other = s3.Client(self.rgw.endpoint, self.rgw.access_key, self.rgw.secret_key[::-1],
                          self.rgw.region, bucket=self.rgw.bucket)
        self.addCleanup(other.close)
        self.assertCode(other.put_object("k", b"x"), 403, "SignatureDoesNotMatch")
        self.assertEqual(self.s3.head_object("k")[0], 404)

    def test_skewed_clock_is_refused(self):
        late = lambda: datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
        other = s3.Client(self.rgw.endpoint, self.rgw.access_key, self.rgw.secret_key,
                          self.rgw.region, bucket=self.rgw.bucket, clock=late)
        self.addCleanup(other.close)
        self.assertCode(other.put_object("k", b"x"), 403, "RequestTimeTooSkewed")

    # --- ListObjectsV2 -----------------------------------------------------------

    def put_awkward_keys(self):
        for key in AWKWARD_KEYS:
            status, _, body = self.s3.put_object(key, key.encode())
            self.assertEqual(status, 200, f"{key!r}: {body[:200]}")
        # The names came back as written (GET by the same encoded name).
        self.assertEqual(self.s3.get_object("dir a/日本/6 +")[2], "dir a/日本/6 +".encode())
        return sorted(AWKWARD_KEYS)   # code point order = UTF-8 byte order

    def assertPaged(self, pages, max_keys):
        for page in pages[:-1]:
            self.assertTrue(page["is_truncated"])
            self.assertLessEqual(len(page["keys"]) + len(page["common_prefixes"]), max_keys)
            self.assertGreater(len(page["keys"]) + len(page["common_prefixes"]), 0)
        self.assertFalse(pages[-1]["is_truncated"])

    def test_list_pages_every_key_once_sorted(self):
        keys = self.put_awkward_keys()
        got, prefixes, pages = self.s3.list_all(max_keys=3)
        self.assertEqual(got, keys)
        self.assertEqual(prefixes, [])
        self.assertGreaterEqual(len(pages), len(keys) // 3)
        self.assertPaged(pages, 3)
        # Tokens that are themselves awkward keys were sent back.
        self.assertTrue(any(p["next_token"] and " " in p["next_token"] for p in pages))

    def test_list_start_after_awkward_key(self):
        keys = self.put_awkward_keys()
        for after in ("a+b", "dir a/é4", "dir a/日本/5", "tilde~/1", "a", "zzz"):
            got, _, pages = self.s3.list_all(start_after=after, max_keys=2)
            self.assertEqual(got, [k for k in keys if k.encode() > after.encode()], after)
            self.assertPaged(pages, 2)

    def test_list_delimiter_pages_prefixes_once(self):
        keys = self.put_awkward_keys()
        got, prefixes, pages = self.s3.list_all(delimiter="/", max_keys=2)
        self.assertEqual(got, [k for k in keys if "/" not in k])
        self.assertEqual(prefixes, sorted({k.split("/")[0] + "/" for k in keys if "/" in k}))
        self.assertPaged(pages, 2)
        # Keys and prefixes together come in one sorted order, page after page.
        merged = [e for p in pages for e in sorted(p["keys"] + p["common_prefixes"])]
        self.assertEqual(merged, sorted(merged))

    def test_list_prefix_and_delimiter_inside_unicode_prefix(self):
        keys = self.put_awkward_keys()
        got, prefixes, pages = self.s3.list_all(prefix="dir a/", delimiter="/", max_keys=1)
        inside = [k[len("dir a/"):] for k in keys if k.startswith("dir a/")]
        self.assertEqual(got, ["dir a/" + k for k in inside if "/" not in k])
        self.assertEqual(prefixes, sorted({"dir a/" + k.split("/")[0] + "/"
                                           for k in inside if "/" in k}))
        self.assertPaged(pages, 1)
        got, _, _ = self.s3.list_all(prefix="ünïcödé/", start_after="ünïcödé/ç")
        self.assertEqual(got, ["ünïcödé/😀"])

    # --- Range GET, missing keys ----------------------------------------------------

    def test_range_get_returns_exactly_the_bytes_asked(self):
        body = bytes(range(256)) * 4
        self.assertEqual(self.s3.put_object("r", body)[0], 200)
        for asked, first, last in (((0, 0), 0, 0), ((10, 19), 10, 19), ((1000, 1023), 1000, 1023),
                                   ((1020, 5000), 1020, 1023), ("bytes=-7", 1017, 1023),
                                   ("bytes=1000-", 1000, 1023)):
            status, headers, got = self.s3.get_object("r", range=asked)
            self.assertEqual(status, 206, asked)
            self.assertEqual(got, body[first:last + 1], asked)
            self.assertEqual(headers.get("content-range"), f"bytes {first}-{last}/1024", asked)
        self.assertCode(self.s3.get_object("r", range=(2000, 2100)), 416, "InvalidRange")
        status, _, got = self.s3.get_object("r")
        self.assertEqual((status, got), (200, body))

    def test_get_and_head_of_missing_key_are_404(self):
        self.assertEqual(self.s3.put_object("present", b"x")[0], 200)
        self.assertCode(self.s3.get_object("absent"), 404, "NoSuchKey")
        self.assertCode(self.s3.get_object("absent", range=(0, 9)), 404, "NoSuchKey")
        self.assertEqual(self.s3.head_object("absent")[0], 404)

    def test_delete_of_missing_key_is_204(self):
        self.assertEqual(self.s3.delete_object("never-there")[0], 204)
        self.assertEqual(self.s3.put_object("there", b"x")[0], 200)
        self.assertEqual(self.s3.delete_object("there")[0], 204)
        self.assertEqual(self.s3.delete_object("there")[0], 204)
        self.assertEqual(self.s3.head_object("there")[0], 404)


if __name__ == "__main__":
    unittest.main()
