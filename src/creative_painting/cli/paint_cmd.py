"""`creative-painting paint`: prompts x artists with a Stable Diffusion model."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    from creative_painting.models.choice import add_model_flags
    from creative_painting.painting.spec import add_flags

    p = sub.add_parser("paint", help="paint prompts as drawn by artists; writes PNGs, grid.png, manifest.jsonl")
    add_flags(p, prompts="*")
    add_model_flags(p)
    p.add_argument("--again", type=Path, metavar="PNG",
                   help="paint a PNG of ours again: its prompt, settings, seed and files (flags given override them)")
    p.add_argument("--out", type=Path, default=Path("paintings"),
                   help="a new or empty folder (the whole output appears at once when painting ends)")
    p.add_argument("--overwrite", action="store_true", help="replace a previous paint output in --out")
    p.add_argument("--extend", type=int, metavar="K", help="paint the top-K prompt extensions of each prompt instead")
    p.add_argument("--extend-index", type=Path, help="index for --extend (default: the built-in one)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (for logs and scripts)")
    p.set_defaults(run=run)


def _request(args: argparse.Namespace) -> dict:
    """The flags, over a PNG's record with --again."""
    from creative_painting.errors import UserError
    from creative_painting.painting.spec import flag_values

    raw = flag_values(args)
    if args.again is None and not raw.get("prompts"):
        raise UserError("paint needs a PROMPT (or --again PNG)")
    if args.again is None:
        return raw
    if raw.get("prompts"):
        raise UserError("--again paints the PNG's own prompt; give no PROMPT with it")
    from creative_painting.painting.images import png_parameters

    raw.pop("prompts", None)
    return png_parameters(args.again)["request"] | raw


def run(args: argparse.Namespace) -> int:
    from creative_painting.files import claim_output_dir
    from creative_painting.models.choice import model_choice
    from creative_painting.painting.spec import PaintSpec

    spec = PaintSpec.check(_request(args))  # everything typed, checked once, before the (slow) model load
    from creative_painting.wikiart.catalog import artist_notes

    for note in artist_notes(list(spec.artists)):
        logging.getLogger(__name__).warning(note)
    if args.extend is not None:
        from creative_painting.extension.pipeline import check_extend

        check_extend(args.extend)
    model_settings = model_choice(args).validate()
    claim_output_dir(args.out, "paint", overwrite=args.overwrite)
    if args.extend is not None:
        from creative_painting.extension.pipeline import extensions_to_paint

        prompts, template = extensions_to_paint(list(spec.prompts), args.extend, args.extend_index)
        spec = spec.with_prompts(prompts, spec.template or template)  # only what the new prompts decide
    from creative_painting.experiment.first_run import resolve
    from creative_painting.painting.session import load_to_paint, paint_spec

    model_settings, demo = resolve(model_settings, progress=not args.no_progress)  # `demo`: trained first if missing
    if demo and spec.width is None and spec.height is None:  # it paints at the size it learned
        spec = dataclasses.replace(spec, width=demo.size, height=demo.size)
    model = load_to_paint(model_settings, spec)
    result = paint_spec(model, spec, args.out, progress=not args.no_progress, overwrite=args.overwrite)
    for path in result.images:
        print(path)
    print(result.grid)
    return 0
