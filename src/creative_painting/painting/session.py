"""Paint a whole grid of captions and write its images, labelled grid and manifest to a folder."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm.auto import tqdm

from creative_painting import __version__
from creative_painting.files import atomic_write_text, claim_output_dir, output_dir
from creative_painting.models import StableDiffusion
from creative_painting.painting.captions import Cell
from creative_painting.painting.grid import make_grid
from creative_painting.painting.images import save_png
from creative_painting.painting.memory import check_memory
from creative_painting.painting.painter import PaintJob, batches, paint
from creative_painting.painting.request import PaintRequest
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
    images_per_cell: int = 1,
    negative: str = "",
    batch_size: int = 4,
    progress: bool = True,
    overwrite: bool = False,
    on_step: Callable[[int, int], None] | None = None,
    manifest_extra: dict | None = None,
    long_prompt: str = "truncate",
    pad_batch_to: int | None = None,
) -> PaintResult:
    """Every cell uses the same seeds, so columns differ only by their artist (the paper's comparison).

    Image k of a cell has seed `seed + k`. `out_dir` appears whole when everything is painted: its
    `paint.json` describes every PNG in it. A previous paint output there is replaced only with
    `overwrite`; any other non-empty folder is refused. `on_step(done, total)` follows the U-Net steps
    (it may raise to stop the run; nothing is written then).
    """
    settings = settings.validate()
    out_dir = claim_output_dir(out_dir, "paint", overwrite=overwrite)
    jobs = [PaintJob(cell.caption, seed + k, negative) for cell in cells for k in range(images_per_cell)]
    check_memory(model, settings, batch_size, len(jobs))  # before the progress bar shows
    total = -(-len(jobs) // batch_size) * settings.steps  # the sampler steps once per batch
    done = 0
    with tqdm(total=total, desc="painting", unit="step", disable=not progress) as bar:

        def step() -> None:
            nonlocal done
            done += 1
            bar.update(1)
            if on_step is not None:
                on_step(done, total)

        images = paint(model, jobs, settings, batch_size=batch_size, on_step=step, long_prompt=long_prompt,
                       pad_to=pad_batch_to)

    with output_dir(out_dir, "paint", overwrite=overwrite) as staging:
        # the size of the batch each image was painted in (padded as `paint` pads it), for a bit-for-bit repaint
        sizes = [max(pad_batch_to or 1, len(batch)) for batch in batches(jobs, batch_size) for _ in batch]
        records = _write(staging, model, cells, images, settings, seed=seed, negative=negative,
                         images_per_cell=images_per_cell, extra=manifest_extra, long_prompt=long_prompt,
                         batch_sizes=sizes)
    return PaintResult([out_dir / r["file"] for r in records], out_dir / "grid.png", out_dir / "paint.json")


def paint_request(model: StableDiffusion, request: PaintRequest, out_dir: str | Path, **options) -> PaintResult:
    """`paint_grid` for a checked request (from `paint` or the studio); options as in `paint_grid`.

    The request goes into paint.json, so that any output can be painted again (the studio's gallery)."""
    return paint_grid(model, request.cells(), request.settings(), out_dir, seed=request.seed,
                      images_per_cell=request.images, negative=request.negative, batch_size=request.batch_size,
                      manifest_extra={"request": request.to_json()}, long_prompt=request.long_prompt,
                      pad_batch_to=request.pad_batch_to, **options)


def _write(folder: Path, model: StableDiffusion, cells: list[Cell], images: list, settings: SamplingSettings, *,
           seed: int, negative: str, images_per_cell: int = 1, extra: dict | None = None,
           long_prompt: str = "truncate", batch_sizes: list[int]) -> list[dict]:
    """The cell PNGs (with their metadata), the labelled grid and the manifest."""
    n = images_per_cell
    records = []
    for i, image in enumerate(images):
        cell, k = cells[i // n], i % n
        metadata = {
            "prompt": cell.prompt, "caption": cell.caption, "template": cell.template, "artist": cell.artist, "style": cell.style,
            "genre": cell.genre, "year": cell.year, "negative_prompt": negative or None, "seed": seed + k,
            "sampler": settings.sampler, "steps": settings.steps, "scale": settings.scale, "eta": settings.eta,
            "width": settings.width, "height": settings.height, "long_prompt": long_prompt, "batch": batch_sizes[i], "model": model.source,
            "software": f"creative-painting {__version__}",
        }
        name = f"{cell.row:02d}-{cell.col:02d}-{_slug(cell.artist)}" + (f"-{k}" if n > 1 else "")
        path = save_png(image, folder / f"{name}.png", metadata)
        records.append({"file": path.name, **metadata})

    rows = max(c.row for c in cells) + 1
    cols = max(c.col for c in cells) + 1
    # One grid row per prompt and image: row r, image k, column c is images[(r * cols + c) * n + k].
    table = [[images[(r * cols + c) * n + k] for c in range(cols)] for r in range(rows) for k in range(n)]
    col_labels = [cells[c].artist or "" for c in range(cols)] if cells[0].artist else None
    row_labels = ([cells[r * cols].prompt + (f" (seed {seed + k})" if n > 1 else "") for r in range(rows)
                   for k in range(n)] if rows * n > 1 else None)
    save_png(make_grid(table, col_labels, row_labels), folder / "grid.png",
             {"software": f"creative-painting {__version__}", "model": model.source})
    manifest = {"settings": asdict(settings), "images_per_cell": n, **(extra or {}), "images": records}
    atomic_write_text(folder / "paint.json", json.dumps(manifest, indent=2, allow_nan=False))
    return records


