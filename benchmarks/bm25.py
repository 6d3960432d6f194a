"""BM25 engines on a generated Zipfian corpus: tantivy (ours, on disk) against bm25s and rank_bm25.

Each engine runs in its own process so that its peak memory (max RSS) is its own. Reports index
build passages/s, peak memory, query latency p50/p95 and the top-10 overlap with tantivy, all on the
same passages and queries, with ratios against tantivy measured in the same run.

    .venv/bin/python benchmarks/bm25.py [--passages 1000000] [--queries 50] [--engines tantivy,bm25s,rank_bm25]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import statistics
import tempfile
import time

import numpy as np

VOCAB = 50_000


def corpus(n: int, seed: int = 0) -> list[str]:
    """Passages of 12-40 words drawn from a Zipf(1.1) vocabulary, like natural text's word frequencies."""
    rng = np.random.default_rng(seed)
    words = np.array([f"w{i}" for i in range(VOCAB)])
    ranks = np.arange(1, VOCAB + 1)
    p = ranks ** -1.1
    p /= p.sum()
    lengths = rng.integers(12, 41, n)
    tokens = words[rng.choice(VOCAB, size=int(lengths.sum()), p=p)]
    out, start = [], 0
    for length in lengths:
        out.append(" ".join(tokens[start : start + length]))
        start += length
    return out


def queries(n: int, seed: int = 1) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(f"w{int(i)}" for i in rng.integers(50, 5000, 3)) for _ in range(n)]


def run_tantivy(docs, qs):
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("text", stored=False)
    builder.add_integer_field("id", stored=True, fast=True)
    with tempfile.TemporaryDirectory() as tmp:
        index = tantivy.Index(builder.build(), path=tmp)
        start = time.perf_counter()
        writer = index.writer(heap_size=256 * 2**20, num_threads=1)
        for i, d in enumerate(docs):
            writer.add_document(tantivy.Document(text=d, id=i))
        writer.commit()
        writer.wait_merging_threads()
        build = time.perf_counter() - start
        index.reload()
        searcher = index.searcher()
        tops, lat = [], []
        for q in qs:
            t = time.perf_counter()
            hits = searcher.search(index.parse_query(q, ["text"]), 10).hits
            tops.append([searcher.doc(a)["id"][0] for _, a in hits])
            lat.append(time.perf_counter() - t)
    return build, lat, tops


def run_bm25s(docs, qs):
    import bm25s

    start = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(docs, stopwords=None, show_progress=False), show_progress=False)
    build = time.perf_counter() - start
    tops, lat = [], []
    for q in qs:
        t = time.perf_counter()
        ids, _ = retriever.retrieve(bm25s.tokenize([q], stopwords=None, show_progress=False), k=10, show_progress=False)
        tops.append([int(i) for i in ids[0]])
        lat.append(time.perf_counter() - t)
    return build, lat, tops


def run_rank_bm25(docs, qs):
    from rank_bm25 import BM25Okapi

    start = time.perf_counter()
    bm25 = BM25Okapi([d.split() for d in docs])
    build = time.perf_counter() - start
    tops, lat = [], []
    for q in qs:
        t = time.perf_counter()
        scores = bm25.get_scores(q.split())
        tops.append([int(i) for i in np.argsort(-scores)[:10]])
        lat.append(time.perf_counter() - t)
    return build, lat, tops


ENGINES = {"tantivy": run_tantivy, "bm25s": run_bm25s, "rank_bm25": run_rank_bm25}


def _child(name, n, nq, conn):
    docs, qs = corpus(n), queries(nq)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    build, lat, tops = ENGINES[name](docs, qs)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    conn.send((build, lat, tops, base, peak))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--engines", default="tantivy,bm25s,rank_bm25")
    args = parser.parse_args()
    print(f"{args.passages:,} Zipfian passages (vocabulary {VOCAB:,}), {args.queries} three-word queries")
    results = {}
    for name in args.engines.split(","):
        parent, child = mp.Pipe()
        proc = mp.get_context("spawn").Process(target=_child, args=(name, args.passages, args.queries, child))
        proc.start()
        results[name] = parent.recv()
        proc.join()
        build, lat, tops, base, peak = results[name]
        ref = results.get("tantivy")
        overlap = (statistics.mean(len(set(a) & set(b)) / 10 for a, b in zip(tops, ref[2], strict=True))
                   if ref else float("nan"))
        ms = sorted(x * 1000 for x in lat)
        ratio = f"  build time x{build / ref[0]:.2f} of tantivy" if ref and name != "tantivy" else ""
        print(f"{name:10s} build {args.passages / build:10,.0f} passages/s  peak RSS {peak / 1024:7.0f} MiB "
              f"(corpus alone {base / 1024:.0f})  query p50 {statistics.median(ms):8.2f} ms  "
              f"p95 {ms[int(0.95 * (len(ms) - 1))]:8.2f} ms  top-10 overlap with tantivy {overlap:.2f}{ratio}")


if __name__ == "__main__":
    main()
