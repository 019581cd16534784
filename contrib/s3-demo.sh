#!/bin/bash
# Two web servers on one bucket, on this machine: starts a one-host Ceph
# cluster with RGW on 127.0.0.1 (Debian's ceph packages, data in RAM), makes
# a bucket, mounts hosts A and B on it, uploads a photo through A and reads it
# and a thumbnail through B.
#
#   contrib/s3-demo.sh          # start (installs packages and builds first)
#   contrib/s3-demo.sh stop     # unmount both hosts and stop the cluster
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
build="$top/build/Release"
demo="$top/build/s3-demo"
photo=/usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg  # from lomiri-wallpapers-20.04
rgw="$top/tests/integration/rgw.py"

stop() {
  for host in a b; do
    if mountpoint -q "$demo/$host/mnt"; then fusermount3 -u "$demo/$host/mnt"; fi
  done
  if [ -d "$demo/rgw" ]; then python3 "$rgw" stop "$demo/rgw"; fi
}
if [ "${1:-}" = stop ]; then
  stop
  exit 0
fi

"$top/contrib/install-deps.sh" >/dev/null
echo "== building (Release) in $build"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DIAFS_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null

stop  # what an earlier run left
rm -rf "$demo"
mkdir -p "$demo/a/mnt" "$demo/b/mnt"
echo "== starting Ceph RGW in $demo/rgw (about 20 s)"
python3 "$rgw" start "$demo/rgw" >"$demo/rgw.json"
# The cluster's endpoint and keys, as the AWS tools take them.
python3 - "$demo/rgw.json" >"$demo/env" <<'PY'
import json, sys
info = json.load(open(sys.argv[1]))
print(f"export AWS_ACCESS_KEY_ID={info['access_key']}")
print(f"export AWS_SECRET_ACCESS_KEY={info['secret_key']}")
print(f"export AWS_REGION={info['region']}")
print(f"export AWS_ENDPOINT_URL_S3={info['endpoint']}")
PY
# shellcheck disable=SC1091
. "$demo/env"
python3 - <<PY
import os, sys
sys.path.insert(0, "$top/tests/integration")
import s3
s3.Client(os.environ["AWS_ENDPOINT_URL_S3"], os.environ["AWS_ACCESS_KEY_ID"],
          os.environ["AWS_SECRET_ACCESS_KEY"], os.environ["AWS_REGION"], bucket="photos").create_bucket()
PY

set -x
"$build/src/imageattachfs" -o s3=photos,s3_path_style "$demo/a/store" "$demo/a/mnt"
"$build/src/imageattachfs" -o s3=photos,s3_path_style "$demo/b/store" "$demo/b/mnt"
cp "$photo" "$demo/a/mnt/posts/1/photos/0/original.jpg"
# B's lookup of the new name catches up with the log first (a listing alone
# waits for B's next poll of the log, s3_poll: 1 s).
cmp "$photo" "$demo/b/mnt/posts/1/photos/0/original.jpg"
ls -l "$demo/b/mnt/posts/1/photos/0"
cat "$demo/a/mnt/posts/1/photos/0/thumb/300.jpg" > "$demo/300-from-a.jpg"
cat "$demo/b/mnt/posts/1/photos/0/thumb/300.jpg" > "$demo/300-from-b.jpg"
cmp "$demo/300-from-a.jpg" "$demo/300-from-b.jpg"
stat -c '%n %s %Y' "$demo/a/mnt/posts/1/photos/0/thumb/300.jpg" "$demo/b/mnt/posts/1/photos/0/thumb/300.jpg"
{ set +x; } 2>/dev/null
echo
echo "Hosts A and B serve the bucket 'photos' at $demo/a/mnt and $demo/b/mnt."
echo "B fetched A's thumbnail from the bucket: same bytes, size and time (so the same ETag)."
echo "For the AWS variables of the cluster: . $demo/env"
echo "Stop with: contrib/s3-demo.sh stop"
