"""Paint a spec in one process and write the output folder (`folder.py`) whole, when everything is painted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tqdm.auto import tqdm

from creative_painting.files import claim_output_dir, output_dir
from creative_painting.models import StableDiffusion
from creative_painting.models.adapters import use_adapters
from creative_painting.models.choice import ModelChoice
from creative_painting.painting.folder import MANIFEST, Painted, write_cells, write_job, write_views
from creative_painting.painting.manifest import Manifest
from creative_painting.painting.painter import batches, render
from creative_painting.painting.spec import PaintSpec


def load_to_paint(choice: ModelChoice, spec: PaintSpec, device=None) -> StableDiffusion:
    """The model that paints `spec` in this process, with the spec's files (one set, then the process ends), checked
    to fit in memory at the spec's batch size (or its image count, if fewer): `paint`'s, and `batch`'s where it
    paints here. `device` is this process's GPU when `accelerate launch` started several."""
    from creative_painting.models import load
    from creative_painting.painting.memory import check_memory

    model = load(choice, device=device)
    use_adapters(model, spec.loras, spec.embeddings, restorable=False)
    check_memory(model, spec.settings(), spec.batch_size, spec.count())
    return model


def paint_spec(
    model: StableDiffusion,
    spec: PaintSpec,
    out_dir: str | Path,
    *,
    progress: bool = True,
    overwrite: bool = False,
    on_step: Callable[[int, int], None] | None = None,
) -> Painted:
    """Paint a checked spec (from `paint`, the studio or a trainer's validation) into one folder. The caller
    checked it, and its memory with this model (`check_memory`), once: nothing is checked again here.

    Every cell uses the same seeds, so columns differ only by their artist (the paper's comparison); image k
    of a cell has seed `seed + k`. `out_dir` appears whole when everything is painted: its `manifest.jsonl`
    holds every picture's record, `job.json` the spec. A previous paint output there is replaced only with
    `overwrite`; any other non-empty folder is refused. `on_step(done, total)` follows the U-Net steps (it may raise to stop
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
        write_job(staging, spec, model.source, len(cells))
        manifest = Manifest(staging / MANIFEST)
        records = write_cells(staging, manifest, spec, model.source, cells, images, sizes)
        write_views(staging, cells, manifest, one=True)  # a trainer's validation may pass 256 cells
    return Painted(records, spec.to_json(), out_dir / MANIFEST)
