"""Prompt extension: Wikipedia BM25 retrieval, T5/DialoGPT/LM generation, TF-IDF + embedding + entity scoring."""

from typing import TYPE_CHECKING

from creative_painting._lazy import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "builtin": ["builtin_index"],
    "corpus": ["Article", "iter_articles"],
    "entities": ["Entity", "EntityTagger"],
    "embedding": ["load_embedder"],
    "candidate": ["Candidate"],
    "selection": ["resolve_generators"],
    "index": ["WikiIndex", "build_index"],
    "paintability": ["load_paintability"],
    "pipeline": ["ExtendSettings", "Extender", "extensions_to_paint"],
    "scoring": ["Scored", "Weights", "score_candidates"],
    "shorten": ["clip_length", "shorten"],
    "tfidf": ["TfidfModel"],
})

if TYPE_CHECKING:  # what type checkers and editors see; at run time, names load on first use
    from creative_painting.extension.builtin import builtin_index
    from creative_painting.extension.candidate import Candidate
    from creative_painting.extension.corpus import Article, iter_articles
    from creative_painting.extension.embedding import load_embedder
    from creative_painting.extension.entities import Entity, EntityTagger
    from creative_painting.extension.index import WikiIndex, build_index
    from creative_painting.extension.paintability import load_paintability
    from creative_painting.extension.pipeline import Extender, ExtendSettings, extensions_to_paint
    from creative_painting.extension.scoring import Scored, Weights, score_candidates
    from creative_painting.extension.selection import resolve_generators
    from creative_painting.extension.shorten import clip_length, shorten
    from creative_painting.extension.tfidf import TfidfModel
