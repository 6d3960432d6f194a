"""A sharded index against one index of the same dump (`wiki index --shards`): search time and agreement.

Both indexes answer the same 300 queries of `wiki_scale.py` in rounds whose order alternates; prints p50 / p99 of
`WikiIndex.search` (top 20) per round and their ratio to the one index's in the same round. Then agreement: each
shard ranks by its own BM25 statistics, so scores differ a little from the one index's and near-ties may change
places. Printed: queries with the identical top 20, the mean share of the one index's top 20 found in the sharded
one, the relative difference of a sentence's score in both, and how many of the one index's hits that score 2 % or
more above its 20th are missing from the sharded top 20 (hits that a small score change cannot explain away).

    .venv/bin/python benchmarks/wiki_shards.py ONE SHARDED [--rounds 4]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wiki_query import open_warm  # noqa: E402


def timed(wiki, texts: list[str]) -> tuple[float, float, list]:
    times, hits = [], []
    for text in texts:
        start = time.perf_counter()
        hits.append(wiki.search(text, 20))
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.99 * (len(times) - 1))], hits


def agreement(one: list, sharded: list) -> str:
    identical = sum([(h.title, h.text) for h in a] == [(h.title, h.text) for h in b] for a, b in zip(one, sharded,
                                                                                                     strict=True))
    shares, diffs, clear, missing = [], [], 0, 0
    for a, b in zip(one, sharded, strict=True):
        if not a:
            continue
        scores = {(h.title, h.text): h.score for h in b}
        shares.append(sum((h.title, h.text) in scores for h in a) / len(a))
        diffs += [abs(scores[h.title, h.text] - h.score) / h.score for h in a if (h.title, h.text) in scores]
        for h in a:
            if h.score >= 1.02 * a[-1].score:
                clear += 1
                missing += (h.title, h.text) not in scores
    diffs.sort()
    return (f"identical top 20: {identical} of {len(one)} queries; mean share of the one index's top 20 found: "
            f"{statistics.mean(shares):.3f}; score difference of a sentence in both: median {statistics.median(diffs):.2%}, "
            f"p99 {diffs[int(0.99 * (len(diffs) - 1))]:.2%}; hits 2 % above the 20th missing: {missing} of {clear}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("one", type=Path)
    parser.add_argument("sharded", type=Path)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    if args.rounds < 1 or args.queries < 20:
        parser.error("--rounds must be 1 or more, --queries 20 or more")
    wikis, texts = open_warm(parser, [args.one, args.sharded], args.queries)
    print(f"one: {args.one} ({wikis[0].num_docs:,} sentences, {len(wikis[0].shards)} shard); "
          f"sharded: {args.sharded} ({wikis[1].num_docs:,}, {len(wikis[1].shards)} shards)")
    for r in range(args.rounds):
        order = (0, 1) if r % 2 == 0 else (1, 0)
        result = {i: timed(wikis[i], texts) for i in order}
        (p50, p99, one), (s50, s99, sharded) = result[0], result[1]
        print(f"round {r} ({'one first' if order[0] == 0 else 'sharded first'}): one p50 {p50:.2f} p99 {p99:.2f} ms; "
              f"sharded p50 {s50:.2f} ({s50 / p50:.2f}x) p99 {s99:.2f} ({s99 / p99:.2f}x)", flush=True)
    print(agreement(one, sharded))


if __name__ == "__main__":
    main()
