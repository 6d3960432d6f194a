"""Two judges for painted images, trained on the synthetic collection itself and fixed before any painting.

- `ArtistJudge` looks at palette (joint colour histogram) *and* brushwork (orientation and strength of
  the strokes). It has a `none` class of untextured images (flat colours, smooth two-tone gradients),
  so a flat square in an artist's palette colour is not that artist.
- `SubjectJudge` looks at shape and is blind to palette: blurred greyscale and edge maps, standardised
  per image, learned across every artist's colours.

Both add copies of each painting blurred by 0.8 px: a small diffusion model paints smoother than the
1-2 px strokes of the collection, and the judges should not hold that against it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageFilter
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

NONE = "none"  # the artist judge's answer for images with no brushwork at all
BINS = 6
SIDE = 32


def _rgb(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB").resize((SIDE, SIDE), Image.Resampling.BILINEAR), dtype=np.float32) / 255


def _gradients(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    gy, gx = np.gradient(grey)
    return np.hypot(gx, gy), np.arctan2(gy, gx) % np.pi  # strokes have an axis, not a direction


def artist_features(image: Image.Image) -> np.ndarray:
    """Palette: joint RGB histogram (6^3) + channel means and stds. Brushwork: a magnitude-weighted
    histogram of gradient orientations (8 bins), mean gradient and high-frequency energy."""
    x = _rgb(image)
    q = np.minimum((x * BINS).astype(int), BINS - 1)
    joint = np.bincount(((q[..., 0] * BINS + q[..., 1]) * BINS + q[..., 2]).ravel(), minlength=BINS**3) / SIDE**2
    grey = x.mean(axis=2)
    magnitude, angle = _gradients(grey)
    orientation = np.bincount(np.minimum((angle / np.pi * 8).astype(int), 7).ravel(), weights=magnitude.ravel(),
                              minlength=8)
    orientation = orientation / max(orientation.sum(), 1e-6)
    blurred = np.asarray(Image.fromarray((grey * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.0)),
                         dtype=np.float32) / 255
    texture = [magnitude.mean(), np.abs(grey - blurred).mean(), (magnitude > 0.05).mean()]
    return np.concatenate([joint, x.mean(axis=(0, 1)), x.std(axis=(0, 1)), orientation, texture])


def subject_features(image: Image.Image) -> np.ndarray:
    """Shape only: blurred greyscale and its edge magnitude at 12 x 12, each standardised per image."""
    grey = image.convert("L").resize((SIDE, SIDE), Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(1.5))
    small = np.asarray(grey.resize((12, 12), Image.Resampling.BILINEAR), dtype=np.float32)
    edges, _ = _gradients(small)

    def standard(a: np.ndarray) -> np.ndarray:
        return ((a - a.mean()) / (a.std() + 1e-3)).ravel()

    return np.concatenate([standard(small), np.abs(standard(small)), standard(edges)])


def untextured_examples(count: int, colours: Sequence[tuple[int, int, int]], seed: int = 0) -> list[Image.Image]:
    """Paintings by nobody: a flat square of every given colour, then flat squares and smooth two-tone
    gradients in random and given colours, `count` images in all."""
    rng = random.Random(seed)
    out = [Image.new("RGB", (SIDE, SIDE), tuple(c)) for c in colours]
    while len(out) < count:
        def pick():
            return rng.choice(colours) if colours and rng.random() < 0.5 else tuple(rng.randrange(256) for _ in range(3))

        a = np.array(pick(), np.float32)
        b = a if rng.random() < 0.3 else np.array(pick(), np.float32)
        ramp = np.linspace(0, 1, SIDE, dtype=np.float32)
        t = ramp[:, None, None] if rng.random() < 0.5 else ramp[None, :, None]
        pixels = np.broadcast_to(a + (b - a) * t, (SIDE, SIDE, 3))
        out.append(Image.fromarray(pixels.clip(0, 255).astype(np.uint8)))
    return out


class _Judge:
    """A logistic regression on the subclass's `features` of each image (and of its blurred copy)."""

    def __init__(self, images: Sequence[Image.Image], labels: Sequence[str], blur: float = 0.8):
        images, labels = list(images), list(labels)
        if blur:
            images = images + [i.convert("RGB").filter(ImageFilter.GaussianBlur(blur)) for i in images]
            labels = labels * 2
        self.model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, C=0.5))
        self.model.fit(np.stack([self.features(i) for i in images]), labels)

    def predict(self, images: Sequence[Image.Image]) -> list[str]:
        return [str(p) for p in self.model.predict(np.stack([self.features(i) for i in images]))]

    def accuracy(self, images: Sequence[Image.Image], labels: Sequence[str]) -> float:
        return float(np.mean([p == t for p, t in zip(self.predict(images), labels, strict=True)]))


class ArtistJudge(_Judge):
    """Whose palette and brushwork? `none` for images without brushwork."""

    features = staticmethod(artist_features)

    def __init__(self, images: Sequence[Image.Image], artists: Sequence[str],
                 palettes: Sequence[Sequence[tuple[int, int, int]]] = (), blur: float = 0.8, seed: int = 0):
        colours = [c for palette in palettes for c in palette]
        nobody = untextured_examples(max(len(colours) + 12, len(images) // 2), colours, seed)
        super().__init__(list(images) + nobody, list(artists) + [NONE] * len(nobody), blur)


class SubjectJudge(_Judge):
    """Which subject, whatever the palette?"""

    features = staticmethod(subject_features)
