"""`creative-painting batch [JOB] --out DIR`: many prompt x artist x seed cells, resumable.

Example: creative-painting batch job.yaml --out runs/parti   (a rerun paints only what is missing)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("batch", help="paint a job of many cells, resumable, with grids and an index.html",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("job", nargs="?", type=Path, help="YAML or TOML job file (keys: creative_painting/batch/job.py)")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="e.g. seeds=4 steps=50")
    p.add_argument("--out", type=Path, required=True, help="job folder (resumed when it holds this job's cells)")
    p.add_argument("--prompt", action="append", help="a prompt (repeatable), added to the job's")
    p.add_argument("--artist", action="append", help="an artist (repeatable), added to the job's")
    for flag, kind in (("model", str), ("preset", str), ("sampler", str), ("steps", int), ("scale", float),
                       ("eta", float), ("width", int), ("height", int), ("seed", int), ("seeds", int),
                       ("batch-size", int), ("device", str), ("dtype", str)):
        p.add_argument(f"--{flag}", type=kind)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from creative_painting.batch import BatchJob, run_batch
    from creative_painting.training.config import load_config

    job = load_config(args.job, args.overrides, cls=BatchJob) if args.job else BatchJob()
    flags = {name: getattr(args, name) for name in ("model", "preset", "sampler", "steps", "scale", "eta", "width",
                                                    "height", "seed", "seeds", "batch_size", "device", "dtype")}
    job = dataclasses.replace(job, **{k: v for k, v in flags.items() if v is not None},
                              prompts=job.prompts + (args.prompt or []), artists=job.artists + (args.artist or []))
    summary = run_batch(job, args.out, progress=not args.no_progress)
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{summary['painted']:,} cells painted, {summary['skipped']:,} already done, "
              f"{summary['cells']:,} in the job; browse {summary['index']}")
    return 0
