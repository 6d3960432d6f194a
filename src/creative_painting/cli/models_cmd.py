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
    tiny.add_argument("dir", type=Path, help="folder for the tiny model (a .safetensors file and a diffusers folder)")
    tiny.add_argument("--seed", type=int, default=0, help="seed of the random weights")
    tiny.add_argument("--overwrite", action="store_true", help="replace a tiny model written there before")
    tiny.set_defaults(run=make_tiny)

    inspect = models.add_parser("inspect", help="load a model and report its components and unused keys")
    inspect.add_argument("model", help="hub id, diffusers folder, or .ckpt/.safetensors file")
    inspect.set_defaults(run=inspect_model)

    convert = models.add_parser("convert", help="convert between a diffusers folder and a single file")
    convert.add_argument("model", help="hub id, diffusers folder, or .ckpt/.safetensors file")
    convert.add_argument("output", type=Path, help="a .safetensors/.ckpt file or a new folder for diffusers")
    convert.add_argument("--overwrite", action="store_true",
                         help="replace an existing output file, or a diffusers folder written by us")
    convert.set_defaults(run=convert_model)

    extract = models.add_parser("extract-lora", help="a full fine-tune as a LoRA file (kohya/A1111 format), by SVD "
                                                     "of its differences from the base model")
    extract.add_argument("base", help="the model it was tuned from: hub id, diffusers folder or single file")
    extract.add_argument("tuned", help="the fine-tuned model (e.g. a stage-2 run's model.safetensors)")
    extract.add_argument("output", type=Path, help="the LoRA file to write (.safetensors)")
    extract.add_argument("--rank", type=int, default=32, help="LoRA rank (default 32; kohya's default dim)")
    extract.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    extract.add_argument("--no-progress", action="store_true", help="no progress bar")
    extract.set_defaults(run=extract_lora)


def make_tiny(args: argparse.Namespace) -> int:
    from creative_painting.models import write_tiny
    from creative_painting.seeds import check_seed

    for kind, path in write_tiny(args.dir, seed=check_seed(args.seed, "--seed"), overwrite=args.overwrite).items():
        print(f"{kind:12s} {path}")
    return 0


def inspect_model(args: argparse.Namespace) -> int:
    from creative_painting.models import load

    model = load(args.model)
    parameters = {name: sum(p.numel() for p in module.parameters())
                  for name, module in (("unet", model.unet), ("vae", model.vae), ("text_encoder", model.text_encoder))}
    print(json.dumps({"source": model.source, "parameters": parameters, "vae_scale_factor": model.vae_scale_factor,
                      "unused_keys": model.report.unused, "ignored_keys": len(model.report.ignored)}, indent=2))
    return 0


def convert_model(args: argparse.Namespace) -> int:
    from creative_painting.files import claim_output_dir, claim_output_file
    from creative_painting.models import load

    single = args.output.suffix in (".safetensors", ".ckpt")
    if args.output.suffix and not single:
        raise UserError(f"output must be a .safetensors/.ckpt file or a folder, got {args.output}")
    if single:  # checked before the (slow) load, so a refusal costs nothing
        claim_output_file(args.output, overwrite=args.overwrite)
    else:
        claim_output_dir(args.output, "diffusers", overwrite=args.overwrite)
    model = load(args.model)
    if single:
        model.save_single_file(args.output)
    else:
        model.save_diffusers(args.output, overwrite=args.overwrite)
    print(args.output)
    return 0


def extract_lora(args: argparse.Namespace) -> int:
    from creative_painting.files import claim_output_file
    from creative_painting.models import load
    from creative_painting.models.lora_export import extract_lora as extract
    from creative_painting.models.lora_export import save_kohya

    if args.output.suffix != ".safetensors":
        raise UserError(f"a LoRA file ends in .safetensors, got {args.output.name}")
    if not 1 <= args.rank <= 1024:
        raise UserError(f"--rank must be in 1..1024, got {args.rank}")
    claim_output_file(args.output, overwrite=args.overwrite)
    base, tuned = load(args.base), load(args.tuned)
    for part in ("unet", "text_encoder"):
        a, b = getattr(base, part).state_dict(), getattr(tuned, part).state_dict()
        if {k: v.shape for k, v in a.items()} != {k: v.shape for k, v in b.items()}:
            raise UserError(f"{args.tuned} is not a fine-tune of {args.base}: their {part}s differ in shape")
    state, report = extract(base, tuned, args.rank, progress=not args.no_progress)
    if not report["layers"]:
        raise UserError("the two models are the same in every layer a LoRA adapts: nothing to extract")
    save_kohya(state, args.output, rank=args.rank, alpha=args.rank)
    print(f"{args.output}: {report['layers']} layers at rank {args.rank} keep {report['kept']:.1%} of their "
          f"difference; {report['outside']:.1%} of the whole difference is in layers a LoRA does not adapt")
    return 0
