"""`creative-painting paint`: prompts x artists with a Stable Diffusion model."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    from creative_painting.models.spec import add_model_flags
    from creative_painting.painting.captions import DEFAULT_TEMPLATE, EXTENDED_TEMPLATE
    from creative_painting.sampling.presets import PRESETS
    from creative_painting.sampling.samplers import SAMPLERS

    p = sub.add_parser("paint", help="paint prompts as drawn by artists; writes PNGs, grid.png, paint.json")
    p.add_argument("prompts", nargs="+", metavar="PROMPT", help="one row of the grid each")
    p.add_argument("--artist", action="append", default=[], help="one column each (repeatable)")
    p.add_argument("--style", help="e.g. Post-Impressionism")
    p.add_argument("--genre", help="e.g. landscape")
    p.add_argument("--year", help="e.g. 1889")
    p.add_argument("--template", help=f"caption template; [...] parts are optional (default {DEFAULT_TEMPLATE!r}, "
                                      f"with --extend {EXTENDED_TEMPLATE!r})")
    p.add_argument("--negative", default="", help="negative prompt for classifier-free guidance")
    p.add_argument("--preset", default="paper", choices=sorted(PRESETS),
                   help="paper: ddim eta 1.0, 200 steps, 512x512, scale 5.0 (default); fast: dpmpp-2m, 25 steps")
    p.add_argument("--sampler", help=f"one of {', '.join(SAMPLERS)}")
    p.add_argument("--steps", type=int, help="sampler steps (default: the preset's, 200 for paper)")
    p.add_argument("--scale", type=float, help="guidance scale")
    p.add_argument("--eta", type=float, help="DDIM eta (0 deterministic, 1 stochastic)")
    p.add_argument("--width", type=int, help="image width in pixels, a multiple of 8 (default: the preset's, 512)")
    p.add_argument("--height", type=int, help="image height in pixels, a multiple of 8 (default: the preset's, 512)")
    p.add_argument("--seed", type=int, default=0, help="shared by every cell so columns are comparable")
    p.add_argument("--images", type=int, default=1, help="images per cell, with seeds SEED, SEED+1, ...")
    p.add_argument("--batch-size", type=int, default=4, help="images painted together (more is faster on a GPU, needs more memory)")
    p.add_argument("--long-prompt", default="truncate", choices=["truncate", "chunk"],
                   help="captions over CLIP's 77 tokens: truncate (default, with a warning of what is cut) or "
                        "chunk (75-token chunks encoded apart and concatenated, as A1111)")
    add_model_flags(p)
    p.add_argument("--out", type=Path, default=Path("paintings"),
                   help="a new or empty folder (the whole output appears at once when painting ends)")
    p.add_argument("--overwrite", action="store_true", help="replace a previous paint output in --out")
    p.add_argument("--extend", type=int, metavar="K", help="paint the top-K prompt extensions of each prompt instead")
    p.add_argument("--extend-index", type=Path, help="index for --extend (default: the built-in one)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (for logs and scripts)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from creative_painting.files import claim_output_dir
    from creative_painting.models.spec import model_spec
    from creative_painting.painting.spec import PaintSpec

    # Everything the user typed is checked before the (slow) model load, once.
    spec = PaintSpec(
        tuple(args.prompts), tuple(args.artist), style=args.style, genre=args.genre, year=args.year,
        template=args.template, negative=args.negative, preset=args.preset, sampler=args.sampler, steps=args.steps,
        scale=args.scale, eta=args.eta, width=args.width, height=args.height, seed=args.seed, images=args.images,
        batch_size=args.batch_size, long_prompt=args.long_prompt).validate()
    from creative_painting.wikiart.catalog import artist_notes

    for note in artist_notes(list(spec.artists)):
        logging.getLogger(__name__).warning(note)
    if args.extend is not None:
        from creative_painting.extension.pipeline import check_extend

        check_extend(args.extend)
    model_settings = model_spec(args).validate()
    claim_output_dir(args.out, "paint", overwrite=args.overwrite)
    if args.extend is not None:
        from creative_painting.extension.pipeline import extensions_to_paint

        prompts, template = extensions_to_paint(list(spec.prompts), args.extend, args.extend_index)
        spec = dataclasses.replace(spec, prompts=tuple(prompts), template=args.template or template).validate()
    from creative_painting.painting.session import paint_spec

    model = model_settings.load()
    result = paint_spec(model, spec, args.out, progress=not args.no_progress, overwrite=args.overwrite)
    for path in result.images:
        print(path)
    print(result.grid)
    return 0
