"""Find the images a training run must not choke on: unreadable, truncated, tiny, grayscale, CMYK.

Unreadable, truncated and tiny files are broken and always skipped. Grayscale and CMYK images are
real paintings (drawings, print scans): they are reported and converted to RGB unless asked to skip.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image

PROBLEMS = ("unreadable", "truncated", "tiny", "grayscale", "cmyk", "bad-name")  # bad-name: not UTF-8, repaired
BROKEN = frozenset({"unreadable", "truncated", "tiny"})
GRAY_TOLERANCE = 3  # max channel spread (of 255) for an RGB file that is grayscale in fact


@dataclass(frozen=True)
class Checked:
    """The decoded RGB image (None when broken) and what is wrong with the file, if anything."""

    image: Image.Image | None
    problem: str | None = None
    detail: str = ""


def _looks_gray(image: Image.Image) -> bool:
    thumb = np.asarray(image.resize((32, 32)), dtype=np.int16)
    return int((thumb.max(axis=2) - thumb.min(axis=2)).max()) <= GRAY_TOLERANCE


def check_image(data: bytes, min_size: int = 64, classify: bool = True) -> Checked:
    """Decode fully (a truncated JPEG only fails on load) and classify.

    `classify=False` only tells broken from usable (what training needs, on every step).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            mode, size = image.mode, image.size
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return Checked(None, "unreadable", "larger than Pillow's decompression-bomb limit")
    except Image.UnidentifiedImageError:
        return Checked(None, "unreadable", "not an image file")
    except (OSError, SyntaxError, ValueError) as e:
        kind = "truncated" if "truncated" in str(e) or "broken data stream" in str(e) else "unreadable"
        return Checked(None, kind, str(e))
    if min(size) < min_size:
        return Checked(None, "tiny", f"{size[0]}x{size[1]} < {min_size}")
    rgb = image if mode == "RGB" else image.convert("RGB")
    if not classify:
        return Checked(rgb)
    if mode == "CMYK":
        return Checked(rgb, "cmyk", "CMYK converted to RGB")
    if mode in ("1", "L", "LA", "I", "I;16", "F") or _looks_gray(rgb):
        return Checked(rgb, "grayscale", f"mode {mode}")
    return Checked(rgb)
