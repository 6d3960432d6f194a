"""Paint a batch job in one process, resumably: each cell's PNG is written as soon as it is painted, then
recorded in the manifest; a rerun paints only what is missing. Any split into batches gives the same
pixels, because an image depends only on its seed."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from creative_painting import __version__
from creative_painting.batch.contact import write_contact_sheet, write_grids
from creative_painting.batch.job import BatchCell, BatchJob
from creative_painting.batch.manifest import Manifest
from creative_painting.io import atomic_write_text, claim_resumable_dir, run_lock

MANIFEST = "manifest.jsonl"


def _record(cell: BatchCell, job: BatchJob, settings) -> dict[str, Any]:
    return {"id": cell.id, "file": cell.file, "prompt": cell.prompt, "artist": cell.artist, "caption": cell.caption,
            "seed": cell.seed, "negative_prompt": job.negative or None, "sampler": settings.sampler,
            "steps": settings.steps, "scale": settings.scale, "eta": settings.eta, "width": settings.width,
            "height": settings.height, "model": job.model, "software": f"creative-painting {__version__}"}


def run_batch(job: BatchJob, out: str | Path, *, progress: bool = True) -> dict[str, Any]:
    """Paint every cell of `job` not yet in `out`; returns counts, seconds and where the grids are."""
    job = job.validate()
    cells = job.cells()  # every input is read and checked before anything is written
    settings = job.settings()
    out = claim_resumable_dir(out, "batch")
    with run_lock(out):
        atomic_write_text(out / "job.json", json.dumps({"job": job.__dict__, "cells": len(cells)}, indent=1))
        manifest = Manifest(out / MANIFEST)
        finished = manifest.finished(out)
        todo = [c for c in cells if c.id not in finished]
        started = time.perf_counter()
        if todo:
            _paint(job, settings, todo, out, manifest, done=len(cells) - len(todo), total=len(cells),
                   progress=progress)
        grids = write_grids(out, cells)
        sheet = write_contact_sheet(out, cells, f"{len(cells):,} cells: {', '.join(job.prompt_list()[:3])}"
                                                f"{' ...' if len(job.prompt_list()) > 3 else ''}")
    return {"cells": len(cells), "painted": len(todo), "skipped": len(cells) - len(todo),
            "seconds": round(time.perf_counter() - started, 2), "grids": [str(g) for g in grids],
            "index": str(sheet), "manifest": str(out / MANIFEST)}


def _paint(job: BatchJob, settings, todo: list[BatchCell], out: Path, manifest: Manifest, *, done: int, total: int,
           progress: bool) -> None:
    from creative_painting.models import load_model
    from creative_painting.painting import PaintJob, paint, resolve_device, save_png

    device, dtype = resolve_device(job.device, job.dtype)
    model = load_model(job.model).to(device, dtype)
    with tqdm(total=total, initial=done, unit="cell", desc="batch", disable=not progress, smoothing=0.1) as bar:
        for start in range(0, len(todo), job.batch_size):
            chunk = todo[start : start + job.batch_size]
            images = paint(model, [PaintJob(c.caption, c.seed, job.negative) for c in chunk], settings,
                           batch_size=job.batch_size)
            records = []
            for cell, image in zip(chunk, images, strict=True):
                record = _record(cell, job, settings)
                save_png(image, out / cell.file, record)  # atomic: a kill never leaves half a PNG
                records.append(record)
            manifest.append(records)  # after the images: a recorded cell always has its file
            bar.update(len(chunk))
            rate = bar.format_dict["rate"]
            if rate:
                bar.set_postfix_str(f"{rate * 60:.1f} cells/min")
