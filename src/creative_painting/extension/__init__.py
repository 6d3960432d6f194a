"""Prompt extension: Wikipedia BM25 retrieval, T5/DialoGPT/LM generation, TF-IDF + embedding + entity scoring."""

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
    "pipeline": ["ExtendSettings", "Extender", "extend_prompts"],
    "scoring": ["Scored", "Weights", "score_candidates"],
    "shorten": ["clip_length", "shorten"],
    "tfidf": ["TfidfModel"],
})
