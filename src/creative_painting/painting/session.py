"""Paint a whole grid of captions and write its images, labelled grid and manifest to a folder."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm.auto import tqdm

from creative_painting import __version__
from creative_painting.io import atomic_write_text
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
) -> PaintResult:
    """Every cell uses the same seed, so columns differ only by their artist (the paper's comparison)."""
    settings = settings.validate()
    out_dir = Path(out_dir)
    jobs = [PaintJob(cell.caption, seed, negative) for cell in cells]
    with tqdm(total=len(jobs) * settings.steps, desc="painting", unit="step", disable=not progress) as bar:
        images = paint(model, jobs, settings, batch_size=batch_size, on_step=lambda: bar.update(1))

    records, paths = [], []
    for cell, image in zip(cells, images, strict=True):
        metadata = {
            "prompt": cell.prompt, "caption": cell.caption, "artist": cell.artist, "style": cell.style,
            "genre": cell.genre, "year": cell.year, "negative_prompt": negative or None, "seed": seed,
            "sampler": settings.sampler, "steps": settings.steps, "scale": settings.scale, "eta": settings.eta,
            "width": settings.width, "height": settings.height, "model": model.source,
            "software": f"creative-painting {__version__}",
        }
        path = save_png(image, out_dir / f"{cell.row:02d}-{cell.col:02d}-{_slug(cell.artist)}.png", metadata)
        paths.append(path)
        records.append({"file": path.name, **metadata})

    rows = max(c.row for c in cells) + 1
    cols = max(c.col for c in cells) + 1
    table = [[images[r * cols + c] for c in range(cols)] for r in range(rows)]
    col_labels = [cells[c].artist or "" for c in range(cols)] if cells[0].artist else None
    row_labels = [cells[r * cols].prompt for r in range(rows)] if rows > 1 else None
    grid = save_png(make_grid(table, col_labels, row_labels), out_dir / "grid.png",
                    {"software": f"creative-painting {__version__}", "model": model.source})
    manifest = out_dir / "paint.json"
    atomic_write_text(manifest, json.dumps({"settings": asdict(settings), "images": records}, indent=2))
    return PaintResult(paths, grid, manifest)


