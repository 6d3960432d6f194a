"""Cells per second of `batch`: one process against Ray with 1 and 2 CPU actors, in the same run.

    .venv/bin/python benchmarks/batch_scaling.py [--cells 96] [--size 192] [--steps 25]

The tiny model at a size where one cell takes at least 0.5 s. Goal: 2 actors on 2 cores >= 1.7x one
actor, and Ray's overhead over the single process <= 10 % (1 actor against one process of 1 thread).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=96)
    parser.add_argument("--size", type=int, default=192)
    parser.add_argument("--steps", type=int, default=25)
    args = parser.parse_args()

    import ray
    import torch

    from creative_painting.batch import BatchJob, run_batch
    from creative_painting.models import write_tiny

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = write_tiny(tmp / "tiny")["safetensors"]
        job = BatchJob(prompts=[f"a painting of a harbour number {i}" for i in range(args.cells)], seeds=1,
                       model=str(model), steps=args.steps, width=args.size, height=args.size, batch_size=1)
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
        results = {}
        # Warm-up (model load, Ray workers), then each way on fresh folders.
        run_batch(job, tmp / "warm", progress=False, ray="", actors=2)
        for name, kwargs in (("one process", {}), ("ray, 1 actor", {"ray": "", "actors": 1}),
                             ("ray, 2 actors", {"ray": "", "actors": 2})):
            started = time.perf_counter()
            summary = run_batch(job, tmp / name.replace(" ", "-").replace(",", ""), progress=False, **kwargs)
            seconds = time.perf_counter() - started
            results[name] = summary["painted"] / seconds
            print(f"{name:14s} {summary['painted']} cells in {seconds:6.1f} s: {results[name]:.3f} cells/s, "
                  f"{seconds / summary['painted']:.2f} s a cell", flush=True)
        ray.shutdown()
    print(f"2 actors / 1 actor: {results['ray, 2 actors'] / results['ray, 1 actor']:.3f} (goal >= 1.7)")
    print(f"ray 1 actor / one process: {results['ray, 1 actor'] / results['one process']:.3f} (goal >= 0.9)")


if __name__ == "__main__":
    main()
