"""Precision of the truth rule (`extension/support.py`) on labelled (candidate, source sentence) pairs.

    .venv/bin/python benchmarks/support_precision.py            # every pair of benchmarks/data/support_pairs.tsv

Each row of the set says whether the source sentence places this candidate's subject there, or dates its event then
(label y) or not (n). A rule accepts or refuses each pair; precision is the share of accepted pairs that are true,
recall the share of true pairs accepted. The baseline, measured in the same run, is the rule before issue 39: a place
or date named anywhere in the source sentence was taken as true. The set was written before the rule was run on it.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "support_pairs.tsv"


def read_pairs(path: Path = DATA) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def rates(accepted: list[bool], truth: list[bool]) -> tuple[float, float, int]:
    hits = sum(a and t for a, t in zip(accepted, truth, strict=True))
    return hits / max(1, sum(accepted)), hits / max(1, sum(truth)), sum(accepted)


def judge(rows: list[dict[str, str]]) -> list[bool]:
    from creative_painting.extension.entities import EntityTagger
    from creative_painting.extension.support import Support

    support = Support(EntityTagger().parser())
    return [support.check(r["candidate"], r["entity"], r["kind"], r["source"]).holds for r in rows]


def main() -> None:
    rows = read_pairs(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA)
    truth = [r["label"] == "y" for r in rows]
    ours = judge(rows)
    named = [r["entity"].lower().removeprefix("the ") in r["source"].lower() for r in rows]
    print(f"{len(rows)} pairs, {sum(truth)} true; COVERAGE was set on the odd-numbered pairs, the even ones are held out")
    print(f"{'rule':34s} {'precision':>9s} {'recall':>7s} {'accepted':>8s}")
    for name, accepted in (("named in the source (before)", named), ("bound by the parse (support.py)", ours)):
        p, r, n = rates(accepted, truth)
        print(f"{name:34s} {p:9.3f} {r:7.3f} {n:8d}")
        parts = {"place": lambda r: r["kind"] == "place", "date": lambda r: r["kind"] == "date",
                 "odd pairs (tuned on)": lambda r: int(r["id"]) % 2 == 1,
                 "even pairs (held out)": lambda r: int(r["id"]) % 2 == 0}
        for kind, chosen in parts.items():
            sel = [i for i, row in enumerate(rows) if chosen(row)]
            p, r, n = rates([accepted[i] for i in sel], [truth[i] for i in sel])
            print(f"  {kind:32s} {p:9.3f} {r:7.3f} {n:8d}")
    wrong = [row for row, a, t in zip(rows, ours, truth, strict=True) if a and not t]
    print(f"accepted but false ({len(wrong)}):")
    for row in wrong:
        print(f"  {row['id']:>4s} {row['kind']:5s} {row['entity']!r} in {row['candidate']!r} <- {row['source'][:90]!r}")


if __name__ == "__main__":
    main()
