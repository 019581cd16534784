"""`imageattachfs check-bucket` against the fixture's Ceph RGW (rgw_fixture.py):
the C++ S3 client (SigV4, the credential chain, libcurl) reaching a real
server, and the mount-time probe (SCALEOUT.md §12) it runs: create-if-absent
enforced on an unversioned bucket, not on a versioned one; clear lines for
bad credentials, a missing bucket, an unreachable endpoint and an option
that would carry a secret."""

import os
import subprocess
import tempfile
import unittest

import rgw_fixture
from harness import BINARY


class S3CheckBucketTest(unittest.TestCase):
    def setUp(self):
        if not BINARY:
            self.skipTest("IAFS_BINARY not set (run through ctest)")
        self.rgw = rgw_fixture.rgw_or_skip(self)
        self.s3 = self.rgw.client()
        self.addCleanup(self.s3.close)
        self.home = tempfile.mkdtemp(prefix="iafs-home-")
        self.addCleanup(subprocess.run, ["rm", "-rf", self.home])

    def bucket(self):
        self.s3.create_bucket()
        self.addCleanup(self.s3.delete_bucket)

    def check(self, *options, keys=True, env=None, spec=None):
        """Runs check-bucket on the test's bucket with the environment's keys
        (or none), HOME a fresh directory; returns the CompletedProcess."""
        environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        environment.update({"HOME": self.home, "AWS_EC2_METADATA_DISABLED": "true"})
        if keys:
            environment.update({"AWS_ACCESS_KEY_ID": self.rgw.access_key,
                                "AWS_SECRET_ACCESS_KEY": self.rgw.secret_key})
        environment.update(env or {})
        listed = [f"s3={spec or self.rgw.bucket}", f"s3_endpoint={self.rgw.endpoint}",
                  f"s3_region={self.rgw.region}", "s3_path_style", *options]
        return subprocess.run([BINARY, "check-bucket", "-o", ",".join(listed)],
                              capture_output=True, text=True, env=environment, timeout=60)

    def probes_left(self):
        keys, _, _ = self.s3.list_all()
        return keys

    def test_an_unversioned_bucket_could_be_mounted_read_write(self):
        self.bucket()
        result = self.check()
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("credentials: environment", result.stdout)
        self.assertIn("create-if-absent: enforced", result.stdout)
        self.assertIn("versioning: off", result.stdout)
        self.assertIn("read-write: yes", result.stdout)
        self.assertEqual(result.stderr, "")
        self.assertEqual(self.probes_left(), [], "the probe object is deleted")

    def test_a_prefix_keeps_the_probe_under_it_and_deletes_it(self):
        self.bucket()
        result = self.check(spec=f"{self.rgw.bucket}/site/images")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("prefix: site/images/", result.stdout)
        self.assertEqual(self.probes_left(), [])

    def test_a_versioned_bucket_would_be_mounted_read_only_with_one_line(self):
        self.bucket()
        self.s3.put_bucket_versioning("Enabled")
        result = self.check()
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("create-if-absent: NOT enforced", result.stdout)
        self.assertIn("versioning: Enabled", result.stdout)
        errors = [line for line in result.stderr.splitlines() if "warning" not in line]
        self.assertEqual(len(errors), 1, result.stderr)
        self.assertIn("If-None-Match:* not enforced", errors[0])
        self.assertIn("read-only", errors[0])
        self.assertIn("versioning is Enabled", result.stderr)

    def test_a_suspended_versioning_is_enforced_but_warned_of(self):
        self.bucket()
        self.s3.put_bucket_versioning("Suspended")
        result = self.check()
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("versioning: Suspended", result.stdout)
        self.assertIn("warning: bucket versioning is Suspended", result.stderr)

    def test_a_wrong_secret_is_one_line_naming_the_code_and_never_the_secret(self):
        self.bucket()
        wrong = "Wrong" + self.rgw.secret_key[5:]
        result = self.check(env={"AWS_SECRET_ACCESS_KEY": wrong})
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("403 SignatureDoesNotMatch", result.stderr)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        self.assertNotIn(wrong, result.stdout + result.stderr)
        self.assertNotIn(self.rgw.secret_key, result.stdout + result.stderr)

    def test_a_missing_bucket_is_named(self):
        result = self.check()  # never created
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("NoSuchBucket", result.stderr)

    def test_credentials_from_a_shared_file_profile(self):
        self.bucket()
        aws = os.path.join(self.home, ".aws")
        os.makedirs(aws)
        path = os.path.join(aws, "credentials")
        with open(path, "w") as f:
            f.write(f"[default]\naws_access_key_id = nobody\naws_secret_access_key = nothing\n\n"
                    f"[ci]\naws_access_key_id = {self.rgw.access_key}\n"
                    f"aws_secret_access_key = {self.rgw.secret_key}\n")
        os.chmod(path, 0o600)
        result = self.check("s3_profile=ci", keys=False)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("[ci]", result.stdout)
        by_env = self.check(keys=False, env={"AWS_PROFILE": "ci"})
        self.assertEqual(by_env.returncode, 0, by_env.stdout + by_env.stderr)
        default = self.check(keys=False)  # [default]'s keys: refused by RGW
        self.assertEqual(default.returncode, 1)
        self.assertIn("403", default.stderr)

    def test_no_credentials_anywhere_is_one_line(self):
        result = self.check(keys=False)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        self.assertIn("AWS_ACCESS_KEY_ID", result.stderr)

    def test_an_unreachable_endpoint_fails_after_its_retries(self):
        result = subprocess.run(
            [BINARY, "check-bucket", "-o",
             f"s3={self.rgw.bucket},s3_endpoint=http://127.0.0.1:1,s3_region=us-east-1,"
             "s3_path_style"],
            capture_output=True, text=True, timeout=60,
            env={**os.environ, "HOME": self.home, "AWS_ACCESS_KEY_ID": "a",
                 "AWS_SECRET_ACCESS_KEY": "b"})
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("127.0.0.1", result.stderr)

    def test_options_that_would_carry_a_secret_are_refused(self):
        for option in ("s3_secret_access_key=x", "aws_access_key_id=AKIA", "s3_token=t",
                       "s3_password=p"):
            result = self.check(option)
            self.assertEqual(result.returncode, 2, option)
            self.assertIn("no option takes a secret", result.stderr, option)
            self.assertNotIn("=x", result.stderr)

    def test_bad_arguments_get_usage_or_one_line(self):
        for args in ([], ["-o"], ["extra"], ["-o", "s3_region=us-east-1"]):
            result = subprocess.run([BINARY, "check-bucket", *args], capture_output=True,
                                    text=True, timeout=30)
            self.assertEqual(result.returncode, 2, args)
            self.assertIn("usage: imageattachfs check-bucket", result.stderr, args)
        for spec in ("Bad_Bucket", "ab", "bucket/a/../b"):
            result = self.check(spec=spec)
            self.assertEqual(result.returncode, 2, spec)
            self.assertIn("bad s3=", result.stderr)
        result = self.check("s3_endpoint=ftp://x")
        self.assertEqual(result.returncode, 2)
        self.assertIn("bad URL", result.stderr)
