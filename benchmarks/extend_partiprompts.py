"""Prompt extension over all 1,632 PartiPrompts: `--scoring paper` and `--scoring scene` side by side.

For each scoring, over the top 3 candidates of every prompt: the share that fits CLIP's 77 tokens, the share
with at least one place or time, the share that are enumerations (more than 5 entities), the mean
paintability, and prompts per second. Baseline in the same run: retrieval alone (BM25, no scoring). The
judges are fixed in this file, before any run.

With `--rewrite-sample N` (default 20), N prompts spread evenly over the file also go through `--rewrite 3` with the bundled
SmolLM2-135M-Instruct: its seconds per prompt, the same measures over its rewritten candidates, and 10 of its
outputs next to the sentences they came from, good and bad alike.

    .venv/bin/python benchmarks/extend_partiprompts.py [--index DIR] [--limit N] [--rewrite-sample 20]
"""

from __future__ import annotations

import argparse
import csv
import statistics
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
from creative_painting.extension.bundled_lms import bundled_smollm2
from creative_painting.extension.generators import SceneRewriter
from creative_painting.extension.scenes import SceneComposer

DEFAULT_PROMPTS = Path(__file__).resolve().parents[2] / "shared" / "data" / "prompts" / "PartiPrompts.tsv"
TOP = 3
ENUMERATION = 5  # more entities than this: a list, not a scene


def measures(results: list) -> dict[str, float]:
    n = max(1, len(results))
    return {"fits 77 tokens": sum(r.measures["clip_tokens"] <= 77 for r in results) / n,
            "has a place or time": sum(bool(r.entities) for r in results) / n,
            "enumeration (>5 entities)": sum(len(r.entities) > ENUMERATION for r in results) / n,
            "mean paintability": statistics.fmean(r.measures["paintability"] for r in results) if results else 0.0}


def run(extender: Extender, prompts: list[str], desc: str):
    """The top 3 of each prompt, in prompt order, and seconds per prompt."""
    tops = []
    start = time.perf_counter()
    for p in tqdm(prompts, desc=desc, unit="prompt"):
        tops.append(extender.extend(p)[:TOP])
    return tops, (time.perf_counter() - start) / len(prompts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=Path, default=DEFAULT_PROMPTS)
    parser.add_argument("--index", type=Path, help="default: the built-in Vital Articles index")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--rewrite-sample", type=int, default=20)
    args = parser.parse_args()

    with open(args.prompts, encoding="utf-8", newline="") as f:
        prompts = [row["Prompt"] for row in csv.DictReader(f, delimiter="\t") if row.get("Prompt", "").strip()]
    prompts = prompts[: args.limit or None]
    index = WikiIndex(args.index or builtin_index())
    tfidf, embedder, tagger = TfidfModel.load(index.tfidf_path), load_embedder(), EntityTagger()
    extenders = {s: Extender(index, tfidf, embedder, tagger, settings=ExtendSettings(top=10, scoring=s))
                 for s in ("paper", "scene")}
    # the default since composed scenes: scene scoring over retrieved sentences and scenes composed from them
    extenders["scene + composed scenes (default)"] = Extender(index, tfidf, embedder, tagger,
                                                              settings=ExtendSettings(top=10, scoring="scene"),
                                                              composer=SceneComposer(embedder, tagger))
    for extender in extenders.values():
        extender.extend("warm up the models")

    start = time.perf_counter()
    for p in prompts:
        index.search(p, 30)
    retrieval = (time.perf_counter() - start) / len(prompts)

    rows = {name: run(extender, prompts, name) for name, extender in extenders.items()}
    sample = prompts[:: max(1, len(prompts) // args.rewrite_sample)][: args.rewrite_sample] if args.rewrite_sample else []
    if sample:
        rewriter = SceneRewriter(str(bundled_smollm2()))
        extender = Extender(index, tfidf, embedder, tagger, settings=ExtendSettings(top=10, rewrite=3),
                            rewriter=rewriter)
        extender.extend("warm up the models")
        top, seconds = run(extender, sample, "scene + rewrite 3")
        rows[f"scene + rewrite 3 ({len(sample)} prompts)"] = (top, seconds)

    print(f"\n{len(prompts):,} PartiPrompts, top {TOP} candidates each, index {index.dir}")
    names = list(measures([]))
    print("| scoring | " + " | ".join(names) + " | s/prompt | prompts/s | time vs retrieval alone |")
    print("|---|" + "---|" * (len(names) + 3))
    print(f"| retrieval alone (baseline) |{' |' * len(names)} {retrieval:.4f} | {1 / retrieval:,.0f} | 1 |")

    def row(name: str, tops: list, seconds: float | None = None) -> None:
        m = measures([r for top in tops for r in top])
        speed = f" {seconds:.3f} | {1 / seconds:.2f} | {seconds / retrieval:,.0f}x |" if seconds else " | | |"
        print(f"| {name} | " + " | ".join(f"{100 * v:.1f} %" if k != "mean paintability" else f"{v:.3f}"
                                        for k, v in m.items()) + " |" + speed)

    for name, (tops, seconds) in rows.items():
        row(name, tops, seconds)
    # scene's weights were chosen on the even-indexed prompts: the odd ones were never looked at.
    for name in ("paper", "scene", "scene + composed scenes (default)"):
        row(f"{name}, odd-indexed half only", rows[name][0][1::2])
    rewritten = [r for top in rows.get(f"scene + rewrite 3 ({len(sample)} prompts)", ([], 0))[0] for r in top
                 if r.candidate.kind == "rewrite"]
    if rewritten:
        print(f"\n{len(rewritten)} rewritten scenes reached a top {TOP}; the first 10:")
        for r in rewritten[:10]:
            print(f"- {r.candidate.text!r}\n  from {r.candidate.origin!r}")


if __name__ == "__main__":
    main()
