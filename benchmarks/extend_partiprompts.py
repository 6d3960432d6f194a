"""Prompt extension over all 1,632 PartiPrompts: prompts/s, and how many got a candidate with a place or a time.

Baseline in the same run: retrieval alone (BM25 top-k, no scoring), so the ratio shows what scoring
(TF-IDF, MiniLM, spaCy + regexes + gazetteer) costs.

    .venv/bin/python benchmarks/extend_partiprompts.py [--index DIR] [--limit N] [--top 5]
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

from tqdm import tqdm

from creative_painting.extension import (
    EntityTagger,
    Extender,
    ExtendSettings,
    TfidfModel,
    WikiIndex,
    load_embedder,
)
from creative_painting.extension.builtin import builtin_index

DEFAULT_PROMPTS = Path(__file__).resolve().parents[2] / "shared" / "data" / "prompts" / "PartiPrompts.tsv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=Path, default=DEFAULT_PROMPTS)
    parser.add_argument("--index", type=Path, help="default: the built-in Vital Articles index")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--top", type=int, default=5)
    args = parser.parse_args()

    with open(args.prompts, encoding="utf-8", newline="") as f:
        prompts = [row["Prompt"] for row in csv.DictReader(f, delimiter="\t") if row.get("Prompt", "").strip()]
    prompts = prompts[: args.limit or None]
    index = WikiIndex(args.index or builtin_index())
    extender = Extender(index, TfidfModel.load(index.tfidf_path), load_embedder(), EntityTagger(),
                        settings=ExtendSettings(top=args.top))
    extender.extend("warm up the models")

    start = time.perf_counter()
    for p in prompts:
        index.search(p, extender.settings.retrieve)
    retrieval_rate = len(prompts) / (time.perf_counter() - start)

    start = time.perf_counter()
    with_any = with_entity = with_both = 0
    for p in tqdm(prompts, desc="extend", unit="prompt"):
        results = extender.extend(p)
        with_any += bool(results)
        kinds = [{e.kind for e in r.entities} for r in results]
        with_entity += any(kinds)
        with_both += any(k == {"spatial", "temporal"} for k in kinds)
    rate = len(prompts) / (time.perf_counter() - start)
    n = len(prompts)
    print(f"{n:,} PartiPrompts, index {index.dir}")
    print(f"  retrieval only: {retrieval_rate:8.1f} prompts/s (baseline)")
    print(f"  full extension: {rate:8.1f} prompts/s   ratio vs retrieval only: {rate / retrieval_rate:.3f}")
    print(f"  prompts with >= 1 candidate: {with_any:,} ({100 * with_any / n:.1f} %)")
    print(f"  ... with a spatial or temporal entity in the top {args.top}: {with_entity:,} ({100 * with_entity / n:.1f} %)")
    print(f"  ... with one candidate holding both: {with_both:,} ({100 * with_both / n:.1f} %)")


if __name__ == "__main__":
    main()
