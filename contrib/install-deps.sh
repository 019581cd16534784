#!/bin/sh
# Installs every Debian 12 package ImageAttachFS needs to build, test and run.
# Idempotent: apt-get skips what is already installed. clang and
# libclang-rt-14-dev (libFuzzer) build tests/fuzz, clang-tidy checks the sources; lomiri-wallpapers-20.04
# ships the real photographs that the demo (contrib/demo.sh) uses; nginx and
# wrk run the benchmarks (tests/bench/run.sh), which start nginx themselves,
# with their own configuration, as a child: the install must not start the
# system's nginx service (it would take port 80), so a policy-rc.d that
# refuses every start is put in place for the install where none is.
# libsystemd-dev gives the daemon sd_notify (Type=notify); man-db, groff-base
# and systemd (systemd-analyze) check the man pages and the unit in the tests.
# libcurl4-openssl-dev: the S3 client's HTTP (libssl-dev: SigV4 and hashes);
# libzstd-dev: the compressed parts of the log's snapshots on a bucket.
# ceph-mon, ceph-osd, radosgw and ceph-common give the S3 tests a one-host Ceph
# cluster with RGW (tests/integration/rgw.py starts it in a scratch directory,
# on free loopback ports); the same policy-rc.d keeps their postinst from
# starting any ceph service, and where no system cluster is configured
# (/etc/ceph/ceph.conf) their units are disabled, so none starts at boot either
# (ceph-crash would restart every 10 s, failing without a cluster).
set -eu
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
POLICY=/usr/sbin/policy-rc.d
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\n# installed by imageattachfs contrib/install-deps.sh for one install\nexit 101\n' \
    | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod 755 "$POLICY"
  trap '$SUDO rm -f "$POLICY"' EXIT INT TERM
fi
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
  build-essential cmake pkg-config \
  clang libclang-rt-14-dev clang-tidy \
  libfuse3-dev fuse3 libsystemd-dev \
  liblmdb-dev lmdb-utils \
  libvips-dev libvips-tools \
  libxxhash-dev libssl-dev libcurl4-openssl-dev libzstd-dev \
  libcriterion-dev \
  attr rsync python3 ca-certificates man-db groff-base util-linux systemd \
  nginx wrk \
  ceph-mon ceph-osd radosgw ceph-common \
  lomiri-wallpapers-20.04
if [ ! -e /etc/ceph/ceph.conf ] && command -v systemctl >/dev/null; then
  $SUDO systemctl disable --quiet ceph.target ceph-crash.service ceph-mon.target \
    ceph-osd.target ceph-radosgw.target 2>/dev/null || true
fi
