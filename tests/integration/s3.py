"""A small S3 client for tests, written from AWS's SigV4 and S3 API
documentation with the standard library only (http.client, hashlib, hmac),
independent of the C++ client it is the oracle for.

Path style (ENDPOINT/BUCKET/KEY), one keep-alive HTTP/1.1 connection per
Client, every request signed with Signature Version 4 (service s3) and the
real payload hash in x-amz-content-sha256. Object operations return
(status, headers, body): headers a dict with lowercase names, body bytes.
Not thread-safe: one Client per thread.
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import urllib.parse
import xml.etree.ElementTree as ET

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


class S3Error(Exception):
    """An answer a helper did not expect: status, S3 error code, body."""

    def __init__(self, what, status, body):
        self.status = status
        self.code = error_code(body)
        super().__init__(f"{what}: HTTP {status} {self.code or ''} {body[:300]!r}")


def uri_encode(text, keep_slash=False):
    """RFC 3986 percent-encoding of UTF-8 bytes as SigV4 wants it: unreserved
    characters kept, every other byte %XX (uppercase), '/' kept for paths."""
    out = []
    for byte in text.encode("utf-8"):
        if byte in UNRESERVED or (keep_slash and byte == 0x2F):
            out.append(chr(byte))
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def canonical_query(query):
    """name=value pairs, both encoded, sorted by name then value, '&'-joined."""
    pairs = sorted((uri_encode(k), uri_encode(v)) for k, v in query)
    return "&".join(f"{k}={v}" for k, v in pairs)


def _hmac(key, text):
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_key, date, region, service="s3"):
    k = _hmac(("AWS4" + secret_key).encode("utf-8"), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    return _hmac(k, "aws4_request")


def sign(method, host, path, query, headers, payload_sha256, access_key, secret_key, region,
         now, send_payload_hash=True):
    """SigV4 for S3. `path` decoded ("/bucket/key"), `query` [(name, value)]
    decoded, `headers` {name: value} to send and sign besides host and
    x-amz-*. Returns (target for the request line, headers to send)."""
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    signed = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
    signed["host"] = host
    signed["x-amz-date"] = amz_date
    if send_payload_hash:
        signed["x-amz-content-sha256"] = payload_sha256
    names = sorted(signed)
    canonical_headers = "".join(f"{n}:{signed[n]}\n" for n in names)
    signed_headers = ";".join(names)
    encoded_path = uri_encode(path, keep_slash=True)
    query_text = canonical_query(query)
    canonical_request = "\n".join([method, encoded_path, query_text, canonical_headers,
                                   signed_headers, payload_sha256])
    scope = f"{date}/{region}/s3/aws4_request"
    string_to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                                hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()])
    signature = hmac.new(signing_key(secret_key, date, region), string_to_sign.encode("utf-8"),
                         hashlib.sha256).hexdigest()
    sent = dict(signed)
    sent["authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                             f"SignedHeaders={signed_headers}, Signature={signature}")
    target = encoded_path + ("?" + query_text if query_text else "")
    return target, sent


def error_code(body):
    """The <Code> of an S3 error body, or None."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    code = root.find("Code")
    return code.text if code is not None else None


def _text(element, name):
    child = element.find(NS + name)
    if child is None:
        child = element.find(name)
    return child.text if child is not None else None


def _all(element, name):
    return element.findall(NS + name) + element.findall(name)


