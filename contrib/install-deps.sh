#!/bin/sh
# Installs every Debian 12 package ImageAttachFS needs to build, test and run.
# Idempotent: apt-get skips what is already installed. clang and
# libclang-rt-14-dev (libFuzzer) build tests/fuzz, clang-tidy checks the sources; lomiri-wallpapers-20.04
# ships the real photographs that the demo (contrib/demo.sh) uses.
set -eu
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
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
  lomiri-wallpapers-20.04
