"""Per-text results computed once: relevance, composition and scoring of one prompt read the same retrieved
sentences, so their embeddings and entities are worth keeping (encoding is most of an extension's time)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


class TextMemo:
    """`memo(texts, compute)`: one result per text, in order; `compute` sees only the texts not seen before."""

    def __init__(self, limit: int = 20_000):  # 20,000 MiniLM vectors are about 30 MB
        self.limit = limit
        self._done: dict[str, Any] = {}

    def __call__(self, texts: Sequence[str], compute: Callable[[list[str]], Sequence[Any]]) -> list[Any]:
        if len(self._done) > self.limit:
            self._done.clear()  # before looking up: every text asked for is then either kept or computed
        new = [t for t in dict.fromkeys(texts) if t not in self._done]
        if new:
            self._done.update(zip(new, compute(new), strict=True))
        return [self._done[t] for t in texts]
