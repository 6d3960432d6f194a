"""Paint a whole grid of captions and write its images, labelled grid and manifest to a folder."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm.auto import tqdm

from creative_painting import __version__
from creative_painting.io import atomic_write_text, claim_output_dir, output_dir
from creative_painting.models import StableDiffusion
from creative_painting.painting.captions import Cell
from creative_painting.painting.grid import make_grid
from creative_painting.painting.images import save_png
from creative_painting.painting.painter import PaintJob, paint
from creative_painting.sampling import SamplingSettings


@dataclass
class PaintResult:
    images: list[Path]
    grid: Path
    manifest: Path


def _slug(text: str | None, limit: int = 40) -> str:
    return re.sub(r"[^a-z0-9]+", "-", (text or "none").lower()).strip("-")[:limit] or "x"


def paint_grid(
    model: StableDiffusion,
    cells: list[Cell],
    settings: SamplingSettings,
    out_dir: str | Path,
    *,
    seed: int = 0,
    negative: str = "",
    batch_size: int = 4,
    progress: bool = True,
    overwrite: bool = False,
) -> PaintResult:
    """Every cell uses the same seed, so columns differ only by their artist (the paper's comparison).

    `out_dir` appears whole when everything is painted: its `paint.json` describes every PNG in it.
    A previous paint output there is replaced only with `overwrite`; any other non-empty folder is refused.
    """
    settings = settings.validate()
    out_dir = claim_output_dir(out_dir, "paint", overwrite=overwrite)
    jobs = [PaintJob(cell.caption, seed, negative) for cell in cells]
    with tqdm(total=len(jobs) * settings.steps, desc="painting", unit="step", disable=not progress) as bar:
        images = paint(model, jobs, settings, batch_size=batch_size, on_step=lambda: bar.update(1))

    with output_dir(out_dir, "paint", overwrite=overwrite) as staging:
        records = _write(staging, model, cells, images, settings, seed=seed, negative=negative)
    return PaintResult([out_dir / r["file"] for r in records], out_dir / "grid.png", out_dir / "paint.json")


def _write(folder: Path, model: StableDiffusion, cells: list[Cell], images: list, settings: SamplingSettings, *,
           seed: int, negative: str) -> list[dict]:
    """The cell PNGs (with their metadata), the labelled grid and the manifest."""
    records = []
    for cell, image in zip(cells, images, strict=True):
        metadata = {
            "prompt": cell.prompt, "caption": cell.caption, "artist": cell.artist, "style": cell.style,
            "genre": cell.genre, "year": cell.year, "negative_prompt": negative or None, "seed": seed,
            "sampler": settings.sampler, "steps": settings.steps, "scale": settings.scale, "eta": settings.eta,
            "width": settings.width, "height": settings.height, "model": model.source,
            "software": f"creative-painting {__version__}",
        }
        path = save_png(image, folder / f"{cell.row:02d}-{cell.col:02d}-{_slug(cell.artist)}.png", metadata)
        records.append({"file": path.name, **metadata})

    rows = max(c.row for c in cells) + 1
    cols = max(c.col for c in cells) + 1
    table = [[images[r * cols + c] for c in range(cols)] for r in range(rows)]
    col_labels = [cells[c].artist or "" for c in range(cols)] if cells[0].artist else None
    row_labels = [cells[r * cols].prompt for r in range(rows)] if rows > 1 else None
    save_png(make_grid(table, col_labels, row_labels), folder / "grid.png",
             {"software": f"creative-painting {__version__}", "model": model.source})
    manifest = {"settings": asdict(settings), "images": records}
    atomic_write_text(folder / "paint.json", json.dumps(manifest, indent=2, allow_nan=False))
    return records


