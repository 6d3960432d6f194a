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

`judging-4` (issue 39, the fourth set) is made in two steps, so that any commit can be one of the systems:
`run --system NAME --out FILE` writes one system's top 3 per topic (JSON lines; run it from a worktree of an
earlier commit with PYTHONPATH pointing at its src), and `merge FILE...` shuffles every distinct candidate
into one sheet, with `groups.tsv` listing each topic's items together for the rubric's "different scenes".

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
QUESTIONS_2 = ("relevant", "concrete", "true", "adds", "place_or_time")  # extension_rubric_2.md


def write_tsv(path: Path, header: list[str], rows: list[list]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, delimiter="\t")
        out.writerow(header)
        out.writerows(rows)


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
    write_tsv(folder / "sheet.tsv", ["item", "topic", "candidate", "its sources"],
              [[i, row["topic"], row["text"], row["sources"]] for i, row in enumerate(rows)])
    write_tsv(folder / "key.tsv", ["item", "system", "topic"],
              [[i, row["system"], row["topic"]] for i, row in enumerate(rows)])
    for name, values in proxies.items():
        rel, paint, secs = zip(*values, strict=True)
        print(f"{name:9s} relevance {sum(rel) / len(rel):.3f}  paintability {sum(paint) / len(paint):.3f}  "
              f"warm s/topic {sum(secs) / len(secs):.2f}")
    print(f"{len(rows)} candidates -> {folder / 'sheet.tsv'} (key apart)")


def run(system: str, out: Path, topic_file: Path) -> None:
    """One system's top 3 for every topic, with their sources, as JSON lines; prints its warm seconds a topic."""
    import json

    from creative_painting.extension.pipeline import Extender

    extender = Extender.from_options(top=3)
    extender.extend("a warm-up topic")
    started, n = time.perf_counter(), 0
    with open(out, "w", encoding="utf-8") as f:
        for topic in topics(topic_file):
            for r in extender.extend(topic):
                c = r.candidate
                sources = (c.origin or c.text).split(" | ") if c.kind != "wikipedia" else [c.text]
                titles = (c.title or "").split(" | ")
                f.write(json.dumps({"system": system, "topic": topic, "text": c.text, "kind": c.kind,
                                    "sources": [f"[{t}] {s}" for t, s in zip(titles, sources, strict=False)]}) + "\n")
            n += 1
    print(f"{system}: warm {(time.perf_counter() - started) / n:.2f} s/topic over {n} topics -> {out}")


def merge(files: list[Path], folder: Path, seed: int = 0) -> None:
    """Every distinct candidate of the runs once, shuffled, without system names; the key keeps who gave what."""
    import json

    rows: dict[tuple[str, str], dict] = {}
    for file in files:
        for line in file.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            row = rows.setdefault((r["topic"], r["text"]), {**r, "systems": []})
            row["systems"].append(r["system"])
    items = list(rows.values())
    random.Random(seed).shuffle(items)
    folder.mkdir(parents=True, exist_ok=True)
    write_tsv(folder / "sheet.tsv", ["item", "topic", "candidate", "its sources"],
              [[i, row["topic"], row["text"], " || ".join(row["sources"])] for i, row in enumerate(items)])
    write_tsv(folder / "key.tsv", ["item", "system", "topic", "systems"],
              [[i, row["systems"][0], row["topic"], ",".join(row["systems"])] for i, row in enumerate(items)])
    groups: dict[tuple[str, str], list[int]] = {}
    for i, row in enumerate(items):
        for system in row["systems"]:
            groups.setdefault((row["topic"], system), []).append(i)
    ordered = sorted(groups.items(), key=lambda kv: random.Random(f"{seed}{kv[0]}").random())
    write_tsv(folder / "groups.tsv", ["group", "topic", "items"],
              [[g, topic, ",".join(map(str, members))] for g, ((topic, _), members) in enumerate(ordered)])
    write_tsv(folder / "groups_key.tsv", ["group", "system"],
              [[g, system] for g, ((_, system), _) in enumerate(ordered)])
    print(f"{len(items)} candidates, {len(ordered)} groups -> {folder} (keys apart)")


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


