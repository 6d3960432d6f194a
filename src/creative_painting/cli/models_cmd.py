"""`creative-painting models ...`: make tiny test models, inspect and convert checkpoints."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from creative_painting.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("models", help="make tiny models, inspect or convert checkpoints")
    models = parser.add_subparsers(dest="models_command", required=True, parser_class=type(parser))

    tiny = models.add_parser("make-tiny", help="write a tiny random SD-architecture model (for tests, not quality)")
    tiny.add_argument("dir", type=Path)
    tiny.add_argument("--seed", type=int, default=0)
    tiny.set_defaults(run=make_tiny)

    inspect = models.add_parser("inspect", help="load a model and report its components and unused keys")
    inspect.add_argument("model")
    inspect.set_defaults(run=inspect_model)

    convert = models.add_parser("convert", help="convert between a diffusers folder and a single file")
    convert.add_argument("model")
    convert.add_argument("output", type=Path, help="a .safetensors/.ckpt file or a folder for diffusers")
    convert.set_defaults(run=convert_model)


def make_tiny(args: argparse.Namespace) -> int:
    from creative_painting.models import write_tiny

    for kind, path in write_tiny(args.dir, seed=args.seed).items():
        print(f"{kind:12s} {path}")
    return 0


def inspect_model(args: argparse.Namespace) -> int:
    from creative_painting.models import load_model

    model = load_model(args.model)
    parameters = {name: sum(p.numel() for p in module.parameters())
                  for name, module in (("unet", model.unet), ("vae", model.vae), ("text_encoder", model.text_encoder))}
    print(json.dumps({"source": model.source, "parameters": parameters, "vae_scale_factor": model.vae_scale_factor,
                      "unused_keys": model.report.unused, "ignored_keys": len(model.report.ignored)}, indent=2))
    return 0


def convert_model(args: argparse.Namespace) -> int:
    from creative_painting.models import load_model

    model = load_model(args.model)
    if args.output.suffix in (".safetensors", ".ckpt"):
        model.save_single_file(args.output)
    elif args.output.suffix:
        raise UserError(f"output must be a .safetensors/.ckpt file or a folder, got {args.output}")
    else:
        model.save_diffusers(args.output)
    print(args.output)
    return 0
