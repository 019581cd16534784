#!/bin/bash
# Installs the packages, builds ImageAttachFS (Release), mounts a demo store
# and shows a thumbnail being made from a real photograph on first read.
# The store stays mounted for you to explore; the last lines say how to stop.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
build="$top/build/Release"
demo="$top/build/demo"
photo=/usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg  # from lomiri-wallpapers-20.04

"$top/contrib/install-deps.sh" >/dev/null
echo "== building (Release) in $build"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DIAFS_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null

mkdir -p "$demo/mnt"
if mountpoint -q "$demo/mnt"; then fusermount3 -u "$demo/mnt"; fi
rm -rf "$demo/store"  # a fresh store each run, so the first read really makes the thumbnail
echo "== mounting the store $demo/store at $demo/mnt"
"$build/src/imageattachfs" "$demo/store" "$demo/mnt"

set -x
cp "$photo" "$demo/mnt/posts/1/photos/0/original.jpg"
ls -l "$demo/mnt/posts/1/photos/0"
vipsheader "$demo/mnt/posts/1/photos/0/original.jpg"
ls "$demo/mnt/posts/1/photos/0/thumb"
time cat "$demo/mnt/posts/1/photos/0/thumb/300.jpg" > "$demo/300.jpg"
time cat "$demo/mnt/posts/1/photos/0/thumb/300.jpg" > /dev/null
vipsheader "$demo/300.jpg"
ls -l "$demo/mnt/posts/1/photos/0/thumb"
getfattr -d "$demo/mnt/posts/1/photos/0/thumb/300.jpg"
{ set +x; } 2>/dev/null
echo
echo "The demo store is mounted at $demo/mnt (thumbnail copied to $demo/300.jpg)."
echo "Try: ls $demo/mnt/posts/1/photos/0/thumb; cat $demo/mnt/posts/1/photos/0/thumb/x200.webp > t.webp"
echo "Unmount with: fusermount3 -u $demo/mnt"