def adds_element(topic: str, text: str, sources: list[str], places: list[str]) -> bool:
    """Proxy of the rubric's "adds": a content word beyond the topic's own, a place, a date and a time of day,
    that its source sentences hold ("left-behind children" from a sentence about them)."""
    import re

    from creative_painting.extension.support import ARTISTIC, stems

    rest = text
    for name in places:
        rest = rest.replace(name, " ")
    words = {w for w in re.findall(r"[A-Za-z][\w'-]+", rest) if w.lower() not in ARTISTIC}
    own = stems(re.findall(r"[\w'-]+", topic))
    return bool((stems(words) - own) & stems(re.findall(r"[\w'-]+", " ".join(sources))))


def spread(embedder, topic: str, texts: list[str]) -> float:
    """Proxy of "different scenes": mean pairwise 1 - cosine of the top 3 once the topic's own words are removed."""
    import re

    words = set(re.findall(r"\w+", topic.lower()))
    bare = [" ".join(w for w in re.findall(r"[\w'-]+", t) if w.lower() not in words) or "-" for t in texts]
    if len(bare) < 2:
        return 0.0
    v = embedder.encode(bare)
    pairs = [(i, j) for i in range(len(bare)) for j in range(i + 1, len(bare))]
    return sum(1 - float(v[i] @ v[j]) for i, j in pairs) / len(pairs)


def proxies(files: list[Path]) -> None:
    """The automatic proxies of each run, guarded by tests, never tuned on a judged set: the share of candidates
    that add a source element, the spread of each topic's top 3, and the share of places and dates the truth
    rule (extension/support.py) finds bound by a source."""
    import json

    from creative_painting.extension.embedding import load_embedder
    from creative_painting.extension.entities import EntityTagger, is_real_date
    from creative_painting.extension.support import Support

    embedder, tagger = load_embedder(), EntityTagger()
    support = Support(tagger.parser())
    print(f"{'system':8s} {'candidates':>10s} {'adds':>6s} {'spread':>7s} {'places+dates':>12s} {'bound':>6s}")
    for file in files:
        rows = [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines()]
        by_topic: dict[str, list[str]] = {}
        adds = found = bound = 0
        for r, ents in zip(rows, tagger.tag([r["text"] for r in rows]), strict=True):
            sources = [s.split("] ", 1)[-1] for s in r["sources"]]
            marked = [e for e in ents if (e.kind == "spatial" or is_real_date(e.text))
                      and e.text.lower() not in r["topic"].lower()]
            adds += adds_element(r["topic"], r["text"], sources, [e.text for e in marked])
            by_topic.setdefault(r["topic"], []).append(r["text"])
            if r["kind"] != "wikipedia":  # a retrieved sentence is its own source
                found += len(marked)
                bound += len(marked) - len(support.unsupported(r["text"], marked, sources, r["topic"]))
        gaps = [spread(embedder, t, texts) for t, texts in by_topic.items()]
        print(f"{rows[0]['system']:8s} {len(rows):10d} {adds / len(rows):6.2f} {sum(gaps) / len(gaps):7.3f} "
              f"{found:12d} {bound / max(1, found):6.2f}")


