#!/bin/sh
# Installs every Debian 12 package ImageAttachFS needs to build, test and run.
# Idempotent: apt-get skips what is already installed. clang and
# libclang-rt-14-dev (libFuzzer) build tests/fuzz, clang-tidy checks the sources; lomiri-wallpapers-20.04
# ships the real photographs that the demo (contrib/demo.sh) uses; nginx and
# wrk run the benchmarks (tests/bench/run.sh), which start nginx themselves,
# with their own configuration, as a child: the install must not start the
# system's nginx service (it would take port 80), so a policy-rc.d that
# refuses every start is put in place for the install where none is.
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
  libfuse3-dev fuse3 \
  liblmdb-dev lmdb-utils \
  libvips-dev libvips-tools \
  libxxhash-dev libssl-dev \
  libcriterion-dev \
  attr rsync python3 ca-certificates \
  nginx wrk \
  lomiri-wallpapers-20.04
