"""Captions for a grid of prompts (rows) x artists (columns), with optional style, genre and year."""

from __future__ import annotations

import re
from dataclasses import dataclass

from creative_painting.errors import UserError
from creative_painting.templates import DEFAULT_TEMPLATE, EXTENDED_TEMPLATE, render

__all__ = ["DEFAULT_TEMPLATE", "EXTENDED_TEMPLATE", "Cell", "build_cells"]


@dataclass(frozen=True)
class Cell:
    """One picture: what to paint (caption, negative, seed) and where it goes in the grid (row, col, image).

    `build_cells` gives the grid's cells before seeds; `PaintSpec.cells()` one per seed, each with its id."""

    row: int
    col: int
    prompt: str
    artist: str | None
    caption: str
    style: str | None = None
    genre: str | None = None
    year: str | None = None
    template: str = DEFAULT_TEMPLATE  # what made `caption` from the fields: recorded, so a PNG repaints exactly
    seed: int = 0
    image: int = 0  # which of the cell's images: seed - the spec's first seed
    negative: str = ""
    id: str = ""  # the hash of everything that decides its pixels (`PaintSpec.cells`)

    @classmethod
    def single(cls, caption: str, seed: int = 0, negative: str = "") -> Cell:
        """A picture of its own, outside any grid: what `paint` needs, and no more."""
        return cls(0, 0, caption, None, caption, seed=seed, negative=negative)


def _without_repeated_lead(template: str, prompt: str) -> str:
    """"a painting of a painting of X" reads badly: drop the template's fixed lead from the prompt."""
    lead = template.split("{prompt}", 1)[0].strip().lower()
    if lead and prompt.lower().startswith(lead + " "):
        return prompt[len(lead) + 1 :]
    return prompt


def build_cells(
    prompts: list[str],
    artists: list[str] | None = None,
    *,
    template: str | list[str] = DEFAULT_TEMPLATE,
    style: str | None = None,
    genre: str | None = None,
    year: str | int | None = None,
) -> list[Cell]:
    """Rows are prompts, columns artists; with no artist, one column of plain captions.

    `template` is one for every row, or one per prompt (the studio paints a topic with the default template and
    its extensions, whole sentences, with EXTENDED_TEMPLATE in one grid)."""
    prompts = [re.sub(r"\s+", " ", p).strip() for p in prompts]
    if not prompts:
        raise UserError("give at least one prompt")
    if any(not p for p in prompts):
        raise UserError("prompt must not be empty")
    templates = [template] * len(prompts) if isinstance(template, str) else list(template)
    if len(templates) != len(prompts):
        raise UserError(f"give one template, or one per prompt ({len(prompts)}), not {len(templates)}")
    columns: list[str | None] = list(artists) if artists else [None]
    if any(a is not None and not a.strip() for a in columns):
        raise UserError("an artist must not be empty")
    cells = []
    for row, (prompt, row_template) in enumerate(zip(prompts, templates, strict=True)):
        for col, artist in enumerate(columns):
            fields = {"prompt": _without_repeated_lead(row_template, prompt), "artist": artist,
                      "style": style, "genre": genre, "year": year}
            cells.append(Cell(row, col, prompt, artist, render(row_template, fields), style, genre,
                              None if year is None else str(year), row_template))
    return cells
