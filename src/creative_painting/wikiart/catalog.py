"""WikiArt's artists ranked by painting count, its styles and genres, shipped with the package.

Computed once from ArtGAN's lists by `scripts/make_artist_list.py`, so the studio's pickers and `top:N`
work offline without the lists."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files


@dataclass(frozen=True)
class RankedArtist:
    name: str
    slug: str
    paintings: int


def _lines(name: str) -> list[str]:
    return files("creative_painting.wikiart").joinpath("data", name).read_text(encoding="utf-8").splitlines()


@cache
def ranked_artists() -> tuple[RankedArtist, ...]:
    """All 1,119 artists, most paintings first (Vincent van Gogh, 1,890 paths in ArtGAN's lists)."""
    rows = [line.split("\t") for line in _lines("artists.tsv")[1:] if line]
    return tuple(RankedArtist(name, slug, int(count)) for name, slug, count in rows)


@cache
def styles() -> tuple[str, ...]:
    return tuple(line for line in _lines("styles.txt") if line)


@cache
def genres() -> tuple[str, ...]:
    return tuple(line for line in _lines("genres.txt") if line)


def artist_notes(names: list[str | None]) -> list[str]:
    """A note for each name that looks like a misspelled WikiArt artist ("Vincnet van Gohg"), naming the nearest.

    Only a note: a user may mean a painter WikiArt lacks, and a name far from every WikiArt artist passes quietly."""
    known = {a.name.lower(): a.name for a in ranked_artists()}
    notes = []
    for name in dict.fromkeys(n for n in names if n):
        if name.strip().lower() in known:
            continue
        close = difflib.get_close_matches(name.strip().lower(), known, n=1, cutoff=0.8)
        if close:
            notes.append(f"{name!r} is not one of WikiArt's artists; did you mean {known[close[0]]}?")
    return notes
