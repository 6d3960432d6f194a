"""`creative-painting wiki index SOURCE INDEX_DIR`: a BM25 index of Wikipedia for prompt extension."""

from __future__ import annotations

import argparse
from pathlib import Path

from creative_painting.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("wiki", help="Wikipedia index for prompt extension")
    wiki = parser.add_subparsers(dest="wiki_command", required=True, parser_class=type(parser))
    index = wiki.add_parser("index", help="index a dump (.xml[.bz2]), wikiextractor .jsonl, or wikipedia .parquet")
    index.add_argument("source", type=Path, help="a Wikipedia dump (*-pages-articles*.xml[.bz2]), JSONL or parquet of title and text")
    index.add_argument("index_dir", type=Path, help="folder for the index (resumed if interrupted)")
    index.add_argument("--max-sentences", type=int, default=0, help="index only the first N sentences per article")
    index.add_argument("--commit-every", type=int, default=5000,
                       help="articles between commits: what a killed build resumes from (default 5000)")
    index.add_argument("--heap-mb", type=int, default=256, help="tantivy writer memory before it flushes a segment")
    index.add_argument("--workers", type=int, default=None,
                       help="processes that parse a multistream dump (default: this machine's cores; other formats "
                            "are read in one)")
    index.add_argument("--shards", type=int, default=None,
                       help="indexes searched side by side, one a core (default: this machine's cores, at most "
                            "one per 16 MB of --heap-mb, for a multistream dump over 256 MB, about a hundredth of "
                            "Wikipedia, else 1; a resumed build: its own); each ranks by its own BM25 statistics")
    index.add_argument("--no-progress", action="store_true", help="no progress bar (for logs and scripts)")
    index.set_defaults(run=run_index)


def run_index(args: argparse.Namespace) -> int:
    from creative_painting.extension.corpus import is_multistream_dump, iter_articles, resumable_at
    from creative_painting.extension.index import build_index
    from creative_painting.files import check_location
    from creative_painting.parallel import usable_cores

    workers = usable_cores() if args.workers is None else args.workers
    if not 1 <= workers <= 256:
        raise UserError(f"--workers must be in 1..256, got {workers}")
    if args.commit_every < 1:
        raise UserError(f"--commit-every must be 1 or more, got {args.commit_every}")
    articles = iter_articles(args.source, workers)  # checks the source before the index folder is touched
    dump_bytes = args.source.stat().st_size if is_multistream_dump(args.source) else 0
    check_location(args.index_dir)
    state = build_index(articles, args.index_dir, source=str(args.source.resolve()), max_sentences=args.max_sentences,
                        heap_bytes=args.heap_mb * 2**20, progress=not args.no_progress, commit_every=args.commit_every,
                        reopen=resumable_at(args.source, workers),
                        source_bytes=dump_bytes, shards=args.shards)
    if state.get("complete"):
        print(f"{args.index_dir} is already a complete index of {state['articles']:,} articles; nothing to do")
    else:
        print(f"{state['articles']:,} articles, {state['sentences']:,} sentences indexed in {args.index_dir}")
    return 0
