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

`dense` asks whether another way of searching the same corpus finds scenes that BM25 and the second hop miss: it
embeds every sentence of the built-in corpus with the default embedder (MiniLM), takes each topic's nearest
`--dense-k` sentences by cosine, and writes those not already on the first sheet to a second folder (sheet and
key as above, judged by the same rubric). Its key also says whether each sentence is among BM25's first
`DEEP` for the topic: a scene there is in reach of a rerank of a deeper BM25 list, which scales to a full
Wikipedia index, where embedding every sentence would not. `score --also FOLDER` counts both sheets' judgments
together.

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
DEEP = 200  # how deep a rerank of BM25's list could read


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


def corpus_sentences() -> list[tuple[str, str]]:
    """(title, sentence) for every sentence of the built-in index, split as `wiki index` splits them."""
    from creative_painting.extension.builtin import bundled_summaries
    from creative_painting.extension.corpus import iter_summaries
    from creative_painting.extension.markup import split_sentences

    return [(a.title, s) for a in iter_summaries(bundled_summaries())
            for s in (a.sentences if a.sentences is not None else split_sentences(a.text))]


def dense(topic_file: Path, first: Path, folder: Path, k: int, cache: Path, seed: int = 0) -> None:
    import numpy as np

    from creative_painting.extension.builtin import builtin_index
    from creative_painting.extension.embedding import load_embedder
    from creative_painting.extension.index import WikiIndex

    embedder = load_embedder()
    sentences = corpus_sentences()
    vectors = np.load(cache) if cache.is_file() else None
    if vectors is None or vectors.shape != (len(sentences), embedder.dimension):  # another corpus or dimension
        print(f"{cache}: not this corpus's vectors, embedding again" if vectors is not None else "embedding the corpus")
        from tqdm import tqdm

        texts = [s for _, s in sentences]
        vectors = np.concatenate([embedder.encode(texts[i:i + 512]) for i in tqdm(range(0, len(texts), 512))])
        np.save(cache, vectors)
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    seen = {(r["topic"], r["sentence"]): r["item"] for r in read_tsv(first / "sheet.tsv")}
    index = WikiIndex(builtin_index())
    rows, overlap = [], []
    for topic in topics(topic_file):
        deep = {p.text for p in index.search(topic, DEEP)}
        query = embedder.encode([topic])[0]
        cosine = vectors @ (query / np.linalg.norm(query))
        order = np.argsort(-cosine)[:k]
        new = [(rank, int(i)) for rank, i in enumerate(order) if (topic, sentences[i][1]) not in seen]
        overlap += [[topic, rank, seen[topic, sentences[i][1]]] for rank, i in enumerate(order)
                    if (topic, sentences[i][1]) in seen]
        rows += [{"topic": topic, "title": sentences[i][0], "text": sentences[i][1], "rank": rank,
                  "cosine": float(cosine[i]), "deep": sentences[i][1] in deep} for rank, i in new]
        print(f"{topic}: {len(new)} of its nearest {k} not on the first sheet")
    random.Random(seed).shuffle(rows)
    folder.mkdir(parents=True, exist_ok=True)
    write_tsv(folder / "sheet.tsv", ["item", "topic", "title", "sentence"],
              [[i, r["topic"], r["title"], r["text"]] for i, r in enumerate(rows)])
    write_tsv(folder / "key.tsv", ["item", "topic", "hop", "rank", "relevance", "kept", f"bm25_{DEEP}"],
              [[i, r["topic"], "dense", r["rank"], f"{r['cosine']:.3f}", "n", "y" if r["deep"] else "n"]
               for i, r in enumerate(rows)])
    write_tsv(folder / "overlap.tsv", ["topic", "rank", "first_item"], overlap)
    print(f"{len(rows)} new sentences of {len(topics(topic_file))} topics -> {folder} (key apart)")


def _judged(folder: Path) -> tuple[dict, dict]:
    key = {r["item"]: r for r in read_tsv(folder / "key.tsv")}
    judged = {r["item"]: {q: r[q].strip().lower() == "y" for q in ("relevant", "scene", "adds")}
              for r in read_tsv(folder / "judgments.tsv")}
    return key, judged


