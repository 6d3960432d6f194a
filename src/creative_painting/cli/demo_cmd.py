"""`creative-painting demo`: the end-to-end CPU proof that retraining teaches "by <artist>"."""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    from creative_painting.experiment.options import BASE_CAPTIONS, RECIPES

    p = sub.add_parser("demo", help="can retraining teach an artist unseen subjects? synthetic artists, held-out "
                                    "pairs, two judges")
    p.add_argument("--out", type=Path, help="keep data, models and grids here (default: a temporary folder)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--quick", action="store_true", help="the first-run size (`make demo`, under 2 minutes): a smaller "
                   "model, fewer steps, stage 2 alone")
    p.add_argument("--artists", type=int, help="synthetic painters in the experiment, 2..12 (default 6)")
    p.add_argument("--seeds", type=int, default=1, help="repeat with N seeds; report mean and minimum")
    p.add_argument("--seed", type=int, default=0, help="the first seed (default 0); --seeds N runs it and the next N-1")
    p.add_argument("--recipe", choices=sorted(RECIPES), help="; ".join(f"{k}: {v}" for k, v in RECIPES.items())
                   + " (default paper; with --quick, stage2)")
    p.add_argument("--base-captions", default="laion", choices=sorted(BASE_CAPTIONS),
                   help="; ".join(f"{k}: {v}" for k, v in BASE_CAPTIONS.items()))
    p.add_argument("--steps", type=int, help="the same step count for base, stage 1 and stage 2, for quick looks "
                   "(default 800, 500 and 1800)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (for logs and scripts)")
    p.set_defaults(run=run_demo_cmd)


def _table(summary: dict) -> str:
    """One line per model: held-out artist / subject / joint (mean, and min over seeds), then seen joint."""
    lines = [f"{'model':8s} {'held-out artist':>16s} {'subject':>9s} {'joint':>13s} {'seen joint':>11s}"]
    for model, held in summary["heldout"].items():
        joint = held["joint"]
        lines.append(f"{model:8s} {held['artist']['mean']:16.2f} {held['subject']['mean']:9.2f} "
                     f"{joint['mean']:6.2f} (>={joint['min']:.2f}) {summary['seen'][model]['joint']['mean']:11.2f}")
    return "\n".join(lines)


def headline(summary: dict) -> str:
    """The result in one line: held-out joint accuracy after retraining against the base model's, with the seeds."""
    held, final, seeds = summary["heldout"], summary["final"], summary["seeds"]
    return (f"held-out pairs (never in training): joint accuracy {held[final]['joint']['mean']:.2f} after "
            f"retraining ({final}), {held['base']['joint']['mean']:.2f} for the base model; chance "
            f"{summary['chance']['joint']:.2f}; seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}")


def _settings(args: argparse.Namespace):
    from creative_painting.errors import UserError
    from creative_painting.experiment.demo import DemoSettings

    if args.quick:
        if args.artists is not None or args.steps is not None:
            raise UserError("--quick sets its own painters and steps: drop --artists and --steps, or --quick")
        from creative_painting.experiment.first_run import QUICK

        return dataclasses.replace(QUICK, recipe=args.recipe or QUICK.recipe, base_captions=args.base_captions)
    settings = DemoSettings(artists=6 if args.artists is None else args.artists, recipe=args.recipe or "paper",
                            base_captions=args.base_captions)
    if not 2 <= settings.artists <= 12:
        raise UserError("--artists must be between 2 and 12")
    if args.steps is not None:
        if args.steps < 1:
            raise UserError("--steps must be at least 1")
        settings.base_steps = settings.stage1_steps = settings.stage2_steps = args.steps
    return settings


def run_demo_cmd(args: argparse.Namespace) -> int:
    from creative_painting.errors import UserError
    from creative_painting.experiment.demo import run_seeds
    from creative_painting.experiment.first_run import install
    from creative_painting.seeds import check_seed

    if not 1 <= args.seeds <= 20:
        raise UserError("--seeds must be between 1 and 20")
    check_seed(args.seed, "--seed")
    settings = dataclasses.replace(_settings(args), seed=args.seed)
    if args.out:
        from creative_painting.files import claim_resumable_dir

        claim_resumable_dir(args.out, "demo")
        summary = run_seeds(args.out, settings, args.seeds, progress=not args.no_progress)
        installed = install(summary["runs"][0])  # `--model demo` paints with it from now on
    else:
        with tempfile.TemporaryDirectory() as tmp:
            summary = run_seeds(tmp, settings, args.seeds, progress=not args.no_progress)
            installed = install(summary["runs"][0])
            for run in summary["runs"]:
                run["grid"] = run["compare"] = None
    if args.json:
        keep = ("recipe", "base_captions", "base_own_words", "seeds", "final", "chance", "heldout", "seen",
                "seconds_per_seed", "phases_per_seed")
        print(json.dumps({**{k: summary.get(k) for k in keep}, "headline": headline(summary),
                          "artist_names": summary["runs"][0]["artist_names"]}))
        return 0
    chance = summary["chance"]
    print(f"recipe {summary['recipe']}, base captions {summary.get('base_captions')}, seeds {summary['seeds']}; "
          f"chance: artist {chance['artist']:.2f}, subject {chance['subject']:.2f}, joint {chance['joint']:.3f}")
    if summary.get("base_own_words"):
        own = summary["base_own_words"]
        print(f"base model asked in its own words (palette and strokes): artist {own['artist']:.2f}, "
              f"joint {own['joint']:.2f}")
    print(_table(summary))
    print(headline(summary))
    print("seconds per seed: " + ", ".join(f"{x:.0f}" for x in summary["seconds_per_seed"]))
    grids = [r["grid"] for r in summary["runs"] if r["grid"]]
    print(f"grids: {', '.join(grids)}" if grids else "(pass --out DIR to keep the grids, data and models)")
    if grids:
        print(f"the base model against the retrained one, a row of each: {summary['runs'][0]['compare']}")
    names = summary["runs"][0]["artist_names"]
    print(f"paint with its painters: creative-painting studio --model demo, or creative-painting paint \"a boat\" "
          f"--artist \"{names[0]}\" --model demo ({installed.path})")
    return 0

