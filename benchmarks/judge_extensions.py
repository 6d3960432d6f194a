"""Blind judging of prompt extension: today's default against the composed scenes, on unseen topics.

    .venv/bin/python benchmarks/judge_extensions.py sheet   # run both systems, write an anonymous sheet and its key
    .venv/bin/python benchmarks/judge_extensions.py score   # read the judgments, print the rates
    .venv/bin/python benchmarks/judge_extensions.py sheet --topics benchmarks/data/extension_topics_2.txt \
        --folder benchmarks/data/judging-2                  # the second, held-out set of topics

`sheet` runs `extend TOPIC --top 3` two ways for every topic of benchmarks/data/extension_topics.txt:
`baseline` (`--no-compose`, the default before composed scenes) and `scenes` (the default now). It writes
`benchmarks/data/judging/sheet.tsv`: every candidate once, in a shuffled order, with its topic and the
source sentences it names, and no system; the key (item -> system) goes to `key.tsv`. A judge fills
`judgments.tsv` (item, relevant, concrete, true, place_or_time as y/n) by the rubric in
benchmarks/data/extension_rubric.md, reading the sheet only. `score` then joins the key and prints, for each
system, the share of good candidates (relevant, concrete and true), the share of topics with at least 2
good of 3, and the share with at least 2 of 3 holding a real place or time. It also prints the automatic
proxies of both systems (relevance to the whole topic, visibility), which a test can guard.

`judging-3` (the third set) compares three systems, one of them an earlier commit run from a git worktree;
its sheet holds each distinct candidate once and its key a `systems` column naming every system that gave
it, which `score` reads as well.
"""

from __future__ import annotations

import argparse
import csv
import random
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
FOLDER = DATA / "judging"
QUESTIONS = ("relevant", "concrete", "true", "place_or_time")


def topics(path: Path = DATA / "extension_topics.txt") -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def sheet(folder: Path = FOLDER, topic_file: Path = DATA / "extension_topics.txt", seed: int = 0) -> None:
    from creative_painting.extension.pipeline import Extender
    from creative_painting.extension.scenes import topic_relevance

    systems = {"baseline": Extender.from_options(top=3, compose=False), "scenes": Extender.from_options(top=3)}
    rows, proxies = [], {name: [] for name in systems}
    for topic in topics(topic_file):
        for name, extender in systems.items():
            started = time.perf_counter()
            found = extender.extend(topic)
            seconds = time.perf_counter() - started
            relevance = topic_relevance(extender.embedder, topic, [r.candidate.text for r in found])
            for r, rel in zip(found, relevance, strict=True):
                source = r.candidate.origin or r.candidate.text
                rows.append({"topic": topic, "text": r.candidate.text, "sources": f"[{r.candidate.title}] {source}",
                             "system": name})
                proxies[name].append((float(rel), r.measures["paintability"], seconds))
    random.Random(seed).shuffle(rows)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "sheet.tsv", "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, delimiter="\t")
        out.writerow(["item", "topic", "candidate", "its sources"])
        for i, row in enumerate(rows):
            out.writerow([i, row["topic"], row["text"], row["sources"]])
    with open(folder / "key.tsv", "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, delimiter="\t")
        out.writerow(["item", "system", "topic"])
        for i, row in enumerate(rows):
            out.writerow([i, row["system"], row["topic"]])
    for name, values in proxies.items():
        rel, paint, secs = zip(*values, strict=True)
        print(f"{name:9s} relevance {sum(rel) / len(rel):.3f}  paintability {sum(paint) / len(paint):.3f}  "
              f"warm s/topic {sum(secs) / len(secs):.2f}")
    print(f"{len(rows)} candidates -> {folder / 'sheet.tsv'} (key apart)")


def score(folder: Path = FOLDER) -> None:
    with open(folder / "key.tsv", encoding="utf-8") as f:
        key = {row["item"]: row for row in csv.DictReader(f, delimiter="\t")}
    with open(folder / "judgments.tsv", encoding="utf-8") as f:
        judged = {row["item"]: row for row in csv.DictReader(f, delimiter="\t")}
    missing = set(key) - set(judged)
    if missing:
        raise SystemExit(f"{len(missing)} items are not judged yet, e.g. {sorted(missing, key=int)[:5]}")
    by_system: dict[str, dict[str, list[dict[str, bool]]]] = {}
    for item, row in key.items():
        answers = {q: judged[item][q].strip().lower() == "y" for q in QUESTIONS}
        answers["good"] = answers["relevant"] and answers["concrete"] and answers["true"]
        # A key's `systems`: every system that gave this candidate for this topic, judged once for all of them.
        for system in (row.get("systems") or row["system"]).split(","):
            by_system.setdefault(system, {}).setdefault(row["topic"], []).append(answers)
    print(f"{'system':9s} {'good':>6s} {'relevant':>9s} {'concrete':>9s} {'true':>6s} {'place/time':>11s} "
          f"{'topics >=2 good':>16s} {'topics >=2 place/time':>22s}")
    for system, per_topic in sorted(by_system.items()):
        flat = [a for answers in per_topic.values() for a in answers]

        def share(q: str, items=flat) -> str:
            return f"{100 * sum(a[q] for a in items) / len(items):.0f} %"

        passing = sum(sum(a["good"] for a in answers) >= 2 for answers in per_topic.values())
        placed = sum(sum(a["place_or_time"] for a in answers) >= 2 for answers in per_topic.values())
        n = len(per_topic)
        print(f"{system:9s} {share('good'):>6s} {share('relevant'):>9s} {share('concrete'):>9s} {share('true'):>6s} "
              f"{share('place_or_time'):>11s} {f'{passing}/{n} = {100 * passing / n:.0f} %':>16s} "
              f"{f'{placed}/{n} = {100 * placed / n:.0f} %':>22s}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["sheet", "score"])
    parser.add_argument("--topics", type=Path, default=DATA / "extension_topics.txt", help="one topic a line")
    parser.add_argument("--folder", type=Path, default=FOLDER, help="where the sheet, key and judgments are")
    args = parser.parse_args()
    sheet(args.folder, args.topics) if args.step == "sheet" else score(args.folder)


if __name__ == "__main__":
    main()
