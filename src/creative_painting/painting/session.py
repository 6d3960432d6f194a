"""Paint a spec in one process and write its images, labelled grid and manifest to a folder."""

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
from creative_painting.models.adapters import use_adapters
from creative_painting.painting.captions import Cell
from creative_painting.painting.grid import cell_grid
from creative_painting.painting.images import save_png
from creative_painting.painting.painter import batches, render
from creative_painting.painting.spec import PaintSpec


@dataclass
class PaintResult:
    images: list[Path]
    grid: Path
    manifest: Path


def _slug(text: str | None, limit: int = 40) -> str:
    return re.sub(r"[^a-z0-9]+", "-", (text or "none").lower()).strip("-")[:limit] or "x"


def paint_spec(
    model: StableDiffusion,
    spec: PaintSpec,
    out_dir: str | Path,
    *,
    progress: bool = True,
    overwrite: bool = False,
    on_step: Callable[[int, int], None] | None = None,
) -> PaintResult:
    """Paint a checked spec (from `paint`, the studio or a trainer's validation) into one folder. The caller
    checked it, and its memory with this model (`check_memory`), once: nothing is checked again here.

    Every cell uses the same seeds, so columns differ only by their artist (the paper's comparison); image k
    of a cell has seed `seed + k`. `out_dir` appears whole when everything is painted: its `paint.json` holds
    the spec and every picture's record. A previous paint output there is replaced only with `overwrite`; any
    other non-empty folder is refused. `on_step(done, total)` follows the U-Net steps (it may raise to stop
    the run; nothing is written then).
    """
    settings = spec.settings()
    out_dir = claim_output_dir(out_dir, "paint", overwrite=overwrite)
    use_adapters(model, spec.loras, spec.embeddings)  # the request's files, or none: the studio's model is shared
    cells = spec.cells(model.source)
    total = -(-len(cells) // spec.batch_size) * settings.steps  # the sampler steps once per batch
    done = 0
    with tqdm(total=total, desc="painting", unit="step", disable=not progress) as bar:

        def step() -> None:
            nonlocal done
            done += 1
            bar.update(1)
            if on_step is not None:
                on_step(done, total)

        images = render(model, cells, settings, batch_size=spec.batch_size, on_step=step,
                        long_prompt=spec.long_prompt, pad_to=spec.pad_batch_to)

    with output_dir(out_dir, "paint", overwrite=overwrite) as staging:
        # the size of the batch each image was painted in (padded as `paint` pads it), for a bit-for-bit repaint
        sizes = [max(spec.pad_batch_to or 1, len(batch)) for batch in batches(cells, spec.batch_size) for _ in batch]
        records = _write_outputs(staging, model, spec, cells, images, sizes)
    return PaintResult([out_dir / r["file"] for r in records], out_dir / "grid.png", out_dir / "paint.json")


def _write_outputs(folder: Path, model: StableDiffusion, spec: PaintSpec, cells: list[Cell], images: list,
           batch_sizes: list[int]) -> list[dict]:
    """The cell PNGs (with their records), the labelled grid and the manifest."""
    n = spec.images
    records = []
    for cell, image, size in zip(cells, images, batch_sizes, strict=True):
        record = spec.record(cell, model=model.source, batch=size)
        name = f"{cell.row:02d}-{cell.col:02d}-{_slug(cell.artist)}" + (f"-{cell.image}" if n > 1 else "")
        path = save_png(image, folder / f"{name}.png", record)
        records.append({"file": path.name, **record})

    painted = {(c.row, c.image, c.col): image for c, image in zip(cells, images, strict=True)}
    save_png(cell_grid(cells, lambda c: painted[(c.row, c.image, c.col)]), folder / "grid.png",
             {"software": f"creative-painting {__version__}", "model": model.source})
    manifest = {"settings": asdict(spec.settings()), "images_per_cell": n, "request": spec.to_json(), "images": records}
    atomic_write_text(folder / "paint.json", json.dumps(manifest, indent=2, allow_nan=False))
    return records
