"""Paint a batch job resumably: each cell's PNG is written as soon as it is painted, then recorded in the
manifest; a rerun paints only what is missing. Any split into batches gives the same pixels, because an
image depends only on its seed.

Executors: this process; a Ray cluster (`ray=`); or the processes of `accelerate launch` / `torchrun` on
one machine with several GPUs, each painting every WORLD_SIZE-th missing cell on its own GPU and recording
it in its own manifest file; the main process writes the grids once all are done.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from creative_painting.batch.executors import paint_here, paint_on_ray
from creative_painting.batch.job import BatchJob
from creative_painting.errors import UserError
from creative_painting.files import check_resumable_dir, claim_resumable_dir, run_lock
from creative_painting.painting.captions import Cell
from creative_painting.painting.folder import MANIFEST, clear, write_cells, write_job, write_views
from creative_painting.painting.manifest import Manifest
from creative_painting.painting.spec import PaintSpec

logger = logging.getLogger(__name__)


def _holds_another_job(out: Path, cells: list[Cell]) -> bool:
    """A folder holds one job: it may grow (more seeds, prompts or artists keep every recorded cell), but a
    recorded cell that this job lacks belongs to another job."""
    return not set(Manifest(out / MANIFEST).done) <= {c.id for c in cells}


def run_batch(job: BatchJob, out: str | Path, *, progress: bool = True, ray: str | None = None,
              actors: int | None = None, threads: int = 1, overwrite: bool = False,
              spec: PaintSpec | None = None) -> dict[str, Any]:
    """Paint every cell of `job` not yet in `out`; returns counts, seconds and where the grids are.

    A folder holds one job: the same job resumes, and may grow; a job without some of the recorded cells is
    another job, refused, or replacing the previous one with `overwrite`.

    `ray`: None paints in this process; "" uses the Ray cluster of RAY_ADDRESS (or starts a local one); an
    address connects to that cluster. `spec`: the job's, where the caller checked it (`figures`, every figure's
    first), else checked here.
    """
    spec = spec or job.spec()  # every input is read and checked, once, before anything is written
    cells = spec.cells(job.model, job.config)
    from creative_painting.wikiart.catalog import artist_notes

    for note in artist_notes(list(dict.fromkeys(c.artist for c in cells))):
        logger.warning(note)
    state = _launched_processes() if ray is None else None
    rank, world = (state.process_index, state.num_processes) if state else (0, 1)
    out = check_resumable_dir(out, "batch")  # the folder first, then the model and whether it fits, then the claim
    replace = out.is_dir() and _holds_another_job(out, cells)
    if replace and not overwrite:
        raise UserError(f"{out} holds another batch job (other prompts, artists, seeds or settings); "
                        "pass --overwrite to replace it, or choose another folder")
    model = None
    if ray is None:  # the model is loaded, and checked to fit, before the claim
        from creative_painting.painting.session import load_to_paint

        model = load_to_paint(job.model_choice().validate(), spec, device=state.device if state else None)
    with state.main_process_first() if state else contextlib.nullcontext():
        out = claim_resumable_dir(out, "batch")
    with run_lock(out, enabled=rank == 0):
        if rank == 0:
            if replace:
                clear(out)
            write_job(out, spec, job.model, len(cells), job=job.__dict__)
        if state:
            state.wait_for_everyone()  # the other processes read the manifest after a replaced job is cleared
        manifest = Manifest(out / MANIFEST, rank)
        finished = manifest.finished(out) & {c.id for c in cells}
        todo = [c for c in cells if c.id not in finished][rank::world]
        started = time.perf_counter()
        if todo:
            if ray is None:
                painted = paint_here(model, spec, todo)
            else:
                painted = paint_on_ray(job, spec, todo, address=ray, actors=actors, threads=threads)
            _write(painted, spec, job.model, out, manifest, done=len(finished), total=len(finished) + len(todo),
                   progress=progress)
        if state:
            state.wait_for_everyone()
            if rank:
                return {"cells": len(cells), "painted": len(todo), "rank": rank}
        grids, sheet = write_views(out, cells, Manifest(out / MANIFEST))  # every process's records, read again
    return {"cells": len(cells), "painted": len(todo), "skipped": len(finished), "processes": world,
            "seconds": round(time.perf_counter() - started, 2), "grids": [str(g) for g in grids],
            "index": str(sheet), "manifest": str(out / MANIFEST), "rank": 0}


def _launched_processes():
    """accelerate's process state when launched as several processes (WORLD_SIZE > 1), else None."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return None
    import torch
    from accelerate import PartialState

    return PartialState(cpu=not torch.cuda.is_available())  # gloo between CPU processes, NCCL between GPUs


def _write(painted, spec: PaintSpec, model: str, out: Path, manifest: Manifest, *, done: int, total: int,
           progress: bool) -> None:
    """Each batch's pictures written and recorded as it finishes (`write_cells`), with a progress bar."""
    with tqdm(total=total, initial=done, unit="cell", desc="batch", disable=not progress, smoothing=0.1) as bar:
        for chunk, images in painted:
            bar.update(len(write_cells(out, manifest, spec, model, chunk, images, [len(chunk)] * len(chunk))))
            rate = bar.format_dict["rate"]
            if rate:
                bar.set_postfix_str(f"{rate * 60:.1f} cells/min")
