"""`creative-painting demo`: the end-to-end CPU proof that retraining teaches "by <artist>";
`creative-painting train-vae CONFIG`: a KL autoencoder for collections without a pretrained VAE."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="synthetic artists -> VAE, base, stage 1, stage 2 -> attribution accuracy + grid")
    p.add_argument("--out", type=Path, help="keep data, models and grid here (default: a temporary folder)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--artists", type=int, default=6)
    p.add_argument("--steps", type=int, help="the same step count for base, stage 1 and stage 2, for quick looks "
                   "(default 800, 500 and 1800, which meet the goal)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(run=run_demo_cmd)
    v = sub.add_parser("train-vae", help="train a KL autoencoder (reconstruction + KL [+ patch-GAN])")
    v.add_argument("config", type=Path)
    v.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    v.add_argument("--no-progress", action="store_true")
    v.set_defaults(run=run_train_vae)


def run_demo_cmd(args: argparse.Namespace) -> int:
    from creative_painting.errors import UserError
    from creative_painting.training.demo import DemoSettings, run_demo

    if not 2 <= args.artists <= 12:
        raise UserError("--artists must be between 2 and 12")
    settings = DemoSettings(artists=args.artists)
    if args.steps is not None:
        if args.steps < 1:
            raise UserError("--steps must be at least 1")
        settings.base_steps = settings.stage1_steps = settings.stage2_steps = args.steps
    if args.out:
        from creative_painting.io import claim_resumable_dir

        claim_resumable_dir(args.out, "demo")
        result = run_demo(args.out, settings, progress=not args.no_progress)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            result = run_demo(tmp, settings, progress=not args.no_progress)
            result["grid"] = None
    if args.json:
        print(json.dumps({k: result[k] for k in ("accuracy", "artists", "seconds", "phases")}))
    else:
        a = result["accuracy"]
        print(f"artist attribution accuracy (chance {1 / result['artists']:.2f}): base {a['base']:.2f}, "
              f"stage 1 {a['stage1']:.2f}, stage 2 {a['stage2']:.2f} in {result['seconds']:.0f} s")
        print("seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in result["phases"].items()))
        print(f"grid: {result['grid']}" if result["grid"] else "(pass --out DIR to keep the grid, data and models)")
    return 0


def run_train_vae(args: argparse.Namespace) -> int:
    from creative_painting.training.config import VaeConfig, load_config
    from creative_painting.training.vae_trainer import train_vae

    cfg = load_config(args.config, args.overrides, cls=VaeConfig)
    result = train_vae(cfg, progress=not args.no_progress)
    print(f"VAE: {result['steps']} steps, last loss {result['losses'][max(result['losses'])]:.4f}, "
          f"scaling factor {result['scaling_factor']:.4f} -> {cfg.output_dir}")
    return 0