def read_tsv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def score2(folder: Path) -> None:
    """Rates by extension_rubric_2.md: good, adds, and per topic: passes (>= 2 good of 3) and tells a story (>= 2
    good, adding an element, and the group judged to hold >= 2 different scenes)."""
    judged = {r["item"]: {q: r[q].strip().lower() == "y" for q in QUESTIONS_2} for r in read_tsv(folder / "judgments.tsv")}
    key = {r["item"]: r for r in read_tsv(folder / "key.tsv")}
    different = {r["group"]: int(r["different"]) for r in read_tsv(folder / "group_judgments.tsv")}
    group_system = {r["group"]: r["system"] for r in read_tsv(folder / "groups_key.tsv")}
    group_items = {r["group"]: r["items"].split(",") for r in read_tsv(folder / "groups.tsv")}
    systems = sorted({s for r in key.values() for s in r["systems"].split(",")})
    topics = {r["topic"] for r in key.values()}  # a topic a system gave nothing for counts, and fails
    print(f"{'system':8s} {'good':>5s} {'relevant':>8s} {'concrete':>8s} {'true':>5s} {'adds':>5s} {'place':>6s} "
          f"{'topics >=2 good':>16s} {'topics telling a story':>23s}")
    for system in systems:
        groups = [g for g, s in group_system.items() if s == system]
        flat = [judged[i] for g in groups for i in group_items[g]]
        for a in flat:
            a["good"] = a["relevant"] and a["concrete"] and a["true"]

        def share(q, items=flat):
            return f"{100 * sum(a[q] for a in items) / len(items):.0f} %"

        passing = sum(sum(judged[i]["good"] for i in group_items[g]) >= 2 for g in groups)
        story = sum(sum(judged[i]["good"] and judged[i]["adds"] for i in group_items[g]) >= 2 and different[g] >= 2
                    for g in groups)
        n = len(topics)
        print(f"{system:8s} {share('good'):>5s} {share('relevant'):>8s} {share('concrete'):>8s} {share('true'):>5s} "
              f"{share('adds'):>5s} {share('place_or_time'):>6s} {f'{passing}/{n} = {100 * passing / n:.0f} %':>16s} "
              f"{f'{story}/{n} = {100 * story / n:.0f} %':>23s}")


def score_run(folder: Path, run_file: Path, topic_file: Path) -> None:
    """The rates of a run whose every candidate the judged sheet already holds (a later system that only reorders
    judged candidates), over every topic of the topic file: a topic given nothing fails. A topic's "different"
    count is the judged group's with the same items, where there is one."""
    import json

    item_of = {(r["topic"], r["candidate"]): r["item"] for r in read_tsv(folder / "sheet.tsv")}
    judged = {r["item"]: {q: r[q].strip().lower() == "y" for q in QUESTIONS_2} for r in read_tsv(folder / "judgments.tsv")}
    good = {i: a["relevant"] and a["concrete"] and a["true"] for i, a in judged.items()}
    groups = {frozenset(r["items"].split(",")): r["group"] for r in read_tsv(folder / "groups.tsv")}
    different = {r["group"]: int(r["different"]) for r in read_tsv(folder / "group_judgments.tsv")}
    by_topic: dict[str, list[str]] = {t: [] for t in topics(topic_file)}
    for line in run_file.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        by_topic[r["topic"]].append(item_of[(r["topic"], r["text"])])  # KeyError: a candidate nobody judged
    flat = [i for items in by_topic.values() for i in items]
    passing = sum(sum(good[i] for i in items) >= 2 for items in by_topic.values())
    story = sum(different.get(groups.get(frozenset(items), ""), 0) >= 2
                and sum(good[i] and judged[i]["adds"] for i in items) >= 2 for items in by_topic.values())
    n = len(by_topic)
    print(f"{run_file.stem}: {len(flat)} candidates, good {100 * sum(good[i] for i in flat) / len(flat):.0f} %, "
          f"topics >= 2 good "
          f"{passing}/{n} = {100 * passing / n:.0f} %, telling a story {story}/{n}, "
          f"topics with no candidate {sum(not items for items in by_topic.values())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["sheet", "score", "run", "merge", "score2", "score-run", "proxies"])
    parser.add_argument("files", nargs="*", type=Path, help="merge: the runs' JSON lines")
    parser.add_argument("--system", default="now", help="run: the system's name in the key")
    parser.add_argument("--out", type=Path, help="run: where its JSON lines go")
    parser.add_argument("--topics", type=Path, default=DATA / "extension_topics.txt", help="one topic a line")
    parser.add_argument("--folder", type=Path, default=FOLDER, help="where the sheet, key and judgments are")
    args = parser.parse_args()
    if args.step == "sheet":
        sheet(args.folder, args.topics)
    elif args.step == "run":
        run(args.system, args.out, args.topics)
    elif args.step == "merge":
        merge(args.files, args.folder)
    elif args.step == "score2":
        score2(args.folder)
    elif args.step == "score-run":
        for file in args.files:
            score_run(args.folder, file, args.topics)
    elif args.step == "proxies":
        proxies(args.files)
    else:
        score(args.folder)


if __name__ == "__main__":
    main()
