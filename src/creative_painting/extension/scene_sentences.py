"""Which retrieved sentences a painter could take as a scene of the topic, to order those shown after the
composed scenes.

The built-in corpus rarely holds a scene of a topic (benchmarks/data/ceiling: 69 of 1,694 retrieved sentences),
so most of a topic's top 3 are retrieved sentences, and the score that ranks them prefers encyclopedia sentences
that share the topic's words: a blind judge found 8 of 72 of them good. This is a logistic regression trained on
those 1,694 (topic, sentence) pairs, judged blind, on what scoring already computes: relevance to the whole topic,
cosine with it, paintability, whether it holds a number, and the MiniLM sentence embedding. Cross-validated with
whole topics held out, its top 3 hold 32 scenes where relevance's hold 27 (`scripts/train_scene_sentences.py`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from creative_painting.errors import UserError
from creative_painting.extension.scoring import Scored

MODEL_FILE = "scene_sentences.json"
SIGNALS = ("relevance", "cosine", "paintability", "number")  # then the embedding


def holds_number(text: str) -> float:
    """A statistic, a measure or a date (the model weighs it; its learned weight is small)."""
    return float(bool(re.search(r"\d", text)))


def scene_signals(embedder, prompt: str, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """What the model reads for each text about `prompt`: its signals, (n, len(SIGNALS)), and its embedding.
    The same for training and for `extend` (MiniLM caches its embeddings by text, so scoring's are reused)."""
    from creative_painting.extension.paintability import load_paintability
    from creative_painting.extension.scenes import topic_relevance

    vectors = embedder.encode(texts)
    signals = np.c_[topic_relevance(embedder, prompt, texts), vectors @ embedder.encode([prompt])[0],
                    load_paintability()(vectors), [holds_number(t) for t in texts]]
    return signals, vectors


@dataclass(frozen=True)
class SceneSentences:
    weights: np.ndarray  # (len(SIGNALS) + dim,)
    bias: float
    embedder: str

    def __call__(self, signals: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """The log-odds that each sentence is a scene of the topic; `signals` is (n, len(SIGNALS))."""
        features = np.concatenate([signals, vectors], axis=1)
        if features.shape[1] != self.weights.shape[0]:
            raise UserError(f"the scene-sentence model reads {self.weights.shape[0] - len(SIGNALS)}-d "
                            f"{self.embedder} embeddings, got {vectors.shape[1]}-d ones: use --embedder minilm")
        return features @ self.weights + self.bias

    def to_json(self, **about) -> dict:
        return {"embedder": self.embedder, "signals": list(SIGNALS), "bias": round(float(self.bias), 6),
                "weights": [round(float(w), 6) for w in self.weights], **about}


@cache
def load_scene_sentences() -> SceneSentences:
    data = json.loads(resources.files("creative_painting.extension").joinpath("data", MODEL_FILE).read_text())
    return SceneSentences(np.asarray(data["weights"], dtype=np.float32), float(data["bias"]), data["embedder"])


def scene_odds(embedder, prompt: str, scored: list[Scored]) -> dict[int, float]:
    """The log-odds of each candidate that is not a composed scene, by `id()` of its `Scored`."""
    others = [s for s in scored if s.candidate.kind != "scene"]
    if not others:
        return {}
    odds = load_scene_sentences()(*scene_signals(embedder, prompt, [s.candidate.text for s in others]))
    return {id(s): float(o) for s, o in zip(others, odds, strict=True)}
