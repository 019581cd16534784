"""The bench's images, made once into a cache directory: from the 14.7 MP
photo of ../shared/testdata when it is there (a full run), else from a
generated texture of the same size (so a fresh clone runs the bench too).
A smoke run uses small generated images only."""

import math
import os
import tempfile

from benchlib import TESTDATA, run

PHOTO = "safe-landing-5120x2880.jpg"


def texture(path, width, height):
    """A photo-like JPEG: coarse colour blobs (noise upscaled 16×, so that
    thumbnails have structure) plus fine grain (so that it compresses like a
    photo, about 4 MB at 5120×2880)."""
    with tempfile.TemporaryDirectory(dir=os.path.dirname(path)) as tmp:
        def t(name):
            return os.path.join(tmp, name + ".v")
        bands = []
        for band in "rgb":
            run("vips", "gaussnoise", t(band), max(1, width // 16), max(1, height // 16),
                "--sigma", "60", "--mean", "128")
            bands.append(t(band))
        run("vips", "bandjoin", " ".join(bands), t("coarse"))
        run("vips", "resize", t("coarse"), t("up"), "16", "--kernel", "cubic")
        run("vips", "crop", t("up"), t("upc"), 0, 0, width // 16 * 16, height // 16 * 16)
        run("vips", "gaussnoise", t("grain"), width // 16 * 16, height // 16 * 16,
            "--sigma", "7", "--mean", "0")
        run("vips", "add", t("upc"), t("grain"), t("sum"))
        run("vips", "cast", t("sum"), t("uchar"), "uchar")
        run("vips", "copy", t("uchar"), t("srgb"), "--interpretation", "srgb")
        run("vips", "jpegsave", t("srgb"), path, "--Q", "85")
    return path


def scaled(source, target, pixels, options=""):
    """`source` resized to about `pixels` pixels (never fewer), saved as
    `target` (format from its suffix, libvips save options in brackets)."""
    width = int(run("vipsheader", "-f", "width", source).stdout)
    height = int(run("vipsheader", "-f", "height", source).stdout)
    scale = math.sqrt(pixels / (width * height)) * 1.002
    run("vips", "resize", source, f"{target}{options}", f"{scale:.6f}")
    return target


class Images:
    """Paths of the bench's images (made on first use)."""

    def __init__(self, cache, smoke):
        self.cache = cache
        self.smoke = smoke
        os.makedirs(cache, exist_ok=True)
        self.made = []

    def _cached(self, name, make):
        path = os.path.join(self.cache, name)
        if not os.path.exists(path):
            partial = path + ".part" + os.path.splitext(name)[1]
            make(partial)
            os.rename(partial, path)
            self.made.append(name)
        return path

    @property
    def source_name(self):
        if not self.smoke and os.path.exists(os.path.join(TESTDATA, PHOTO)):
            return PHOTO
        return "generated texture " + ("1280x720" if self.smoke else "5120x2880")

    def photo(self):
        """The large original: the 14.7 MP, 4.2 MB photo (or its stand-in)."""
        if self.source_name == PHOTO:
            return os.path.join(TESTDATA, PHOTO)
        if self.smoke:
            return self._cached("texture-1280x720.jpg", lambda p: texture(p, 1280, 720))
        return self._cached("texture-5120x2880.jpg", lambda p: texture(p, 5120, 2880))

    def medium(self, progressive):
        """A ~2,000 px wide JPEG (Q 90), baseline or progressive."""
        pixels = 0.4e6 if self.smoke else 2000 * 1125
        name = ("smoke-" if self.smoke else "") + (
            "medium-progressive.jpg" if progressive else "medium-baseline.jpg")
        options = "[Q=90,interlace=true]" if progressive else "[Q=90]"
        return self._cached(name, lambda p: scaled(self.photo(), p, pixels, options))

    def small(self):
        """A 1,000 px wide JPEG for many thumbnail generations."""
        pixels = 0.1e6 if self.smoke else 1000 * 563
        name = ("smoke-" if self.smoke else "") + "small.jpg"
        return self._cached(name, lambda p: scaled(self.photo(), p, pixels, "[Q=85]"))

    def huge_jpeg(self):
        """A 100 MP JPEG (smoke: 2 MP)."""
        pixels = 2e6 if self.smoke else 100e6
        name = ("smoke-" if self.smoke else "") + "huge.jpg"
        return self._cached(name, lambda p: scaled(self.photo(), p, pixels, "[Q=85]"))

    def huge_png(self):
        """A 50 MP PNG (smoke: 1 MP)."""
        pixels = 1e6 if self.smoke else 50e6
        name = ("smoke-" if self.smoke else "") + "huge.png"
        return self._cached(name, lambda p: scaled(self.photo(), p, pixels, "[compression=1]"))
