"""The held-out experiment in full: the paper's recipe over several seeds, the other recipes with the same
step budget, and few-step samplers on the trained stage-2 models.

    .venv/bin/python benchmarks/demo_heldout.py --out /tmp/heldout --seeds 3      # about 40 minutes on 2 cores

Everything resumes: a second call reuses finished models. Ratios are against the paper's recipe and
against DDIM 200 steps, measured in the same run. Prints JSON at the end (`--json FILE` keeps it).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
from pathlib import Path

from creative_painting.experiment.demo import (
    RECIPES,
    DemoSettings,
    held_out_pairs,
    judge,
    make_judges,
    paint_pairs,
    run_seeds,
)

SAMPLERS = [("ddim", 200, 1.0, "the paper's DDIM, eta 1"), ("ddim", 20, 0.0, "the demo's DDIM, eta 0"),
            ("dpmpp-2m", 20, None, "DPM-Solver++(2M)"), ("unipc", 10, None, "UniPC")]


def compare_samplers(run: dict, s: DemoSettings) -> dict[str, dict]:
    """Held-out joint accuracy, U-Net evaluations per image and seconds for each sampler, one trained model."""
    from creative_painting.wikiart.synthetic import SUBJECTS, make_artists

    s = dataclasses.replace(s, seed=run["seed"])
    artists, subjects = make_artists(s.artists, s.seed), SUBJECTS[: s.subjects]
    judges, held = make_judges(artists, subjects, s), held_out_pairs(s.artists, s.subjects, s.held_out)
    out = {}
    for sampler, steps, eta, _ in SAMPLERS:
        images, pairs, evaluations, seconds = paint_pairs(run["models"]["stage2"], artists, subjects, s,
                                                          sampler=sampler, steps=steps, eta=eta)
        scores = judge(images, pairs, artists, subjects, judges, held)
        out[f"{sampler}-{steps}"] = {"joint": scores["heldout"]["joint"], "seen_joint": scores["seen"]["joint"],
                                     "unet_evaluations": evaluations, "seconds": round(seconds, 2)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--recipes", default=",".join(RECIPES))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    report: dict = {"recipes": {}, "samplers": {}}
    for recipe in args.recipes.split(","):
        settings = DemoSettings(recipe=recipe)
        summary = run_seeds(args.out, settings, args.seeds, progress=False)  # recipes share data, VAE and base
        final = summary["final"]
        report["recipes"][recipe] = {
            "held_out": summary["heldout"][final], "seen": summary["seen"][final],
            "base_held_out_joint": summary["heldout"]["base"]["joint"],
            "seconds_per_seed": summary["seconds_per_seed"],
            "per_seed_joint": [r["heldout"][final]["joint"] for r in summary["runs"]],
            "phases": [r["phases"] for r in summary["runs"]],
        }
        if recipe == "paper":
            report["paper_stage1"] = summary["heldout"]["stage1"]
            per_seed = [compare_samplers(run, settings) for run in summary["runs"]]
            for name in per_seed[0]:
                runs = [p[name] for p in per_seed]
                report["samplers"][name] = {
                    "joint_mean": round(statistics.mean(r["joint"] for r in runs), 4),
                    "joint_min": round(min(r["joint"] for r in runs), 4),
                    "unet_evaluations": runs[0]["unet_evaluations"],
                    "seconds_mean": round(statistics.mean(r["seconds"] for r in runs), 2)}
        print(f"{recipe:7s} held-out joint {report['recipes'][recipe]['held_out']['joint']}", flush=True)

    paper = report["recipes"].get("paper")
    print(f"\n{'recipe':8s} {'held-out artist':>15s} {'subject':>8s} {'joint mean':>11s} {'min':>6s} "
          f"{'vs paper':>9s} {'seen joint':>11s}  about")
    for recipe, r in report["recipes"].items():
        held = r["held_out"]
        ratio = held["joint"]["mean"] / paper["held_out"]["joint"]["mean"] if paper and paper["held_out"]["joint"]["mean"] else float("nan")
        print(f"{recipe:8s} {held['artist']['mean']:15.3f} {held['subject']['mean']:8.3f} {held['joint']['mean']:11.3f} "
              f"{held['joint']['min']:6.3f} {ratio:9.3f} {r['seen']['joint']['mean']:11.3f}  {RECIPES[recipe]}")
    if report["samplers"]:
        baseline = report["samplers"]["ddim-200"]["seconds_mean"]
        print(f"\n{'sampler':12s} {'held-out joint':>14s} {'min':>6s} {'U-Net evals/image':>18s} {'seconds':>8s} "
              f"{'time vs DDIM 200':>17s}")
        for name, r in report["samplers"].items():
            print(f"{name:12s} {r['joint_mean']:14.3f} {r['joint_min']:6.3f} {r['unet_evaluations']:18.0f} "
                  f"{r['seconds_mean']:8.2f} {r['seconds_mean'] / baseline:17.3f}")
    text = json.dumps(report, indent=1)
    if args.json:
        args.json.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
