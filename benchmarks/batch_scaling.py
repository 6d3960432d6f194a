"""Cells per second of `batch`: one process against Ray with 1 and 2 CPU actors, in the same run.

    .venv/bin/python benchmarks/batch_scaling.py [--cells 96] [--size 256] [--steps 25]

The tiny model at a size where one cell takes at least 0.5 s (0.77 s at 256 px here). Goal: 2 actors on 2
cores >= 1.7x one actor, and Ray's overhead over the single process <= 10 % (1 actor against one process
of 1 thread). Two rates for each way:
- overall: cells over the whole `run_batch` call, start-up included (Ray's worker processes, their
  imports and the model load: a fixed cost, seconds, that a long job pays once);
- running: cells per second once painting runs, from the first cell's PNG to the last one's (the
  file times), that is, what a job of thousands of cells gets.
Also: how busy the machine's cores were, and the driver's own CPU per cell (it writes the files).
Two plain processes painting side by side, without Ray, give the machine's own ceiling.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import psutil  # noqa: E402

PLAIN = r'''
import sys, time, torch
torch.set_num_threads(1)
from creative_painting.models import load_model, place, resolve_device
from creative_painting.painting import Cell, paint
from creative_painting.sampling import SamplingSettings
model = place(load_model(sys.argv[1]), *resolve_device("cpu", "auto"))
settings = SamplingSettings("ddim", int(sys.argv[3]), 5.0, None, int(sys.argv[2]), int(sys.argv[2]))
paint(model, [Cell.single("warm-up", 0)], settings, batch_size=1)
start = time.perf_counter()
for i in range(int(sys.argv[4])):
    paint(model, [Cell.single(f"a painting of a harbour number {i}", i)], settings, batch_size=1)
print((time.perf_counter() - start) / int(sys.argv[4]))
'''


def _busy() -> float:
    """CPU seconds the whole machine has spent working (every process: actors, driver, Ray's own)."""
    t = psutil.cpu_times()
    return t.user + t.system + getattr(t, "nice", 0.0)


def _running_rate(folder: Path) -> float:
    """Cells per second between the first and the last PNG written."""
    times = sorted(p.stat().st_mtime for p in (folder / "images").glob("*.png"))
    return (len(times) - 1) / (times[-1] - times[0])


def _plain_ceiling(model: Path, args) -> tuple[float, float]:
    """Seconds a cell in one plain process alone, and in each of two side by side."""
    cmd = [sys.executable, "-c", PLAIN, str(model), str(args.size), str(args.steps), "12"]
    alone = float(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    pair = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) for _ in range(2)]
    both = [float(p.communicate()[0]) for p in pair]
    return alone, sum(both) / 2


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=96)
    parser.add_argument("--size", type=int, default=256)
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
        alone, side_by_side = _plain_ceiling(model, args)
        job = BatchJob(prompts=[f"a painting of a harbour number {i}" for i in range(args.cells)], seeds=1,
                       model=str(model), steps=args.steps, width=args.size, height=args.size, batch_size=1)
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
        overall, running = {}, {}
        # Warm-up (file caches, Ray's first workers), then each way on a fresh folder.
        run_batch(job, tmp / "warm", progress=False, ray="", actors=2)
        print("| way | cells | seconds | cells/s overall | cells/s running | cores busy (of 2) | driver CPU a cell |")
        print("|---|---|---|---|---|---|---|")
        for name, kwargs in (("one process", {}), ("ray, 1 actor", {"ray": "", "actors": 1}),
                             ("ray, 2 actors", {"ray": "", "actors": 2})):
            folder = tmp / name.replace(" ", "-").replace(",", "")
            machine, driver = _busy(), time.process_time()
            started = time.perf_counter()
            summary = run_batch(job, folder, progress=False, **kwargs)
            seconds = time.perf_counter() - started
            machine, driver = _busy() - machine, time.process_time() - driver
            overall[name], running[name] = summary["painted"] / seconds, _running_rate(folder)
            print(f"| {name} | {summary['painted']} | {seconds:.1f} | {overall[name]:.3f} | {running[name]:.3f} | "
                  f"{machine / seconds:.2f} | {1000 * driver / summary['painted']:.0f} ms |", flush=True)
        ray.shutdown()
    print(f"\nplain processes without Ray: {alone:.3f} s a cell alone, {side_by_side:.3f} s each side by side: "
          f"ceiling {2 * alone / side_by_side:.2f}x")
    for label, rate in (("overall", overall), ("running", running)):
        print(f"{label}: 2 actors / 1 actor {rate['ray, 2 actors'] / rate['ray, 1 actor']:.3f} (goal >= 1.7); "
              f"1 actor / one process {rate['ray, 1 actor'] / rate['one process']:.3f} (goal >= 0.9)")


if __name__ == "__main__":
    main()
