"""Search time against index size (issue 42): a line fitted through indexes of one kind, projected to full size.

Of one kind: the same shard count, and each over `COMMON_ABOVE` (a million sentences), as a smaller index keeps its
common words in queries and is slower than a larger one.

Each index answers the same queries as `wiki_scale.py` (300 of 2-6 words) in rounds; a round measures every index
once, in an order that alternates, so that the machine's drift falls on all of them. Printed per index: p50 and p99
of `WikiIndex.search` (top 20) and the p50 of its parts (parsing the query; the shards' hits, ties included;
reading the stored documents). Then, per round, the least-squares line p50 = a + b * sentences, its R^2, and the
line at full size: ten times the largest index's sentences when it is 1/10 of Wikipedia. A projection, not a
measurement: it assumes the time keeps growing as it does over the sizes measured.

    .venv/bin/python benchmarks/wiki_trend.py INDEX INDEX [INDEX ...] [--rounds 4] [--full-sentences N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wiki_query import open_warm  # noqa: E402


def parts(wiki, texts: list[str]) -> dict[str, list[float]]:
    """Milliseconds of each query: whole (`search`), and its parse, hits and stored documents apart."""
    out: dict[str, list[float]] = {"search": [], "parse": [], "hits": [], "docs": []}
    for text in texts:
        start = time.perf_counter()
        wiki.search(text, 20)
        out["search"].append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        query = wiki.query(text)
        parsed = time.perf_counter()
        hits = wiki._hits(query, 20) if query is not None else []
        found = time.perf_counter()
        for _, shard, address in hits:
            wiki.shards[shard][1].doc(address)
        out["parse"].append((parsed - start) * 1000)
        out["hits"].append((found - parsed) * 1000)
        out["docs"].append((time.perf_counter() - found) * 1000)
    return out


def fit(sizes: list[int], p50s: list[float]) -> tuple[float, float, float]:
    """a, b and R^2 of the least-squares line p50 = a + b * size."""
    b, a = np.polyfit(sizes, p50s, 1)
    predicted = a + b * np.asarray(sizes)
    residual = float(np.sum((np.asarray(p50s) - predicted) ** 2))
    total = float(np.sum((np.asarray(p50s) - np.mean(p50s)) ** 2))
    return float(a), float(b), 1 - residual / total if total else 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("indexes", type=Path, nargs="+")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--full-sentences", type=int, default=0,
                        help="sentences at full size (default: 10x the largest index's, as 1/10 of Wikipedia)")
    args = parser.parse_args()
    if len(args.indexes) < 2 or args.rounds < 1 or args.queries < 20:
        parser.error("give 2 indexes or more, --rounds 1 or more, --queries 20 or more")
    wikis, texts = open_warm(parser, args.indexes, args.queries)
    sizes = [wiki.num_docs for wiki in wikis]
    full = args.full_sentences or 10 * max(sizes)
    print(f"{'index':<28} {'shards':>6} {'sentences':>11} {'round':>5} {'p50':>6} {'p99':>6} {'parse':>6} "
          f"{'hits':>6} {'docs':>6}   (ms)")
    for r in range(args.rounds):
        order = range(len(wikis)) if r % 2 == 0 else reversed(range(len(wikis)))
        measured = {i: parts(wikis[i], texts) for i in order}
        p50s = []
        for i, wiki in enumerate(wikis):
            times = measured[i]
            ms = sorted(times["search"])
            p50s.append(statistics.median(ms))
            print(f"{str(args.indexes[i])[-28:]:<28} {len(wiki.shards):>6} {wiki.num_docs:>11,} {r:>5} "
                  f"{p50s[-1]:>6.2f} {ms[int(0.99 * (len(ms) - 1))]:>6.2f} "
                  + " ".join(f"{statistics.median(times[k]):>6.2f}" for k in ("parse", "hits", "docs")))
        a, b, r2 = fit(sizes, p50s)
        print(f"round {r}: p50 = {a:.2f} ms + {b * 1e6:.3f} ms per million sentences (R^2 {r2:.3f}); "
              f"at {full:,} sentences: {a + b * full:.1f} ms (10x the largest: {10 * p50s[sizes.index(max(sizes))]:.1f})",
              flush=True)


if __name__ == "__main__":
    main()
