"""One output folder for `paint`, the studio and `batch`, and its one reader.

    images/p00000-a001-s00-claude-monet-3f2a9c1b0e.png   a cell's picture; its PNG text is its record
    manifest.jsonl                                       the records, a line per picture (manifest.py)
    job.json                                             the request (the spec's JSON) and the model
    grid.png                                             every cell, rows prompts x seeds, columns artists
    grids/prompt-00000.png                               instead, a grid per prompt, past 256 cells
    index.html                                           a contact sheet that works offline

`paint` and the studio write a folder whole, at the end; `batch` a picture at a time, and resumes. Folders of
`paint` from before (`NN-NN-artist.png`, `grid.png`, `paint.json`) are still read.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from creative_painting.files import atomic_write_text
from creative_painting.painting.captions import Cell
from creative_painting.painting.grid import cell_grid
from creative_painting.painting.images import save_png
from creative_painting.painting.manifest import Manifest
from creative_painting.painting.spec import MAX_GRID_IMAGES, PaintSpec

MANIFEST, JOB, GRID, GRIDS, INDEX = "manifest.jsonl", "job.json", "grid.png", "grids", "index.html"
OLD_MANIFEST = "paint.json"  # written by `paint` and the studio before this layout


def cell_file(cell: Cell) -> str:
    """Where a cell's picture goes: prompt, artist and seed indices, the artist, and the start of its id."""
    artist = re.sub(r"[^a-z0-9]+", "-", (cell.artist or "none").lower()).strip("-")[:40] or "x"
    return f"images/p{cell.row:05d}-a{cell.col:03d}-s{cell.image:02d}-{artist}-{cell.id[:10]}.png"


def clear(folder: Path) -> None:
    """Remove what an output folder holds (only the files written here), before another job takes it."""
    for name in ("images", GRIDS):
        shutil.rmtree(folder / name, ignore_errors=True)
    for path in [folder / JOB, folder / GRID, folder / INDEX, *folder.glob("manifest*.jsonl")]:
        path.unlink(missing_ok=True)


def write_job(folder: Path, spec: PaintSpec, model: str, cells: int, **more: Any) -> None:
    atomic_write_text(folder / JOB, json.dumps({"request": spec.to_json(), "model": model, "cells": cells, **more},
                                               indent=1, allow_nan=False))


def write_cells(folder: Path, manifest: Manifest, spec: PaintSpec, model: str, cells: list[Cell],
                images: Iterable[Image.Image], batch_sizes: Iterable[int]) -> list[dict[str, Any]]:
    """Each picture written (atomically), then all recorded: a recorded cell always has its file. A cell
    already recorded (a batch that Ray retried) is not written twice."""
    records = []
    for cell, image, size in zip(cells, images, batch_sizes, strict=True):
        if cell.id in manifest.done:
            continue
        record = {"id": cell.id, "file": cell_file(cell), **spec.record(cell, model=model, batch=size)}
        save_png(image, folder / record["file"], record)
        records.append(record)
    manifest.append(records)
    return records


def write_views(folder: Path, cells: list[Cell], manifest: Manifest, thumb: int = 256,
                one: bool | None = None) -> tuple[list[Path], Path]:
    """`grid.png` of the pictures as painted (as the paper's figures), or past MAX_GRID_IMAGES cells (unless
    `one`: a trainer's validation grid) a grid per prompt of `thumb`-pixel thumbnails; and `index.html`.
    Pictures are found through the manifest's records, never by their names. A grid whose cells are not all
    painted waits."""
    files = {i: manifest.done[i]["file"] for i in manifest.finished(folder)}

    def image(cell: Cell) -> Image.Image | None:
        if cell.id not in files:
            return None
        with Image.open(folder / files[cell.id]) as im:
            return im.convert("RGB") if one else im.convert("RGB").resize((thumb, thumb))

    by_prompt = _by_prompt(cells)
    one = len(cells) <= MAX_GRID_IMAGES if one is None else one
    if one:
        grids = {GRID: cells}
        shutil.rmtree(folder / GRIDS, ignore_errors=True)  # a folder of an earlier version's per-prompt grids
    else:
        grids = {f"{GRIDS}/prompt-{p:05d}.png": group for p, group in by_prompt.items()}
        (folder / GRID).unlink(missing_ok=True)  # a job grown past one grid
    written = [save_png(grid, folder / name) for name, group in grids.items()
               if (grid := cell_grid(group, image)) is not None]
    return written, _contact_sheet(folder, by_prompt, files)


