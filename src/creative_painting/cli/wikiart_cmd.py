"""`creative-painting wikiart ...`: statistics of a WikiArt collection from its names."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("wikiart", help="WikiArt collection tools")
    wikiart = parser.add_subparsers(dest="wikiart_command", required=True, parser_class=type(parser))
    stats = wikiart.add_parser("stats", help="images, artists, styles, top artists (never opens images)")
    stats.add_argument("source", help="a wikiart/ folder, or ArtGAN CSV lists joined by commas")
    stats.add_argument("--json", action="store_true", help="print machine-readable JSON")
    stats.add_argument("--plot", type=Path, help="write the top-30 artists bar chart (the paper's Figure 3)")
    stats.add_argument("--top", type=int, default=30)
    stats.set_defaults(run=run_stats)


def run_stats(args: argparse.Namespace) -> int:
    from creative_painting.wikiart import collection_stats, iter_source, plot_top_artists

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