class Client:
    """S3 on `endpoint` ("http://127.0.0.1:7480") for one bucket."""

    def __init__(self, endpoint, access_key, secret_key, region, bucket=None, timeout=30,
                 clock=None):
        url = urllib.parse.urlsplit(endpoint)
        if url.scheme != "http" or not url.hostname:
            raise ValueError(f"endpoint {endpoint!r}: http://HOST[:PORT] expected")
        self.host = url.netloc
        self.address = (url.hostname, url.port or 80)
        self.access_key, self.secret_key, self.region = access_key, secret_key, region
        self.bucket = bucket
        self.timeout = timeout
        # now() in UTC; tests shift it to check the server's clock check.
        self.clock = clock or (lambda: datetime.datetime.now(datetime.timezone.utc))
        self.conn = None
        self.requests_on_conn = 0

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    # --- the request -------------------------------------------------------

    def request(self, method, key=None, query=(), headers=None, body=b"", payload_sha256=None,
                send_payload_hash=True, bucket=None):
        """One signed request on the kept-alive connection; (status, headers,
        body). `payload_sha256` overrides the body's real hash (to test the
        server's check); `key` None addresses the bucket itself."""
        bucket = bucket or self.bucket
        path = "/" + (bucket or "") + ("/" + key if key is not None else "")
        body = body or b""
        sha = payload_sha256 if payload_sha256 is not None else hashlib.sha256(body).hexdigest()
        target, sent = sign(method, self.host, path, list(query), headers or {}, sha,
                            self.access_key, self.secret_key, self.region, self.clock(),
                            send_payload_hash)
        if method in ("PUT", "POST") or body:
            sent["content-length"] = str(len(body))
        for attempt in range(2):
            reused = self.conn is not None and self.requests_on_conn > 0
            if self.conn is None:
                self.conn = http.client.HTTPConnection(*self.address, timeout=self.timeout)
                self.requests_on_conn = 0
            try:
                self.conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
                for name, value in sent.items():
                    self.conn.putheader(name, value)
                self.conn.endheaders(body if body else None)
                response = self.conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if reused and attempt == 0:
                    continue   # the server closed an idle kept-alive connection
                raise
            self.requests_on_conn += 1
            answer = {k.lower(): v for k, v in response.getheaders()}
            if response.will_close:
                self.close()
            return response.status, answer, data
        raise AssertionError("unreachable")

    def _expect(self, what, answer, *statuses):
        status, headers, body = answer
        if status not in statuses:
            raise S3Error(what, status, body)
        return answer

    # --- buckets -------------------------------------------------------------

    def create_bucket(self):
        return self._expect(f"create bucket {self.bucket}", self.request("PUT"), 200)

    def delete_bucket(self):
        """Deletes every object (and, where versioning was ever on, every
        version and delete marker), then the bucket."""
        while True:
            page = self.list_objects_v2(max_keys=1000)
            for key in page["keys"]:
                self._expect(f"delete {key!r}", self.delete_object(key), 204)
            if not page["is_truncated"]:
                break
        if self.get_bucket_versioning() is not None:
            for key, version in self.list_object_versions():
                self._expect(f"delete {key!r} version {version}",
                             self.delete_object(key, version_id=version), 204)
        return self._expect(f"delete bucket {self.bucket}", self.request("DELETE"), 204)

    def put_bucket_versioning(self, status):
        body = (f'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                f"<Status>{status}</Status></VersioningConfiguration>").encode()
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        return self._expect("put versioning", self.request(
            "PUT", query=[("versioning", "")], headers={"content-md5": md5}, body=body), 200)

    def get_bucket_versioning(self):
        """"Enabled", "Suspended", or None (never set)."""
        _, _, body = self._expect("get versioning",
                                  self.request("GET", query=[("versioning", "")]), 200)
        return _text(ET.fromstring(body), "Status")

    def list_object_versions(self):
        """Every (key, version id) of the bucket, delete markers included."""
        found, key_marker, version_marker = [], None, None
        while True:
            query = [("versions", "")]
            if key_marker is not None:
                query += [("key-marker", key_marker), ("version-id-marker", version_marker)]
            _, _, body = self._expect("list versions", self.request("GET", query=query), 200)
            root = ET.fromstring(body)
            for entry in _all(root, "Version") + _all(root, "DeleteMarker"):
                found.append((_text(entry, "Key"), _text(entry, "VersionId")))
            if _text(root, "IsTruncated") != "true":
                return found
            key_marker = _text(root, "NextKeyMarker")
            version_marker = _text(root, "NextVersionIdMarker")

    # --- objects -------------------------------------------------------------

    def put_object(self, key, body, headers=None, **kwargs):
        return self.request("PUT", key, headers=headers, body=body, **kwargs)

    def get_object(self, key, range=None, headers=None):
        """`range`: "bytes=0-9", or (first, last) inclusive."""
        headers = dict(headers or {})
        if isinstance(range, tuple):
            range = f"bytes={range[0]}-{range[1]}"
        if range is not None:
            headers["range"] = range
        return self.request("GET", key, headers=headers)

    def head_object(self, key):
        return self.request("HEAD", key)

    def delete_object(self, key, version_id=None):
        query = [("versionId", version_id)] if version_id is not None else []
        return self.request("DELETE", key, query=query)

    def list_objects_v2(self, prefix=None, start_after=None, continuation_token=None,
                        max_keys=None, delimiter=None):
        """One page: {keys, common_prefixes, is_truncated, next_token, key_count}."""
        query = [("list-type", "2")]
        for name, value in (("prefix", prefix), ("start-after", start_after),
                            ("continuation-token", continuation_token),
                            ("max-keys", None if max_keys is None else str(max_keys)),
                            ("delimiter", delimiter)):
            if value is not None:
                query.append((name, value))
        _, _, body = self._expect("list", self.request("GET", query=query), 200)
        root = ET.fromstring(body)
        return {
            "keys": [_text(c, "Key") for c in _all(root, "Contents")],
            "common_prefixes": [_text(p, "Prefix") for p in _all(root, "CommonPrefixes")],
            "is_truncated": _text(root, "IsTruncated") == "true",
            "next_token": _text(root, "NextContinuationToken"),
            "key_count": int(_text(root, "KeyCount") or 0),
        }

    def list_all(self, prefix=None, start_after=None, max_keys=None, delimiter=None,
                 max_pages=10000):
        """Follows NextContinuationToken to the end: (keys, common prefixes,
        pages), in the order the server gave them."""
        keys, prefixes, pages, token = [], [], [], None
        while len(pages) < max_pages:
            page = self.list_objects_v2(prefix=prefix, start_after=start_after,
                                        continuation_token=token, max_keys=max_keys,
                                        delimiter=delimiter)
            pages.append(page)
            keys += page["keys"]
            prefixes += page["common_prefixes"]
            if not page["is_truncated"]:
                return keys, prefixes, pages
            token = page["next_token"]
            if not token:
                raise S3Error("list: truncated page without NextContinuationToken", 200, b"")
        raise S3Error(f"list: more than {max_pages} pages", 200, b"")
