"""How much a text describes something one could see (objects, places, light, weather, actions) rather than
defines or classifies something: a logistic regression on the MiniLM sentence embeddings that scoring
already computes, so it costs one dot product per candidate.

The weights ship in `data/paintability.json` (a few kilobytes), made by `scripts/train_paintability.py`, which
also records what they were trained on and their held-out accuracy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from creative_painting.errors import UserError

MODEL_FILE = "paintability.json"


@dataclass(frozen=True)
class Paintability:
    weights: np.ndarray  # (dim,)
    bias: float
    embedder: str  # the embedder whose vectors the weights read: another one gives meaningless numbers

    def __call__(self, vectors: np.ndarray) -> np.ndarray:
        """P(paintable) per row of normalised sentence embeddings."""
        if vectors.shape[-1] != self.weights.shape[0]:
            raise UserError(f"the paintability model reads {self.weights.shape[0]}-d {self.embedder} embeddings, "
                            f"got {vectors.shape[-1]}-d ones: use --embedder minilm with --scoring scene")
        return 1.0 / (1.0 + np.exp(-(vectors @ self.weights + self.bias)))

    def to_json(self, **about) -> dict:
        return {"embedder": self.embedder, "bias": round(float(self.bias), 6),
                "weights": [round(float(w), 6) for w in self.weights], **about}


@cache
def load_paintability() -> Paintability:
    data = json.loads(resources.files("creative_painting.extension").joinpath("data", MODEL_FILE).read_text())
    return Paintability(np.asarray(data["weights"], dtype=np.float32), float(data["bias"]), data["embedder"])
