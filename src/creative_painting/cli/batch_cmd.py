"""`creative-painting batch [JOB] --out DIR`: many prompt x artist x seed cells, resumable.

Example: creative-painting batch job.yaml --out runs/parti   (a rerun paints only what is missing)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path


def _add_job_flags(p: argparse.ArgumentParser) -> None:
    """`paint`'s model and sampling flags, each overriding the job key of the same name; where to paint."""
    from creative_painting.models.choice import add_model_flags
    from creative_painting.painting.spec import add_flags

    add_model_flags(p, overrides="job")
    add_flags(p, job_file=True)
    p.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                   help="paint on a Ray cluster (ADDRESS, or RAY_ADDRESS, or a local one); one actor per GPU")
    p.add_argument("--actors", type=int, help="Ray actors (default: one per GPU, else CPUs / --threads)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per CPU actor (default 1)")


def _where(args: argparse.Namespace) -> dict:
    from creative_painting.errors import UserError

    if args.actors is not None and not 1 <= args.actors <= 4096:
        raise UserError(f"--actors must be in 1..4096, got {args.actors}")
    if not 1 <= args.threads <= 256:
        raise UserError(f"--threads must be in 1..256, got {args.threads}")
    return {"ray": args.ray, "actors": args.actors, "threads": args.threads}


def _job_flags(args: argparse.Namespace) -> list[str]:
    """The flags given, as `key=value` overrides of the job file: read and checked as the file's keys, once."""
    from creative_painting.models.choice import ModelChoice
    from creative_painting.painting.spec import flag_values

    values = flag_values(args, job_file=True) | {f.name: getattr(args, f.name) for f in dataclasses.fields(ModelChoice)}
    return [f"{key}={json.dumps(value) if isinstance(value, list) else value}" for key, value in values.items()
            if value is not None]  # a repeated flag's list as JSON, which the file's YAML reads


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("batch", help="paint a job of many cells, resumable, with grids and an index.html",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("job", nargs="?", type=Path, help="YAML or TOML job file (its keys: docs/batch.md); flags override its keys")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="e.g. images=4 steps=50")
    p.add_argument("--out", type=Path, required=True, help="job folder (resumed when it holds this job's cells)")
    p.add_argument("--prompt", action="append", help="a prompt (repeatable), added to the job's")
    p.add_argument("--artist", action="append", help="an artist (repeatable), added to the job's")
    _add_job_flags(p)
    p.add_argument("--overwrite", action="store_true",
                   help="replace another job's outputs in --out (without it, --out resumes only the same job)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (for logs and scripts)")
    p.set_defaults(run=run)
    register_figures(sub)


def run(args: argparse.Namespace) -> int:
    from creative_painting.batch import BatchJob, run_batch
    from creative_painting.config_files import load_settings

    job = load_settings(args.job, [*args.overrides, *_job_flags(args)], cls=BatchJob)
    job = dataclasses.replace(job, prompts=job.prompts + (args.prompt or []), artists=job.artists + (args.artist or []))
    summary = run_batch(job, args.out, progress=not args.no_progress, overwrite=args.overwrite, **_where(args))
    if summary["rank"]:  # another process of `accelerate launch`: the main one reports for all
        return 0
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{summary['painted']:,} cells painted, {summary['skipped']:,} already done, "
              f"{summary['cells']:,} in the job; browse {summary['index']}")
    return 0


def register_figures(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("figures", help="the paper's Figures 3-12 (batch jobs, resumable)",
                       description="Example: creative-painting figures --model sd-v1-4.ckpt --wikiart "
                                   "style_train.csv,style_val.csv --out figures/")
    p.add_argument("--out", type=Path, required=True, help="folder for every figure's batch job (resumed)")
    p.add_argument("--wikiart", help="WikiArt lists or collection: Figure 3 and the top-30 artists of Figures 4, 9-12 "
                                     "(without it, only Figures 5-8)")
    p.add_argument("--extend", type=int, metavar="K", help="also paint this project's top-K extensions of the topic")
    _add_job_flags(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (for logs and scripts)")
    p.set_defaults(run=run_figures)


def run_figures(args: argparse.Namespace) -> int:
    from creative_painting.batch import BatchJob
    from creative_painting.batch.figures import TOPIC, make_figures
    from creative_painting.config_files import load_settings

    base = load_settings(None, _job_flags(args), cls=BatchJob)
    extensions = []
    if args.extend is not None:
        from creative_painting.extension.pipeline import extensions_to_paint

        extensions, _ = extensions_to_paint([TOPIC.removeprefix("a painting of ")], args.extend)
    done = make_figures(base, args.out, wikiart=args.wikiart, extensions=extensions, progress=not args.no_progress,
                        **_where(args))
    if args.json:
        print(json.dumps(done))
    else:
        for name, result in done.items():
            if name != "skipped":  # already a note on stderr
                print(f"{name}: {result if isinstance(result, str) else result['index']}")
    return 0
