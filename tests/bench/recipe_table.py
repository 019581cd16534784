#!/usr/bin/env python3
"""Mounts a fresh store with the shipped default schema, uploads each test
photo in ../shared/testdata and prints a markdown table: recipe -> the
measured size (libvips' reading of the bytes read through the mount) and
bytes, or ENOENT.

    tests/bench/recipe_table.py [--binary build/Release/src/imageattachfs]
        [--testdata ../shared/testdata] [--recipes 300.jpg,avatar.webp,...]
"""

import argparse
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness  # noqa: E402

RECIPES = ("300.jpg", "640.webp", "1200.avif", "3840.jpg", "x200.png", "300x200.jpg",
           "1200x800.webp", "300x300-cover.jpg", "300x300-cover-attention.webp",
           "300x300-cover-entropy.webp", "avatar.webp", "avatar@2x.webp", "card.jpg", "og.jpg",
           "300@2x.jpg", "301.jpg")
PHOTOS = ("rocket.jpg", "chelsea.png", "astronaut.png", "coffee.png", "kay-1080x1920.png",
          "autumn-2560x1600.jpg", "path-2560x1600.jpg", "colorful-cups-2560x1600.jpg",
          "safe-landing-5120x2880.jpg", "wood.webp")


def main():
    root_dir = os.path.join(HERE, "..", "..")
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(root_dir, "build/Release/src/imageattachfs"))
    parser.add_argument("--testdata", default=os.path.join(root_dir, "..", "shared", "testdata"))
    parser.add_argument("--recipes", default=",".join(RECIPES))
    args = parser.parse_args()
    harness.BINARY = os.path.abspath(args.binary)
    recipes = [r for r in args.recipes.split(",") if r]
    photos = [p for p in PHOTOS if os.path.exists(os.path.join(args.testdata, p))]
    if not photos:
        sys.exit(f"no test photos in {args.testdata}")
    tmp = tempfile.mkdtemp(prefix="iafs-recipe-table-")
    mount = harness.Mount(tmp, shipped_schema=True)
    try:
        mount.start()
        cells = {}
        for index, photo in enumerate(photos):
            ext = os.path.splitext(photo)[1]
            original = mount.path(f"posts/1/photos/{index}/original{ext}")
            shutil.copyfile(os.path.join(args.testdata, photo), original)
            w, h = os.getxattr(original, "user.image.width"), os.getxattr(original, "user.image.height")
            cells[(photo, "original")] = f"{w.decode()}×{h.decode()}"
            for recipe in recipes:
                try:
                    with open(mount.path(f"posts/1/photos/{index}/thumb/{recipe}"), "rb") as f:
                        data = f.read()
                except OSError as e:
                    cells[(photo, recipe)] = e.strerror if e.errno != 2 else "ENOENT"
                    continue
                copy = os.path.join(tmp, "copy" + os.path.splitext(recipe)[1])
                with open(copy, "wb") as f:
                    f.write(data)
                tw, th = harness.vips_size(copy)
                cells[(photo, recipe)] = f"{tw}×{th} ({len(data) / 1000:.1f} kB)"
        columns = ["original"] + recipes
        print("| recipe | " + " | ".join(photos) + " |")
        print("|---" * (len(photos) + 1) + "|")
        for column in columns:
            print(f"| `{column}` | " + " | ".join(cells[(p, column)] for p in photos) + " |")
    finally:
        mount.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
