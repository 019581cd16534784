#!/usr/bin/python3
"""Files per second of `imageattachfs import` (the bulk loader of issue 11's
million-set store): N distinct small JPEGs (one generated image, each copy
with a comment segment of its own) in a tree, imported into a fresh store,
then imported again (everything skipped).

  tests/bench/import_rate.py --binary build/Release/src/imageattachfs \
      --make-image build/Release/tests/make_test_image --files 10000
"""

import argparse
import os
import re
import shutil
import struct
import subprocess
import tempfile
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--make-image", required=True)
    parser.add_argument("--files", type=int, default=10000)
    parser.add_argument("--size", default="320x240")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="iafs-import-rate-")
    try:
        width, height = args.size.split("x")
        base_path = os.path.join(tmp, "base.jpg")
        subprocess.run([args.make_image, base_path, width, height], check=True)
        with open(base_path, "rb") as f:
            base = f.read()
        tree = os.path.join(tmp, "tree")
        for i in range(args.files):
            d = os.path.join(tree, "posts", str(i), "photos", "0")
            os.makedirs(d)
            text = b"variant %d" % i
            with open(os.path.join(d, "original.jpg"), "wb") as f:
                f.write(base[:2] + b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text + base[2:])
        store = os.path.join(tmp, "store")
        command = [args.binary, "import", tree, store]
        if args.threads:
            command += ["--threads", str(args.threads)]
        for label in ("import", "rerun (all skipped)"):
            start = time.monotonic()
            result = subprocess.run(command, capture_output=True, text=True, check=True)
            seconds = time.monotonic() - start
            summary = [l for l in result.stdout.splitlines() if " imported (" in l][-1]
            transactions = re.search(r"(\d+) transactions", summary).group(1)
            print(f"{label}: {args.files} files of {len(base)} bytes ({args.size}) in "
                  f"{seconds:.1f} s: {args.files / seconds:.0f} files/s, "
                  f"{transactions} transactions")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
