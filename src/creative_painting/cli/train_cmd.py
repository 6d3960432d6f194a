"""`creative-painting train CONFIG [key=value ...]`: stage 1 or 2 retraining on accelerate.

Multi-GPU: `accelerate launch --num_processes 8 -m creative_painting.cli.main train CONFIG`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="retrain on WikiArt: stage 1 (text encoder) or 2 (text encoder + U-Net)",
                       description=__doc__)
    p.add_argument("config", type=Path, help="YAML or TOML file with TrainConfig keys")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="e.g. stage=1 max_steps=200")
    p.add_argument("--no-resume", action="store_true", help="ignore checkpoints in output_dir")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (for logs and scripts)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from creative_painting.training.config import load_config

    cfg = load_config(args.config, args.overrides)  # a bad file or key is refused before torch is imported
    from creative_painting.training.trainer import train

    summary = train(cfg, resume=not args.no_resume, progress=not args.no_progress)
    if args.json:
        print(json.dumps(summary))
    else:
        last = summary["losses"][max(summary["losses"])] if summary["losses"] else float("nan")
        print(f"stage {cfg.stage}: {summary['steps']} steps, last loss {last:.4f}, {summary['seconds']:.0f} s")
        for name, path in summary.get("exported", {}).items():
            print(f"{name}: {path}")
        if text := summary.get("lora_text_encoder"):
            print(f"lora: the text encoder, trained in full, is in it at rank {cfg.lora_rank}: {text['kept']:.1%} of "
                  f"its adapted layers' change kept, {text['outside']:.1%} of its change in embeddings and norms, "
                  "which no LoRA holds (train_text_encoder: false exports the adapter exactly)")
    return 0
