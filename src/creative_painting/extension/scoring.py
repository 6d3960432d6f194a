"""Rank candidates. Two formulas, every term reported, the sum exact for anyone who recomputes it.

- `paper`: `w(v) = TFIDF(v) + l1*cos(emb(u), emb(v)) + l2*#entities`, the paper's formula as published.
- `scene` (the default, beyond the paper): `TFIDF + l1*cos + l2*kinds + l3*paintability - l4*overflow`.
  `kinds` counts the kinds of entity present, a place and a date (at most 2), so a sentence with a place and
  a date beats a list of fourteen countries; a time of day or a season, free to add, earns nothing.
  `paintability` is P(the text describes something visible), see `paintability`. A candidate longer than
  CLIP's 77 tokens is shortened first (`shorten`); `overflow` is the share of its tokens still beyond 77 (0 when
  it fits).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from creative_painting.errors import UserError
from creative_painting.extension.candidate import Candidate
from creative_painting.extension.entities import Entity, EntityTagger, is_real_date
from creative_painting.extension.tfidf import TfidfModel

SCORINGS = ("scene", "paper")
FORMULAS = {"paper": "tfidf + l1*cosine + l2*entities",
            "scene": "tfidf + l1*cosine + l2*entity_kinds + l3*paintability - l4*overflow"}


# scene's l2 and l3 were chosen on the even-indexed half of PartiPrompts (benchmarks/extend_partiprompts.py
# reports the odd half apart): the most paintability that keeps at least the paper's share of top-3
# candidates with a place or time, with at most 1 % enumerations.
DEFAULT_L2 = {"paper": 0.1, "scene": 0.2}


@dataclass(frozen=True)
class Weights:
    l1: float = 1.0  # embedding cosine
    l2: float | None = None  # per entity (paper, default 0.1) or per kind of entity (scene, default 0.2)
    l3: float = 0.5  # paintability (scene)
    l4: float = 1.0  # share of tokens beyond CLIP's 77 (scene)

    def for_scoring(self, scoring: str) -> dict[str, float]:
        l2 = DEFAULT_L2[scoring] if self.l2 is None else self.l2
        return {"l1": self.l1, "l2": l2} if scoring == "paper" else {
            "l1": self.l1, "l2": l2, "l3": self.l3, "l4": self.l4}


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    entities: tuple[Entity, ...]
    terms: dict[str, float]  # the formula's terms, unweighted, each rounded to 6 decimals
    weights: dict[str, float]
    scoring: str
    score: float
    measures: dict[str, Any] = field(default_factory=dict)  # paintability and CLIP tokens, in every scoring

    @property
    def tfidf(self) -> float:
        return self.terms["tfidf"]

    @property
    def cosine(self) -> float:
        return self.terms["cosine"]

    def to_json(self) -> dict[str, Any]:
        source: dict[str, Any] = {"kind": self.candidate.kind}
        if self.candidate.title:
            source["title"] = self.candidate.title
        if self.candidate.origin:
            source["from"] = self.candidate.origin
        if self.candidate.sources:
            source["ids"] = list(self.candidate.sources)
        return {"text": self.candidate.text, "score": self.score, "scoring": self.scoring,
                "formula": FORMULAS[self.scoring], "terms": self.terms, "weights": self.weights,
                "tfidf": self.tfidf, "cosine": self.cosine,
                "entities": [{"text": e.text, "kind": e.kind} for e in self.entities], **self.measures,
                "source": source}


def entity_kinds(entities: tuple[Entity, ...] | list[Entity]) -> int:
    """A place and a date, at most 2. A time of day or a season is anyone's to add, so it earns nothing."""
    return (any(e.kind == "spatial" for e in entities)
            + any(e.kind == "temporal" and is_real_date(e.text) for e in entities))


def combine(scoring: str, terms: dict[str, float], weights: dict[str, float]) -> float:
    """The formula itself, in the order its name is written."""
    score = terms["tfidf"] + weights["l1"] * terms["cosine"]
    if scoring == "paper":
        return score + weights["l2"] * terms["entities"]
    return (score + weights["l2"] * terms["entity_kinds"] + weights["l3"] * terms["paintability"]
            - weights["l4"] * terms["overflow"])


def score_candidates(prompt: str, candidates: list[Candidate], *, tfidf: TfidfModel, embedder, tagger: EntityTagger,
                     scoring: str = "scene", weights: Weights | None = None) -> list[Scored]:
    """Score and rank, best first. Under `scene`, long candidates are shortened before they are scored."""
    from creative_painting.extension.paintability import load_paintability
    from creative_painting.extension.shorten import CLIP_TOKENS, clip_length, shorten

    if scoring not in SCORINGS:
        raise UserError(f"--scoring must be one of {', '.join(SCORINGS)}, got {scoring!r}")
    if not candidates:
        return []
    weights = weights or Weights()
    candidates = list(candidates)  # shortened ones are replaced in this copy, never in the caller's list
    entities = tagger.tag([c.text for c in candidates])
    if scoring == "scene":
        shortened = [shorten(c.text, ents) for c, ents in zip(candidates, entities, strict=True)]
        changed = [i for i, (c, s) in enumerate(zip(candidates, shortened, strict=True)) if s != c.text]
        for i, ents in zip(changed, tagger.tag([shortened[i] for i in changed]), strict=True):
            candidates[i] = candidates[i].with_text(shortened[i])
            entities[i] = ents
    texts = [c.text for c in candidates]
    lexical = tfidf.similarity(prompt, texts)
    vectors = embedder.encode([prompt, *texts])
    cosines = vectors[1:] @ vectors[0]
    paintable = load_paintability()(np.asarray(vectors[1:]))
    used = weights.for_scoring(scoring)
    scored = []
    for c, t, cos, p, ents in zip(candidates, lexical, cosines, paintable, entities, strict=True):
        tokens = clip_length(c.text)
        terms = {"tfidf": round(float(t), 6), "cosine": round(float(cos), 6)}
        if scoring == "paper":
            terms["entities"] = len(ents)
        else:
            terms["entity_kinds"] = entity_kinds(ents)
            terms["paintability"] = round(float(p), 6)
            terms["overflow"] = round(max(0, tokens - CLIP_TOKENS) / tokens, 6)
        measures = {"paintability": round(float(p), 6), "clip_tokens": tokens}
        scored.append(Scored(c, tuple(ents), terms, used, scoring, combine(scoring, terms, used), measures))
    return sorted(scored, key=lambda s: -s.score)
