"""The tests' S3 client (s3.py) signs as AWS documents: the published SigV4
examples of the S3 API reference (sig-v4-header-based-auth.html), and the
percent-encoding rules RGW is checked with. No server needed."""

import datetime
import hashlib
import unittest

import s3

ACCESS = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
HOST = "examplebucket.s3.amazonaws.com"
WHEN = datetime.datetime(2013, 5, 24, tzinfo=datetime.timezone.utc)


def signature(method, path, query=(), headers=None, payload=s3.EMPTY_SHA256):
    _, sent = s3.sign(method, HOST, path, list(query), headers or {}, payload, ACCESS, SECRET,
                      "us-east-1", WHEN)
    return sent["authorization"].rsplit("Signature=", 1)[1], sent


class SigV4OracleTest(unittest.TestCase):
    def test_aws_example_get_object_with_range(self):
        sig, sent = signature("GET", "/test.txt", headers={"Range": "bytes=0-9"})
        self.assertEqual(sig, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        self.assertIn("SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,",
                      sent["authorization"])
        self.assertEqual(sent["x-amz-date"], "20130524T000000Z")

    def test_aws_example_put_object_encodes_dollar(self):
        body = b"Welcome to Amazon S3."
        sha = hashlib.sha256(body).hexdigest()
        self.assertEqual(sha, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        sig, _ = signature("PUT", "/test$file.text", payload=sha,
                           headers={"Date": "Fri, 24 May 2013 00:00:00 GMT",
                                    "x-amz-storage-class": "REDUCED_REDUNDANCY"})
        self.assertEqual(sig, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")

    def test_aws_example_lifecycle_empty_query_value(self):
        sig, _ = signature("GET", "/", query=[("lifecycle", "")])
        self.assertEqual(sig, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")

    def test_aws_example_list_sorts_query(self):
        # Given unsorted (prefix before max-keys): the canonical query sorts it.
        sig, _ = signature("GET", "/", query=[("prefix", "J"), ("max-keys", "2")])
        self.assertEqual(sig, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")

    def test_uri_encode_rules(self):
        self.assertEqual(s3.uri_encode("a b+c~d_e-f.g"), "a%20b%2Bc~d_e-f.g")
        self.assertEqual(s3.uri_encode("a/b"), "a%2Fb")
        self.assertEqual(s3.uri_encode("a/b", keep_slash=True), "a/b")
        self.assertEqual(s3.uri_encode("=&?#%*"), "%3D%26%3F%23%25%2A")
        self.assertEqual(s3.uri_encode("é日"), "%C3%A9%E6%97%A5")

    def test_canonical_query_encodes_then_sorts(self):
        query = [("start-after", "b b"), ("continuation-token", "x+y/é"), ("list-type", "2"),
                 ("versions", "")]
        self.assertEqual(s3.canonical_query(query),
                         "continuation-token=x%2By%2F%C3%A9&list-type=2&start-after=b%20b&versions=")

    def test_target_matches_what_was_signed(self):
        target, _ = s3.sign("GET", HOST, "/bucket/dir a/ü+1", [("z", "1"), ("a", "~ ")], {},
                            s3.EMPTY_SHA256, ACCESS, SECRET, "us-east-1", WHEN)
        self.assertEqual(target, "/bucket/dir%20a/%C3%BC%2B1?a=~%20&z=1")


if __name__ == "__main__":
    unittest.main()
