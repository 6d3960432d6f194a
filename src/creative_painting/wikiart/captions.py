"""Training captions from WikiArt metadata, with the dropout that classifier-free guidance needs.

The default reads like a museum label: "Irises, a landscape by Vincent van Gogh, Post-Impressionism, 1889".
Missing fields disappear with their commas (huggan parquet has no title or year).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from creative_painting.templates import render, template_fields
from creative_painting.wikiart.names import Artwork

DEFAULT_CAPTION = "[{title}, ]{a_genre}[ by {artist}][, {style}][, {year}]"
GENRE_NOUNS = {"sketch and study": "study"}  # "a sketch and study by ..." reads oddly
CAPTION_FIELDS = {"title", "genre", "a_genre", "artist", "style", "year"}


def _with_article(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def caption_fields(art: Artwork) -> dict[str, str | int | None]:
    """Template fields of one artwork; `a_genre` is "a landscape" / "an illustration" / "a painting"."""
    genre = art.genre.lower() if art.genre else None
    a_genre = _with_article(GENRE_NOUNS.get(genre, genre) if genre else "painting")
    return {"title": art.title or None, "genre": genre, "a_genre": a_genre, "artist": art.artist,
            "style": art.style, "year": art.year}


def make_caption(art: Artwork, template: str = DEFAULT_CAPTION, *, rng: random.Random | None = None,
                 caption_dropout: float = 0.0, field_dropout: float = 0.0,
                 aliases: Mapping[str, Sequence[str]] | None = None) -> str:
    """Render `template` for `art`.

    `caption_dropout` is the chance of an empty caption (the unconditional branch of classifier-free
    guidance); `field_dropout` drops each optional field on its own, so the model also learns
    "by Claude Monet" without a title or year. `aliases` names an artist in other words, one drawn per
    caption ("swirling blue and yellow strokes", "the painter from Arles"; "" leaves the artist out), as
    web captions such as LAION's do.
    """
    rng = rng or random.Random()
    if caption_dropout and rng.random() < caption_dropout:
        return ""
    fields = caption_fields(art)
    if aliases and fields["artist"] in aliases:
        fields["artist"] = rng.choice(list(aliases[fields["artist"]])) or None
    if field_dropout:
        fields = {k: (None if k != "a_genre" and rng.random() < field_dropout else v) for k, v in fields.items()}
    return render(template, fields)


def check_template(template: str) -> str:
    """Fail early, before any image is read, on fields a WikiArt caption cannot fill."""
    from creative_painting.errors import UserError

    unknown = template_fields(template) - CAPTION_FIELDS
    if unknown:
        raise UserError(f"caption template uses unknown field(s) {', '.join(sorted(unknown))}; "
                        f"known: {', '.join(sorted(CAPTION_FIELDS))}")
    return template
