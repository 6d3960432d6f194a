"""Entity precision and recall on a labelled sample of sentences written for it (benchmarks/data/entity_sample.tsv),
including the mistakes seen in use: people named like cities, a title's "Fall", durations, "present-day"."""

from __future__ import annotations

from pathlib import Path

import pytest

from creative_painting.extension.entities import EntityTagger

SAMPLE = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "entity_sample.tsv"


def labelled() -> list[tuple[str, set[tuple[str, str]]]]:
    rows = []
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        text, _, gold = line.partition("\t")
        spans = {(g.split(":", 1)[0], _norm(g.split(":", 1)[1])) for g in gold.split(" | ") if g.strip()}
        rows.append((text, {("spatial" if k == "s" else "temporal", t) for k, t in spans}))
    return rows


def _norm(text: str) -> str:
    return text.strip().lower().removeprefix("the ")


def _match(kind: str, text: str, gold: set[tuple[str, str]]) -> bool:
    """The same kind, and one span inside the other ("1989" in "the fall of 1989" counts)."""
    return any(k == kind and (text in g or g in text) for k, g in gold)


def precision_recall(tagger: EntityTagger) -> tuple[float, float, list[str]]:
    rows = labelled()
    predicted = tagger.tag([text for text, _ in rows])
    right = wrong_count = found = 0
    wrong = []
    for (text, gold), ents in zip(rows, predicted, strict=True):
        for e in ents:
            if _match(e.kind, _norm(e.text), gold):
                right += 1
            else:
                wrong_count += 1
                wrong.append(f"{e.text} ({e.kind}) in {text!r}")
        found += sum(any(_match(k, _norm(e.text), {(k, g)}) for e in ents if e.kind == k) for k, g in gold)
    total_gold = sum(len(gold) for _, gold in rows)
    return right / max(1, right + wrong_count), found / total_gold, wrong


@pytest.fixture(scope="module")
def tagger():
    return EntityTagger()


def test_entity_precision_and_recall_on_the_labelled_sample(tagger):
    precision, recall, wrong = precision_recall(tagger)
    assert precision >= 0.9, wrong
    assert recall >= 0.8


@pytest.mark.parametrize("text", [
    "Gary Oldman starred in the film with Rita Moreno and Nina Hagen.",
    "He read Decline and Fall by Evelyn Waugh on the train.",
    "The company doubled its revenue over the past two years.",
    "The annual report was published in recent years.",
])
def test_people_titles_durations_and_relative_words_are_no_places_or_times(tagger, text):
    assert tagger.tag([text]) == [[]]


def test_a_durations_year_and_a_present_day_place_are_kept(tagger):
    kinds = {(e.kind, e.text) for e in tagger.tag(["The five-year plan began in 1953 in the Soviet Union."])[0]}
    assert ("temporal", "1953") in kinds and not any("five-year" in t for _, t in kinds)
