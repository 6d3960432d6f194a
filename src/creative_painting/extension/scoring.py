"""`w(v) = TFIDF(v) + l1 * cos(emb(u), emb(v)) + l2 * (spatial + temporal entities)`, every part reported."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from creative_painting.extension.entities import Entity, EntityTagger
from creative_painting.extension.generators import Candidate
from creative_painting.extension.tfidf import TfidfModel


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    tfidf: float
    cosine: float
    entities: tuple[Entity, ...]
    score: float

    def to_json(self) -> dict[str, Any]:
        source: dict[str, Any] = {"kind": self.candidate.kind}
        if self.candidate.title:
            source["title"] = self.candidate.title
        return {"text": self.candidate.text, "score": self.score, "tfidf": self.tfidf, "cosine": self.cosine,
                "entities": [{"text": e.text, "kind": e.kind} for e in self.entities], "source": source}


def score_candidates(prompt: str, candidates: list[Candidate], *, tfidf: TfidfModel, embedder, tagger: EntityTagger,
                     l1: float = 1.0, l2: float = 0.1) -> list[Scored]:
    """Score and rank (best first). Components are rounded to 6 decimals before they are summed, so the
    reported score equals `tfidf + l1 * cosine + l2 * len(entities)` for anyone who recomputes it."""
    if not candidates:
        return []
    texts = [c.text for c in candidates]
    lexical = tfidf.similarity(prompt, texts)
    vectors = embedder.encode([prompt, *texts])
    cosines = vectors[1:] @ vectors[0]
    entities = tagger.tag(texts)
    scored = []
    for c, t, cos, ents in zip(candidates, lexical, cosines, entities, strict=True):
        t, cos = round(float(t), 6), round(float(cos), 6)
        scored.append(Scored(c, t, cos, tuple(ents), t + l1 * cos + l2 * len(ents)))
    return sorted(scored, key=lambda s: -s.score)
