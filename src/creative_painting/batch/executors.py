"""Where the cells are painted: in this process, or on a Ray cluster (one model replica per actor).

Both yield (cells, images) as they finish; the runner writes the files and the manifest on the driver,
so the two paths share the cell and manifest code and only the executor differs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import asdict, replace
from typing import Any

import numpy as np
from PIL import Image

from creative_painting.batch.job import BatchJob
from creative_painting.painting.captions import Cell
from creative_painting.painting.spec import PaintSpec

CRASH_ONCE = "CREATIVE_PAINTING_CRASH_ONCE"  # fault injection for tests: a file path; its first actor call dies


def paint_here(model, spec: PaintSpec, todo: list[Cell]) -> Iterator[tuple[list[Cell], list[Image.Image]]]:
    """In this process, with the model from `load_to_paint` (which checked the memory: not again per batch)."""
    from creative_painting.painting.painter import batches, render

    settings = spec.settings()
    for chunk in batches(todo, spec.batch_size):
        yield chunk, render(model, chunk, settings, batch_size=spec.batch_size, long_prompt=spec.long_prompt)


class RayPainter:
    """A Ray Data actor: loads the model once, then paints the batches it is given."""

    def __init__(self, choice: dict[str, Any], settings: dict[str, Any], long_prompt: str, threads: int,
                 batch_size: int, adapters: dict[str, list] | None = None):
        import torch  # the driver checked the job; the worker, what only it knows: its device and memory, once

        from creative_painting.errors import UserError
        from creative_painting.models import load
        from creative_painting.models.adapter_files import Embedding, Lora, parse_all
        from creative_painting.models.adapters import use_adapters
        from creative_painting.models.choice import ModelChoice
        from creative_painting.painting.memory import check_memory
        from creative_painting.sampling import SamplingSettings

        if threads:
            torch.set_num_threads(threads)
        self.model = load(ModelChoice(**choice).validate())
        self.settings, self.long_prompt, self.refused = SamplingSettings(**settings), long_prompt, ""
        adapters = adapters or {}
        try:  # the files the driver checked, by path and content: a worker without them says which
            use_adapters(self.model, tuple(a.check() for a in parse_all(adapters.get("loras"), Lora)),
                         tuple(e.check() for e in parse_all(adapters.get("embeddings"), Embedding)), restorable=False)
            check_memory(self.model, self.settings, batch_size, batch_size)
        except UserError as error:  # e.g. too big for this worker's memory: the driver says it in one line
            self.refused = str(error)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from creative_painting.painting import Cell
        from creative_painting.painting.painter import render

        marker = os.environ.get(CRASH_ONCE)
        if marker and not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)  # a worker dying mid-job: Ray must retry its batch
        cells = [Cell.single(str(c), int(s), str(n))
                 for c, s, n in zip(batch["caption"], batch["seed"], batch["negative"], strict=True)]
        if self.refused:
            return {"id": batch["id"], "pixels": np.zeros((len(cells), 0, 0, 3), np.uint8),
                    "refused": np.array([self.refused] * len(cells))}
        images = render(self.model, cells, self.settings, batch_size=len(cells), long_prompt=self.long_prompt)
        return {"id": batch["id"], "pixels": np.stack([np.asarray(image) for image in images]),
                "refused": np.array([""] * len(cells))}


def paint_on_ray(job: BatchJob, spec: PaintSpec, todo: list[Cell], *, address: str | None, actors: int | None,
                 threads: int) -> Iterator[tuple[list[Cell], list[Image.Image]]]:
    """Cells as a Ray Data dataset, `map_batches` over an actor pool: one GPU per actor where the cluster
    has GPUs, else CPU actors with `threads` torch threads each. Failed batches are retried by Ray."""
    try:
        import ray
    except ImportError:
        from creative_painting.errors import UserError

        raise UserError("--ray needs `pip install 'creative-painting[cluster]'` (Ray Data)") from None
    if not ray.is_initialized():
        ray.init(address=address or None, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    gpus = int(ray.cluster_resources().get("GPU", 0))
    if actors is None:
        actors = gpus or max(1, int(ray.cluster_resources().get("CPU", 1)) // max(threads, 1))
    by_id = {c.id: c for c in todo}
    dataset = ray.data.from_items([{"id": c.id, "caption": c.caption, "seed": c.seed, "negative": c.negative}
                                   for c in todo])
    painted = dataset.map_batches(
        RayPainter, batch_size=spec.batch_size, batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=actors),
        fn_constructor_kwargs={"choice": asdict(replace(job.model_choice(), device=job.device if gpus else "cpu")),
                               "settings": asdict(spec.settings()), "long_prompt": spec.long_prompt,
                               "threads": threads, "batch_size": min(spec.batch_size, len(todo)),
                               "adapters": {"loras": [asdict(a) for a in spec.loras],
                                            "embeddings": [asdict(e) for e in spec.embeddings]}},
        num_gpus=1 if gpus else 0, num_cpus=0 if gpus else max(threads, 1))  # Ray Data restarts dead actors
    for batch in painted.iter_batches(batch_size=None, batch_format="numpy"):
        if batch["refused"][0]:
            from creative_painting.errors import UserError

            raise UserError(f"a Ray worker refused the job: {batch['refused'][0]}")
        yield [by_id[str(i)] for i in batch["id"]], [Image.fromarray(p) for p in batch["pixels"]]
