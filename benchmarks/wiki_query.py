"""Query time on built indexes (issue 42): `WikiIndex.search` against the baseline of every word over title and
text; `search_many` (queries side by side, as `extend`'s second hop) against one by one; and `extend` warm, its searches apart from the rest, against the baseline encoder (batches of 64 in the
order the sentences came). Same indexes, same queries, the two interleaved in one process.

Queries: 2-6 words drawn from the synthetic dump's vocabulary by frequency (as `wiki_scale.py`); topics: 2-4 such
words, so that every search finds passages. The synthetic words are letter strings that MiniLM cuts into about
3.5 times the tokens of a real sentence (median 85 against 24), so `extend`'s encoding time here is far above
what real sentences cost; its searches are what grows with the index.

    .venv/bin/python benchmarks/wiki_query.py INDEX [INDEX ...] [--queries 300] [--topics 11] [--rounds 2]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wiki_dump import Writer  # noqa: E402


def draw(n: int, lo: int, hi: int, seed: int) -> list[str]:
    rng, words = random.Random(seed), Writer(random.Random(0))
    return [" ".join(rng.choices(words.words, cum_weights=words.cum, k=rng.randint(lo, hi))) for _ in range(n)]


def open_warm(parser: argparse.ArgumentParser, paths: list[Path], queries: int) -> tuple[list, list[str]]:
    """The indexes (one that cannot be opened: the parser's one-line error) and `wiki_scale.latency`'s queries, each
    index warmed by the first 20 (the OS cache and the searcher)."""
    from creative_painting.errors import UserError
    from creative_painting.extension import WikiIndex

    try:
        wikis = [WikiIndex(path) for path in paths]
    except UserError as e:
        parser.error(str(e))
    texts = draw(queries, 2, 6, seed=1)
    for wiki in wikis:
        for text in texts[:20]:
            wiki.search(text, 20)
    return wikis, texts


def baseline_search(wiki, text: str, k: int = 20):
    """Before: a query of common words alone searched them over title and text (every sentence holds them)."""
    from creative_painting.extension.index import _WORD, Passage

    words = [w for w in _WORD.findall(text.lower()) if w not in ("and", "or", "not")]
    words = [w for w in words if w not in wiki.common] or words
    query = wiki.index.parse_query(" ".join(words), ["title", "text"], field_boosts={"title": wiki.title_boost})
    docs = [(score, wiki.shards[shard][1].doc(address)) for score, shard, address in wiki._hits(query, k)]
    passages = [Passage(doc["title"][0], doc["text"][0], float(score)) for score, doc in docs]
    return sorted(passages, key=lambda p: (-p.score, p.title, p.text))[:k]


def baseline_encode(self, texts: list[str]) -> np.ndarray:
    """Before: batches of 64 in the order given, each padded to its longest text."""
    import torch

    out = []
    for i in range(0, len(texts), 64):
        ids, mask = self.tokenize(texts[i : i + 64], self.max_length)
        with torch.inference_mode():
            hidden = self.hidden(ids, mask)
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        out.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
    return np.concatenate(out)


def percentiles(ms: list[float]) -> tuple[float, float]:
    ms = sorted(ms)
    return statistics.median(ms), ms[int(0.99 * (len(ms) - 1))]


def search_times(wiki, texts: list[str], rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"baseline": [], "now": []}
    for text in texts[:20]:
        wiki.search(text, 20), baseline_search(wiki, text)  # warm: the OS cache and the searcher
    for _ in range(rounds):
        for name, run in (("baseline", lambda t: baseline_search(wiki, t)), ("now", lambda t: wiki.search(t, 20))):
            for text in texts:
                start = time.perf_counter()
                run(text)
                times[name].append((time.perf_counter() - start) * 1000)
    return times


def side_by_side(wiki, texts: list[str], group: int = 8) -> float:
    """How much faster `search_many` runs groups of `group` queries (as `extend`'s second hop) than one by one."""
    groups = [texts[i : i + group] for i in range(0, len(texts), group)]
    start = time.perf_counter()
    for g in groups:
        [wiki.search(t, 6) for t in g]
    serial = time.perf_counter() - start
    start = time.perf_counter()
    for g in groups:
        wiki.search_many(g, 6)
    return serial / (time.perf_counter() - start)


def extend_times(index: Path, topics: list[str]) -> dict[str, list[float]]:
    """Seconds a topic, whole and in retrieval (the wall time of `Extender._retrieve`, whose searches run side by
    side), with the encoder of now and the baseline's."""
    from creative_painting.extension.embedding import MeanPoolEmbedder
    from creative_painting.extension.pipeline import Extender

    searching = [0.0]
    retrieve = Extender._retrieve

    def timed(self, texts: list[str], k: int):
        start = time.perf_counter()
        try:
            return retrieve(self, texts, k)
        finally:
            searching[0] += time.perf_counter() - start

    Extender._retrieve = timed
    extender = Extender.from_options(index=index)
    extender.extend("warm up the models")
    encode = MeanPoolEmbedder._encode
    out: dict[str, list[float]] = {"baseline": [], "now": [], "search": []}
    for topic in topics:
        for name, method in (("baseline", baseline_encode), ("now", encode)):
            MeanPoolEmbedder._encode = method
            extender.embedder._memo = type(extender.embedder._memo)()  # each topic encodes its sentences anew
            searching[0] = 0.0
            start = time.perf_counter()
            extender.extend(topic)
            out[name].append(time.perf_counter() - start)
        out["search"].append(searching[0])
    MeanPoolEmbedder._encode, Extender._retrieve = encode, retrieve
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("indexes", type=Path, nargs="+")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--topics", type=int, default=11)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    from creative_painting.extension import WikiIndex

    texts, topics = draw(args.queries, 2, 6, seed=1), draw(args.topics, 2, 4, seed=7)
    print(f"{'index':<28} {'sentences':>11} {'p50 base':>9} {'p50 now':>8} {'p99 base':>9} {'p99 now':>8} "
          f"{'p99 ratio':>9} {'x8 side by side':>15}")
    for path in args.indexes:
        wiki = WikiIndex(path)
        times = search_times(wiki, texts, args.rounds)
        (b50, b99), (n50, n99) = percentiles(times["baseline"]), percentiles(times["now"])
        print(f"{str(path)[-28:]:<28} {wiki.num_docs:>11,} {b50:>9.1f} {n50:>8.1f} {b99:>9.1f} {n99:>8.1f} "
              f"{n99 / b99:>9.2f} {side_by_side(wiki, texts):>14.2f}x", flush=True)
    if args.topics:
        ext = extend_times(args.indexes[-1], topics)
        base, now, search = (statistics.median(ext[k]) for k in ("baseline", "now", "search"))
        print(f"extend warm on {args.indexes[-1]}, {len(topics)} topics, median s/topic: baseline encoder {base:.2f}, "
              f"now {now:.2f} ({now / base:.2f}x; max {max(ext['now']):.2f}); of which searching {search:.3f} "
              f"(max {max(ext['search']):.3f})")


if __name__ == "__main__":
    main()
