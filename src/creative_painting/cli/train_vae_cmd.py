"""`creative-painting train-vae CONFIG`: a KL autoencoder for collections without a pretrained VAE."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train-vae", help="train a KL autoencoder (reconstruction + KL [+ patch-GAN])")
    p.add_argument("config", type=Path, help="YAML or TOML file with VAE training keys")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="e.g. max_steps=200")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (for logs and scripts)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from creative_painting.training.config import VaeConfig, load_config

    cfg = load_config(args.config, args.overrides, cls=VaeConfig)  # refused before torch is imported
    from creative_painting.training.vae_trainer import train_vae

    result = train_vae(cfg, progress=not args.no_progress)
    print(f"VAE: {result['steps']} steps, last loss {result['losses'][max(result['losses'])]:.4f}, "
          f"scaling factor {result['scaling_factor']:.4f} -> {cfg.output_dir}")
    return 0