def _by_prompt(cells: list[Cell]) -> dict[int, list[Cell]]:
    groups: dict[int, list[Cell]] = defaultdict(list)
    for cell in cells:
        groups[cell.row].append(cell)
    return dict(sorted(groups.items()))


def _contact_sheet(folder: Path, by_prompt: dict[int, list[Cell]], files: dict[str, str]) -> Path:
    """One section per prompt: its caption's artists as columns, thumbnails linking to the full images."""
    sections = []
    done = total = 0
    for p, group in by_prompt.items():
        figures = []
        for c in group:
            total += 1
            label = html.escape(f"{c.artist or ''} · seed {c.seed}")
            if c.id in files:
                done += 1
                src = html.escape(files[c.id])
                figures.append(f'<figure><a href="{src}"><img src="{src}" loading="lazy" width="160" height="160" '
                               f'alt="{html.escape(c.caption)}"></a><figcaption>{label}</figcaption></figure>')
            else:
                figures.append(f'<figure class="todo"><div>not painted yet</div><figcaption>{label}</figcaption></figure>')
        sections.append(f"<section><h2>{p + 1}. {html.escape(group[0].prompt)}</h2>{''.join(figures)}</section>")
    prompts = [group[0].prompt for group in by_prompt.values()]
    title = f"{total:,} cells: {', '.join(prompts[:3])}{' ...' if len(prompts) > 3 else ''}"
    page = f"""<!doctype html><html lang="en"><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font:14px sans-serif;margin:1em}}figure{{display:inline-block;margin:4px;text-align:center}}
figcaption{{font-size:12px;max-width:160px}}.todo div{{width:160px;height:160px;background:#eee;line-height:160px}}</style>
<h1>{html.escape(title)}</h1><p>{done:,} of {total:,} cells painted.</p>{''.join(sections)}</html>
"""
    atomic_write_text(folder / INDEX, page)
    return folder / INDEX


@dataclass(frozen=True)
class Painted:
    """What a finished folder holds: its pictures' records (with their `file`), the request, where they are."""

    records: list[dict[str, Any]]
    request: dict[str, Any] | None
    manifest: Path

    @property
    def folder(self) -> Path:
        return self.manifest.parent

    @property
    def grid(self) -> Path:
        return self.folder / GRID

    @property
    def id(self) -> str:
        """The folder's name: a studio run's number."""
        return self.folder.name

    @property
    def created(self) -> float:
        """When the folder's record was last written (a studio run's date in its gallery)."""
        return self.manifest.stat().st_mtime

    @property
    def images(self) -> list[Path]:
        return [self.folder / r["file"] for r in self.records]

    @property
    def prompts(self) -> list[str]:
        return list(dict.fromkeys(r.get("prompt", "") for r in self.records))

    @property
    def artists(self) -> list[str]:
        return list(dict.fromkeys(r["artist"] for r in self.records if r.get("artist")))


def read_folder(folder: Path) -> Painted | None:
    """The one reader of an output folder: `manifest.jsonl` and `job.json`, else an older `paint.json`; None
    when it holds neither, or they are damaged."""
    try:
        if (folder / MANIFEST).is_file():
            job = json.loads((folder / JOB).read_text(encoding="utf-8"))
            return Painted(list(Manifest(folder / MANIFEST).done.values()), job.get("request"), folder / MANIFEST)
        old = json.loads((folder / OLD_MANIFEST).read_text(encoding="utf-8"))
        return Painted(old.get("images", []), old.get("request"), folder / OLD_MANIFEST)
    except (OSError, ValueError, AttributeError):
        return None
