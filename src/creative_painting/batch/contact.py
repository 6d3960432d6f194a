"""What a person looks at after a batch: labelled grids and an `index.html` contact sheet (works offline)."""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path

from PIL import Image

from creative_painting.batch.job import cell_file
from creative_painting.files import atomic_write_text
from creative_painting.painting.captions import Cell
from creative_painting.painting.grid import cell_grid
from creative_painting.painting.images import save_png

SMALL_JOB = 8  # prompts: up to this many also get one grid of every prompt x artist


def write_grids(folder: Path, cells: list[Cell], thumb: int = 256) -> list[Path]:
    """`grids/prompt-NNNNN.png` (rows seeds, columns artists) for each prompt, and `grids/all.png` (rows
    prompts, columns artists, first seed) for small jobs; a grid whose cells are not all painted yet waits."""

    def image(cell: Cell) -> Image.Image | None:
        if not (folder / cell_file(cell)).is_file():
            return None
        with Image.open(folder / cell_file(cell)) as im:
            return im.convert("RGB").resize((thumb, thumb))

    by_prompt: dict[int, list[Cell]] = defaultdict(list)
    for cell in cells:
        by_prompt[cell.row].append(cell)
    grids = {f"prompt-{p:05d}.png": group for p, group in sorted(by_prompt.items())}
    if 1 < len(by_prompt) <= SMALL_JOB:
        grids["all.png"] = [c for c in cells if c.image == 0]
    written = []
    for name, group in grids.items():
        if (grid := cell_grid(group, image)) is not None:
            written.append(save_png(grid, folder / "grids" / name))
    return written


def write_contact_sheet(folder: Path, cells: list[Cell], title: str) -> Path:
    """One section per prompt: its caption's artists as columns, thumbnails linking to the full images."""
    sections = []
    by_prompt: dict[int, list[Cell]] = defaultdict(list)
    for cell in cells:
        by_prompt[cell.row].append(cell)
    done = total = 0
    for p, group in sorted(by_prompt.items()):
        figures = []
        for c in group:
            total += 1
            label = html.escape(f"{c.artist or ''} · seed {c.seed}")
            if (folder / cell_file(c)).is_file():
                done += 1
                src = html.escape(cell_file(c))
                figures.append(f'<figure><a href="{src}"><img src="{src}" loading="lazy" width="160" height="160" '
                               f'alt="{html.escape(c.caption)}"></a><figcaption>{label}</figcaption></figure>')
            else:
                figures.append(f'<figure class="todo"><div>not painted yet</div><figcaption>{label}</figcaption></figure>')
        sections.append(f"<section><h2>{p + 1}. {html.escape(group[0].prompt)}</h2>{''.join(figures)}</section>")
    page = f"""<!doctype html><html lang="en"><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font:14px sans-serif;margin:1em}}figure{{display:inline-block;margin:4px;text-align:center}}
figcaption{{font-size:12px;max-width:160px}}.todo div{{width:160px;height:160px;background:#eee;line-height:160px}}</style>
<h1>{html.escape(title)}</h1><p>{done:,} of {total:,} cells painted.</p>{''.join(sections)}</html>
"""
    path = folder / "index.html"
    atomic_write_text(path, page)
    return path
