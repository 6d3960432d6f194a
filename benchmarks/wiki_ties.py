"""How many hits beyond k `WikiIndex.search` reads at first (`index.TIES`), to find those that tie the k-th: a query
whose hit k + TIES still ties the k-th searches again with a limit four times larger. Each TIES value on the same
indexes and the same 300 queries as `wiki_scale.py`, in rounds whose order alternates (the first value of one round is
the last of the next, so neither side always finds the cache warmed by the other). Prints p50 / p99 per value, the
queries that searched again, and whether every query got the same hits as with the first value.

    .venv/bin/python benchmarks/wiki_ties.py INDEX [INDEX ...] [--ties 20 100] [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wiki_query import draw  # noqa: E402


def searched_again(wiki, text: str, k: int, ties: int) -> bool:
    """Whether the first search's last hit still ties the k-th (the case `_hits` searches again)."""
    found = wiki.first_hits(wiki.query(text), k + ties)
    scores = sorted((score for part in found for score, _ in part), reverse=True)
    return any(len(part) == k + ties and part[-1][0] >= scores[k - 1] for part in found)


def main() -> None:
    import creative_painting.extension.index as index_module
    from creative_painting.errors import UserError
    from creative_painting.extension import WikiIndex

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("indexes", type=Path, nargs="+")
    parser.add_argument("--ties", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    if args.rounds < 1 or args.queries < 20 or min(args.ties) < 1:
        parser.error("--rounds and --ties must be 1 or more, --queries 20 or more")
    texts = draw(args.queries, 2, 6, seed=1)  # wiki_scale.latency's queries
    for path in args.indexes:
        try:
            wiki = WikiIndex(path)
        except UserError as e:
            parser.error(str(e))
        for text in texts[:20]:
            wiki.search(text, 20)  # warm: the OS cache and the searcher
        again = {t: sum(searched_again(wiki, text, 20, t) for text in texts) for t in args.ties}
        first = None
        for r in range(args.rounds):
            line = []
            for ties in args.ties if r % 2 == 0 else args.ties[::-1]:
                index_module.TIES = ties
                times, hits = [], []
                for text in texts:
                    start = time.perf_counter()
                    hits.append(wiki.search(text, 20))
                    times.append((time.perf_counter() - start) * 1000)
                first = first or hits
                times.sort()
                same = sum(a == b for a, b in zip(hits, first, strict=True))
                line.append(f"TIES {ties}: p50 {statistics.median(times):.2f} p99 {times[int(0.99 * (len(times) - 1))]:.2f}"
                            f" ms, searched again {again[ties]}, same hits {same}")
            print(f"{path} ({wiki.num_docs:,} sentences) round {r}: " + "; ".join(line), flush=True)


if __name__ == "__main__":
    main()