def score(folder: Path, topic_file: Path, also: list[Path] = ()) -> None:
    key, judged = _judged(folder)
    folders = [f.resolve().name for f in (folder, *also)]
    if len(set(folders)) < len(folders):
        raise ValueError(f"folders of the same name ({', '.join(folders)}) would count one sheet twice")
    by_cosine = set()  # the first sheet's items that are also among a topic's nearest by cosine
    for extra in also:  # another sheet of the same topics: its items renamed apart
        more_key, more_judged = _judged(extra)
        key |= {f"{extra.name}:{i}": r for i, r in more_key.items()}
        judged |= {f"{extra.name}:{i}": a for i, a in more_judged.items()}
        if (extra / "overlap.tsv").is_file():
            overlap = read_tsv(extra / "overlap.tsv")
            if any(r["first_item"] not in key or key[r["first_item"]]["topic"] != r["topic"] for r in overlap):
                raise ValueError(f"{extra}/overlap.tsv names items that are not {folder}'s")
            by_cosine |= {r["first_item"] for r in overlap}
    missing = set(key) - set(judged)
    if missing:
        print(f"{len(missing)} sentences not judged: the rates below count them as n")
    names = topics(topic_file)
    per = {t: {"n": 0, "relevant": 0, "scene": 0, "adds": 0, "kept scene": 0, "first-hop scene": 0,
                "dense scene": 0, "dense scene, BM25 deep": 0} for t in names}
    for item, k in key.items():
        a = judged.get(item, {"relevant": False, "scene": False, "adds": False})
        p = per[k["topic"]]
        p["n"] += 1
        p["relevant"] += a["relevant"]
        p["scene"] += a["scene"]
        p["adds"] += a["scene"] and a["adds"]
        p["kept scene"] += a["scene"] and k["kept"] == "y"
        p["first-hop scene"] += a["scene"] and k["hop"] == "1"
        p["dense scene"] += a["scene"] and (k["hop"] == "dense" or item in by_cosine)
        p["dense scene, BM25 deep"] += a["scene"] and k.get(f"bm25_{DEEP}") == "y"
    n = len(names)
    total = sum(p["n"] for p in per.values())
    print(f"{n} topics, {total} sentences; relevant {sum(p['relevant'] for p in per.values())}, "
          f"scenes {sum(p['scene'] for p in per.values())}, scenes that add {sum(p['adds'] for p in per.values())}")
    for label, field in (("scenes", "scene"), ("scenes that add", "adds"), ("scenes the filter keeps", "kept scene"),
                         ("scenes in the first hop", "first-hop scene"), ("scenes among the nearest by cosine", "dense scene"),
                         (f"new scenes by cosine within BM25's first {DEEP}", "dense scene, BM25 deep")):
        at_least = sum(p[field] >= 2 for p in per.values())
        print(f"topics with >= 2 {label}: {at_least}/{n} = {100 * at_least / n:.0f} %")
    print("\nper topic: sentences, relevant, scenes, scenes that add, scenes kept")
    for t, p in sorted(per.items(), key=lambda kv: -kv[1]["scene"]):
        print(f"  {p['n']:3d} {p['relevant']:3d} {p['scene']:3d} {p['adds']:3d} {p['kept scene']:3d}  {t}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["sheet", "dense", "score"])
    parser.add_argument("--topics", type=Path, default=DATA / "extension_topics_5.txt")
    parser.add_argument("--folder", type=Path, default=DATA / "ceiling")
    parser.add_argument("--first", type=Path, default=DATA / "ceiling", help="dense: the sheet it adds to")
    parser.add_argument("--dense-k", type=int, default=30)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/builtin-minilm.npy"), help="dense: the vectors")
    parser.add_argument("--also", type=Path, nargs="*", default=[], help="score: more judged folders")
    args = parser.parse_args()
    judged = [args.folder, *args.also] if args.step == "score" else [args.first] if args.step == "dense" else []
    needed = [args.topics] + [f / n for f in judged for n in ("key.tsv", "judgments.tsv")]
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        parser.error(f"no such file: {', '.join(missing)}")
    if args.step == "sheet":
        sheet(args.topics, args.folder)
    elif args.step == "dense":
        dense(args.topics, args.first, args.folder, args.dense_k, args.cache)
    else:
        try:
            score(args.folder, args.topics, args.also)
        except ValueError as e:  # sheets that cannot be counted together: the parser's one line, exit 2
            parser.error(str(e))


if __name__ == "__main__":
    main()
