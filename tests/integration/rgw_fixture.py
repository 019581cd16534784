"""ctest's fixture `rgw`: one Ceph cluster with RGW for every S3 test of a
ctest run (tests rgw_start and rgw_stop, tests/CMakeLists.txt).

    rgw_fixture.py start STATE_DIR   # cluster in STATE_DIR/cluster, state in STATE_DIR/state.json
    rgw_fixture.py stop STATE_DIR

start first stops a cluster a killed earlier run left in STATE_DIR (by its pid
files, verified). Where the ceph binaries are absent, start records
{"status": "absent"} and passes, and the S3 tests skip; with CI=true that, and
a failed start, fail. The state file holds the endpoint and the test user's
keys (mode 0600); rgw_or_skip, for the tests, reads it.
"""

import json
import os
import secrets
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rgw  # noqa: E402
import s3  # noqa: E402


class Target:
    """The fixture's RGW for one test: endpoint, keys, region and a bucket name
    no other test (of this or a parallel process) uses."""

    def __init__(self, state, bucket):
        self.endpoint = state["endpoint"]
        self.access_key = state["access_key"]
        self.secret_key = state["secret_key"]
        self.region = state["region"]
        self.bucket = bucket

    def client(self, bucket=None, **kwargs):
        return s3.Client(self.endpoint, self.access_key, self.secret_key, self.region,
                         bucket=bucket or self.bucket, **kwargs)


def in_ci():
    return os.environ.get("CI", "").lower() == "true"


def bucket_name(testcase):
    """iafs-<test name>-<random>: lowercase, digits and hyphens, at most 63."""
    name = testcase.id().rsplit(".", 1)[-1].removeprefix("test_").lower()
    name = "".join(c if c.isalnum() else "-" for c in name)[:36].strip("-")
    return f"iafs-{name}-{secrets.token_hex(6)}"


def rgw_or_skip(testcase):
    """The fixture's RGW (IAFS_RGW_STATE names rgw_fixture.py's state file) with
    a fresh bucket name; skips the test where ceph is not installed, and fails
    it instead when CI=true (CI always has ceph)."""
    path = os.environ.get("IAFS_RGW_STATE", "")
    state = None
    if path:
        try:
            with open(path) as f:
                state = json.load(f)
        except (OSError, ValueError) as e:
            state = {"status": "failed", "reason": f"state file {path}: {e}"}
    else:
        state = {"status": "absent", "reason": "IAFS_RGW_STATE not set (run through ctest)"}
    if state.get("status") == "running":
        return Target(state, bucket_name(testcase))
    reason = state.get("reason", f"RGW fixture state {state.get('status')!r}")
    if state.get("status") == "absent" and not in_ci():
        raise unittest.SkipTest(reason)
    testcase.fail(f"no RGW: {reason}" + (" (CI=true: ceph is required)" if in_ci() else ""))


def write_state(state_dir, state):
    path = os.path.join(state_dir, "state.json")
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(state, f, indent=1)
    os.replace(tmp, path)


def start(state_dir):
    os.makedirs(state_dir, exist_ok=True)
    try:
        os.unlink(os.path.join(state_dir, "state.json"))
    except FileNotFoundError:
        pass
    cluster = rgw.Cluster(os.path.join(state_dir, "cluster"))
    left = cluster.stop()
    if left:
        print(f"rgw: stopped pids {left} left by an earlier run")
    missing = rgw.missing_binaries()
    if missing:
        reason = "ceph not installed (missing " + ", ".join(missing) + "): see contrib/install-deps.sh"
        write_state(state_dir, {"status": "failed" if in_ci() else "absent", "reason": reason})
        if in_ci():
            print(f"rgw: {reason}; CI=true requires it", file=sys.stderr)
            return 1
        print(f"rgw: {reason}; the S3 tests will skip")
        return 0
    try:
        info = cluster.start()
    except rgw.RgwError as e:
        write_state(state_dir, {"status": "failed", "reason": str(e)})
        print(f"rgw: {e}", file=sys.stderr)
        return 1
    info["status"] = "running"
    info["dir"] = cluster.dir
    write_state(state_dir, info)
    print(f"rgw: {info['endpoint']} up in {info['start_seconds']} s "
          f"(daemons' RSS KiB {cluster.daemon_rss_kib()})")
    return 0


def stop(state_dir):
    cluster = rgw.Cluster(os.path.join(state_dir, "cluster"))
    rss = cluster.daemon_rss_kib()
    try:
        pids = cluster.stop()
    except rgw.RgwError as e:
        print(f"rgw: {e}", file=sys.stderr)
        return 1
    path = os.path.join(state_dir, "state.json")
    if os.path.exists(path):
        with open(path) as f:
            state = json.load(f)
        if state.get("status") == "running":
            write_state(state_dir, {"status": "stopped", "reason": "rgw_stop ran"})
    print(f"rgw: stopped pids {pids} (RSS KiB before: {rss})")
    return 0


def main(argv):
    if len(argv) != 3 or argv[1] not in ("start", "stop"):
        print("usage: rgw_fixture.py start|stop STATE_DIR", file=sys.stderr)
        return 2
    return (start if argv[1] == "start" else stop)(os.path.abspath(argv[2]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
