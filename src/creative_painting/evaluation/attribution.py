"""Artist attribution: which artist does a painted image look like? A classifier trained on the
collection itself (colour histograms + logistic regression: palettes are what the synthetic artists
differ by), then applied to generated images."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageFilter
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

BINS = 6


def features(image: Image.Image) -> np.ndarray:
    """Joint RGB histogram (6^3 bins) plus mean and std per channel, at 32 px."""
    x = np.asarray(image.convert("RGB").resize((32, 32)), dtype=np.float32) / 255.0
    q = np.minimum((x * BINS).astype(int), BINS - 1)
    joint = np.bincount(((q[..., 0] * BINS + q[..., 1]) * BINS + q[..., 2]).ravel(), minlength=BINS**3) / (32 * 32)
    return np.concatenate([joint, x.mean(axis=(0, 1)), x.std(axis=(0, 1))])


class AttributionClassifier:
    """Trained on the collection plus a slightly blurred copy of each painting (`blur` radius in px).

    A small diffusion model paints smoother than the 1-2 px brush strokes of the collection; the
    blurred copies teach the classifier to judge the palette, not how sharp the strokes are.
    """

    def __init__(self, images: Sequence[Image.Image], artists: Sequence[str], blur: float = 0.8):
        self.model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.5))
        images, artists = list(images), list(artists)
        if blur:
            images, artists = images + [i.convert("RGB").filter(ImageFilter.GaussianBlur(blur)) for i in images], artists * 2
        self.model.fit(np.stack([features(i) for i in images]), artists)

    def predict(self, images: Sequence[Image.Image]) -> list[str]:
        return list(self.model.predict(np.stack([features(i) for i in images])))

    def accuracy(self, images: Sequence[Image.Image], artists: Sequence[str]) -> float:
        predicted = self.predict(images)
        return float(np.mean([p == a for p, a in zip(predicted, artists, strict=True)]))
