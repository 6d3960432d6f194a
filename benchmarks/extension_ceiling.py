"""What the built-in corpus holds for a topic: the ceiling of any extension that reads its sentences (issue 39).

    .venv/bin/python benchmarks/extension_ceiling.py sheet --topics benchmarks/data/extension_topics_5.txt \
        --folder benchmarks/data/ceiling
    .venv/bin/python benchmarks/extension_ceiling.py score --folder benchmarks/data/ceiling

`sheet` gathers, for every topic, every sentence that `extend` retrieves by default: BM25's top 30 for the topic
and the second hop (the names in the sentences about the topic, and the topic's nouns, each searched with the
topic's words), before any filter. It writes them shuffled to `sheet.tsv` (item, topic, title, sentence) and what
the system made of each to `key.tsv` (hop, rank, relevance, kept by the relevance filter). A blind judge fills
`judgments.tsv` by benchmarks/data/extension_ceiling_rubric.md (relevant, scene, adds).

How much of the ceiling a better choice among the sentences reaches: `scripts/train_scene_sentences.py`, which
trains on these judgments.

`score` prints the ceiling: the share of topics whose retrieved sentences hold at least 2 scenes (and 2 that add
an element), i.e. what a perfect extractive composer could reach; and how many of those scenes the relevance
filter keeps. A topic below 2 cannot pass issue 39's bar from these sentences without words they do not hold.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from judge_extensions import DATA, read_tsv, topics, write_tsv

FIRST = 30  # the default `--retrieve`


def sheet(topic_file: Path, folder: Path, seed: int = 0) -> None:
    from creative_painting.extension.pipeline import Extender
    from creative_painting.extension.scenes import SETTING, topic_relevance

    extender = Extender.from_options(top=3)
    rows = []
    for topic in topics(topic_file):
        first = extender._retrieve([topic], FIRST)
        second = extender._second_hop(topic, extender._relevant(topic, first, set()))
        pool: dict[str, tuple[int, int, object]] = {}
        for hop, found in ((1, first), (2, second)):
            for rank, c in enumerate(found):
                pool.setdefault(c.sources[0], (hop, rank, c))
        found = [c for _, _, c in pool.values()]
        relevance = topic_relevance(extender.embedder, topic, [c.text for c in found])
        for (hop, rank, c), r in zip(pool.values(), relevance, strict=True):
            rows.append({"topic": topic, "title": c.title or "", "text": c.text, "hop": hop, "rank": rank,
                         "relevance": float(r), "kept": float(r) >= SETTING})
        print(f"{topic}: {len(pool)} sentences ({sum(h == 1 for h, _, _ in pool.values())} first hop)")
    random.Random(seed).shuffle(rows)
    folder.mkdir(parents=True, exist_ok=True)
    write_tsv(folder / "sheet.tsv", ["item", "topic", "title", "sentence"],
              [[i, r["topic"], r["title"], r["text"]] for i, r in enumerate(rows)])
    write_tsv(folder / "key.tsv", ["item", "topic", "hop", "rank", "relevance", "kept"],
              [[i, r["topic"], r["hop"], r["rank"], f"{r['relevance']:.3f}", "y" if r["kept"] else "n"]
               for i, r in enumerate(rows)])
    print(f"{len(rows)} sentences of {len(topics(topic_file))} topics -> {folder} (key apart)")


def score(folder: Path, topic_file: Path) -> None:
    key = {r["item"]: r for r in read_tsv(folder / "key.tsv")}
    judged = {r["item"]: {q: r[q].strip().lower() == "y" for q in ("relevant", "scene", "adds")}
              for r in read_tsv(folder / "judgments.tsv")}
    missing = set(key) - set(judged)
    if missing:
        print(f"{len(missing)} sentences not judged: the rates below count them as n")
    names = topics(topic_file)
    per = {t: {"n": 0, "relevant": 0, "scene": 0, "adds": 0, "kept scene": 0, "first-hop scene": 0} for t in names}
    for item, k in key.items():
        a = judged.get(item, {"relevant": False, "scene": False, "adds": False})
        p = per[k["topic"]]
        p["n"] += 1
        p["relevant"] += a["relevant"]
        p["scene"] += a["scene"]
        p["adds"] += a["scene"] and a["adds"]
        p["kept scene"] += a["scene"] and k["kept"] == "y"
        p["first-hop scene"] += a["scene"] and k["hop"] == "1"
    n = len(names)
    total = sum(p["n"] for p in per.values())
    print(f"{n} topics, {total} sentences; relevant {sum(p['relevant'] for p in per.values())}, "
          f"scenes {sum(p['scene'] for p in per.values())}, scenes that add {sum(p['adds'] for p in per.values())}")
    for label, field in (("scenes", "scene"), ("scenes that add", "adds"), ("scenes the filter keeps", "kept scene"),
                         ("scenes in the first hop", "first-hop scene")):
        at_least = sum(p[field] >= 2 for p in per.values())
        print(f"topics with >= 2 {label}: {at_least}/{n} = {100 * at_least / n:.0f} %")
    print("\nper topic: sentences, relevant, scenes, scenes that add, scenes kept")
    for t, p in sorted(per.items(), key=lambda kv: -kv[1]["scene"]):
        print(f"  {p['n']:3d} {p['relevant']:3d} {p['scene']:3d} {p['adds']:3d} {p['kept scene']:3d}  {t}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["sheet", "score"])
    parser.add_argument("--topics", type=Path, default=DATA / "extension_topics_5.txt")
    parser.add_argument("--folder", type=Path, default=DATA / "ceiling")
    args = parser.parse_args()
    needed = [args.topics] + ([args.folder / n for n in ("key.tsv", "judgments.tsv")] if args.step == "score" else [])
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        parser.error(f"no such file: {', '.join(missing)}")
    if args.step == "sheet":
        sheet(args.topics, args.folder)
    else:
        score(args.folder, args.topics)


if __name__ == "__main__":
    main()
