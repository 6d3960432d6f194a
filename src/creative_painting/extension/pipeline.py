"""Prompt extension: retrieve and generate candidates, score them, keep the best."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from creative_painting.errors import UserError
from creative_painting.extension.entities import EntityTagger
from creative_painting.extension.generators import Candidate, skip_note
from creative_painting.extension.index import WikiIndex
from creative_painting.extension.scoring import Scored, score_candidates
from creative_painting.extension.tfidf import TfidfModel

MAX_CANDIDATES = 1000  # each is embedded and tagged: 1000 take about a minute on 2 cores


@dataclass
class ExtendSettings:
    top: int = 10
    l1: float = 1.0
    l2: float = 0.1
    retrieve: int = 30  # BM25 passages for the prompt
    per_output: int = 3  # BM25 passages for each generated text (the paper matches generators' outputs too)

    def validate(self) -> ExtendSettings:
        if not (1 <= self.top <= MAX_CANDIDATES and 1 <= self.retrieve <= MAX_CANDIDATES):
            raise UserError(f"--top and --retrieve must be in 1..{MAX_CANDIDATES}, got {self.top} and {self.retrieve}")
        if not 0 <= self.per_output <= MAX_CANDIDATES:
            raise UserError(f"passages per generated text must be in 0..{MAX_CANDIDATES}")
        for name in ("l1", "l2"):
            if not math.isfinite(getattr(self, name)):
                raise UserError(f"--{name} must be a finite number, got {getattr(self, name)}")
        return self


@dataclass
class Extender:
    index: WikiIndex
    tfidf: TfidfModel
    embedder: object
    tagger: EntityTagger
    generators: list = field(default_factory=list)
    settings: ExtendSettings = field(default_factory=ExtendSettings)

    def candidates(self, prompt: str) -> list[Candidate]:
        found = [Candidate(p.text, "wikipedia", p.title) for p in self.index.search(prompt, self.settings.retrieve)]
        for generator in list(self.generators):
            try:
                outputs = generator.generate(prompt)
            except UserError as e:  # a model that fails to load is skipped, never a crash
                skip_note(generator.kind, str(e))
                self.generators.remove(generator)
                continue
            found += outputs
            for output in outputs:
                found += [Candidate(p.text, "wikipedia", p.title)
                          for p in self.index.search(output.text, self.settings.per_output)]
        unique: dict[str, Candidate] = {}
        for c in found:
            key = re.sub(r"\W+", " ", c.text.lower()).strip()
            if key and key != re.sub(r"\W+", " ", prompt.lower()).strip():
                unique.setdefault(key, c)
        return list(unique.values())

    def extend(self, prompt: str) -> list[Scored]:
        prompt = re.sub(r"\s+", " ", prompt).strip()
        if not prompt:
            raise UserError("prompt must not be empty")
        s = self.settings
        scored = score_candidates(prompt, self.candidates(prompt), tfidf=self.tfidf, embedder=self.embedder,
                                  tagger=self.tagger, l1=s.l1, l2=s.l2)
        return scored[: s.top]
