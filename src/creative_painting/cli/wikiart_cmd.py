"""`creative-painting wikiart ...`: statistics, validation and training shards of a WikiArt collection."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

SOURCE_HELP = ("a wikiart/ folder, wikiart.tar.gz, huggan .parquet or ArtGAN .csv lists, joined by commas "
               "(genre_*.csv lists add genres to a folder or tar)")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("wikiart", help="WikiArt collection tools")
    wikiart = parser.add_subparsers(dest="wikiart_command", required=True, parser_class=type(parser))

    stats = wikiart.add_parser("stats", help="images, artists, styles, top artists (never opens images)")
    stats.add_argument("source", help=SOURCE_HELP)
    stats.add_argument("--json", action="store_true", help="print machine-readable JSON")
    stats.add_argument("--plot", type=Path, help="write the top-30 artists bar chart (the paper's Figure 3)")
    stats.add_argument("--top", type=int, default=30, help="how many artists to list, most paintings first")
    stats.set_defaults(run=run_stats)

    validate = wikiart.add_parser("validate", help="find unreadable, truncated, tiny, grayscale and CMYK images")
    validate.add_argument("source", help=SOURCE_HELP)
    validate.add_argument("--min-size", type=int, default=64, help="shorter side below this is 'tiny' (default 64)")
    validate.add_argument("--workers", type=int, default=2, help="decoding processes (0: in this process)")
    validate.add_argument("--json", action="store_true", help="print the result as JSON")
    validate.add_argument("--no-progress", action="store_true", help="no progress bar (for logs and scripts)")
    validate.set_defaults(run=run_validate)

    shard = wikiart.add_parser("shard", help="write WebDataset tar shards for training (resumable)")
    shard.add_argument("source", help=SOURCE_HELP)
    shard.add_argument("out", type=Path, help="folder for shard-NNNNNN.tar files and shards.json")
    shard.add_argument("--size", type=int, default=512, help="square side after resize and centre crop")
    shard.add_argument("--shard-size", type=int, default=1000, help="images per shard")
    shard.add_argument("--workers", type=int, default=2, help="decode/resize processes (0: in this process)")
    shard.add_argument("--min-size", type=int, default=64, help="images whose shorter side is below this are left out")
    shard.add_argument("--skip", default="unreadable,truncated,tiny",
                       help="problem kinds to leave out; grayscale and CMYK are converted to RGB unless listed")
    shard.add_argument("--template", help="caption template, fields {title} {genre} {a_genre} {artist} {style} {year}")
    shard.add_argument("--latents", metavar="MODEL", help="store this model's VAE latents instead of pixels")
    shard.add_argument("--balance", type=float, metavar="POWER",
                       help="store artist-balancing sample weights count**-POWER (1: every artist equal)")
    shard.add_argument("--no-progress", action="store_true", help="no progress bar (for logs and scripts)")
    shard.set_defaults(run=run_shard)


def run_stats(args: argparse.Namespace) -> int:
    from creative_painting.errors import UserError
    from creative_painting.files import claim_output_file
    from creative_painting.wikiart import collection_stats, iter_source, plot_top_artists

    if args.top < 1:
        raise UserError(f"--top must be at least 1, got {args.top}")
    if args.plot:
        if args.plot.suffix.lower() not in (".png", ".pdf", ".svg"):
            raise UserError(f"--plot must end in .png, .pdf or .svg, got {args.plot.name}")
        claim_output_file(args.plot, overwrite=True)  # a chart is replaced, but never a folder or a path under a file
    stats = collection_stats(iter_source(args.source), top=args.top)
    if args.plot:
        plot_top_artists(stats, args.plot)
    if args.json:
        print(json.dumps(stats, indent=2, ensure_ascii=False))
        return 0
    print(f"{stats['images']:,} images, {stats['artists']:,} artists, {stats['styles']} styles, "
          f"{stats['genres']} genres, {stats['with_year']:,} with a year")
    print("top-10/20/30 share: " + " / ".join(f"{v:.2f} %" for v in stats["top_share"].values()))
    for i, artist in enumerate(stats["top_artists"][:10], 1):
        print(f"{i:3d}. {artist['name']:32s} {artist['count']:6,d}")
    return 0


def run_validate(args: argparse.Namespace) -> int:
    from creative_painting.errors import UserError
    from creative_painting.wikiart.report import validate_source

    if args.min_size < 1 or args.workers < 0:
        raise UserError("--min-size must be at least 1 and --workers 0 or more")
    report = validate_source(args.source, min_size=args.min_size, workers=args.workers,
                             progress=not args.no_progress)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0
    counts = ", ".join(f"{n} {kind}" for kind, n in report["counts"].items() if n) or "no problems"
    print(f"{report['images']:,} images checked: {counts}")
    for p in report["problems"]:
        print(f"  {p['problem']:10s} {p['path']}  ({p['detail']})")
    return 0


def run_shard(args: argparse.Namespace) -> int:
    from creative_painting.errors import UserError
    from creative_painting.wikiart.captions import DEFAULT_CAPTION
    from creative_painting.wikiart.shards import ShardSettings, write_shards

    if args.min_size < 1:
        raise UserError(f"--min-size must be at least 1, got {args.min_size}")
    settings = ShardSettings(size=args.size, shard_size=args.shard_size, min_size=args.min_size,
                             skip=frozenset(s.strip() for s in args.skip.split(",") if s.strip()),
                             template=args.template or DEFAULT_CAPTION).validate()
    latents = None
    if args.latents:  # the VAE is loaded by write_shards once the input is checked
        from functools import partial

        from creative_painting.training.latents import LatentEncoder

        latents = partial(LatentEncoder, args.latents)
    manifest = write_shards(args.source, args.out, settings, workers=args.workers, latents=latents,
                            balance=args.balance, progress=not args.no_progress)
    print(f"{manifest['samples']:,} samples in {len(manifest['shards'])} shards under {args.out} "
          f"({manifest['kind']}, {manifest['size']} px); {manifest['skipped']} broken files skipped, "
          f"{len(manifest['problems'])} problems listed in {args.out / 'shards.json'}")
    return 0
