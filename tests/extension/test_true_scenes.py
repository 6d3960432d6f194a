"""Issue 39: a place or date appears in a scene only where its source binds it to what the scene shows; scenes are
read from a sentence's own clause; the paper's topic opens with true, different scenes."""

from __future__ import annotations

import json

import pytest

from creative_painting.cli.main import main
from creative_painting.extension.clauses import main_clauses
from creative_painting.extension.entities import EntityTagger, is_real_date
from creative_painting.extension.support import Support

HOLLYWOOD = "China has also become a major hub of business for Hollywood studios."
INDIA = "It is the world's second-most populous country after India, with a population exceeding 1.4 billion."
ECONOMY = "China accounted for 19% of the global economy in 2025 in PPP terms, and around 17% in nominal terms in 2025."
MOON = ("The first human-made object to touch the Moon was Luna 2 in 1959, and the first crewed mission to land on "
        "the Moon was Apollo 11 in 1969.")
WALL = "Construction of the Berlin Wall was commenced by the government of the GDR on 13 August 1961."


@pytest.fixture(scope="module")
def tagger():
    return EntityTagger()


@pytest.fixture(scope="module")
def support(tagger):
    return Support(tagger.parser())


@pytest.mark.parametrize(("candidate", "entity", "kind", "source", "holds"), [
    # a preposition that places nothing: "after India" compares populations
    ("urbanization of china in India", "India", "place", INDIA, False),
    ("the world's populous country in India", "India", "place", INDIA, False),  # its words, but "in", not "after"
    ("a country after India", "India", "place", INDIA, True),  # the sentence's own words: true as it says them
    ("Migrant workers built roads in Guangdong", "Guangdong", "place",
     "Migrant workers built new roads in Guangdong.", True),
    # a name that modifies another noun places that noun, not the candidate's subject
    ("urbanization of china in Hollywood", "Hollywood", "place", HOLLYWOOD, False),
    ("business studios in Hollywood", "Hollywood", "place", HOLLYWOOD, True),
    # the subject of its clause: Beijing is the capital, not the scene of urbanization
    ("urbanization of china in Beijing", "Beijing", "place",
     "Beijing is the capital, while Shanghai is the most populous city by urban area.", False),
    ("the container port of Shenzhen", "Shenzhen", "place",
     "The Port of Shenzhen is the world's fourth-busiest container port.", True),
    # a date of a statistic dates no scene; the date of the event does
    ("urbanization of china with wide geographical area, 2025", "2025", "date", ECONOMY, False),
    ("China accounted for the global economy, 2025", "2025", "date", ECONOMY, False),  # its words; 2025 dates a share
    ("construction of the Berlin Wall, 1961", "1961", "date", WALL, True),
    # the heads of the clause, not any of its words: 1959 dates Luna 2's touching, 1969 the landing
    ("the first moon landing, 1959", "1959", "date", MOON, False),
    ("the first moon landing, 1969", "1969", "date", MOON, True),
    # the candidate's core, not its objects: Russia launched a satellite; no astronaut repairs one there
    ("an astronaut repairing a satellite in Russia", "Russia", "place",
     "Russia launched the first artificial satellite, Sputnik 1, in 1957.", False),
    ("the first artificial satellite launched in Russia", "Russia", "place",
     "Russia launched the first artificial satellite, Sputnik 1, in 1957.", True),
    # a place the source does not hold at all; a source about something else that holds the place
    ("the fall of the Berlin Wall in Rome", "Rome", "place", WALL, False),
    ("the fall of the Berlin Wall in Rome", "Rome", "place", "The fall of the Roman Empire began in Rome.", False),
    ("the fall of the Roman Empire in Rome", "Rome", "place", "The fall of the Roman Empire began in Rome.", True),
    # life dates in parentheses date no scene
    ("Hokusai carving a woodblock print, 1760", "1760", "date",
     "The Great Wave is a woodblock print by Hokusai (1760–1849), carved in 1831.", False),
])
def test_a_place_or_date_holds_only_where_its_source_binds_it_to_the_candidate(
        support, candidate, entity, kind, source, holds):
    verdict = support.check(candidate, entity, kind, source)
    assert verdict.holds is holds, verdict.why


def test_the_topics_own_places_are_the_users(support, tagger):
    text = "urbanization of china in Shenzhen"
    entities = tagger.tag([text])[0]
    assert support.unsupported(text, entities, [HOLLYWOOD], "urbanization of china") == ["Shenzhen"]
    assert support.unsupported(text, entities, [HOLLYWOOD], "urbanization of china in shenzhen") == []


def _clauses(tagger, text, title=""):
    return [c.text for c in main_clauses(next(iter(tagger.parser().pipe([text]))), title)]


def test_a_clause_keeps_its_subject_action_and_own_places_and_drops_statistics(tagger):
    assert _clauses(tagger, "Originally a collection of fishing villages, Shenzhen rapidly grew to be one of the "
                            "largest cities in China.") == ["Shenzhen rapidly grew to be one of the largest cities in China"]
    assert _clauses(tagger, "It has a population of 30,050,000 in the urban area as of 2026.", "Shanghai") == []
    assert _clauses(tagger, "It is located in Northern China.", "Beijing") == ["Beijing is located in Northern China"]


def test_a_definition_becomes_its_action_and_words_about_words_are_left_out(tagger):
    assert _clauses(tagger, "A barista is a person who prepares coffee-based drinks such as espresso.") == [
        "A barista prepares coffee-based drinks such as espresso"]
    assert _clauses(tagger, "A bicycle rider is called a cyclist or bicyclist.") == []
    assert _clauses(tagger, "Economic historians agree that the onset of the Industrial Revolution is the most "
                            "important event in human history.") == []


def test_a_number_in_a_name_is_not_a_statistic(tagger):
    assert _clauses(tagger, "Apollo 11 was the American spaceflight that first landed humans on the Moon.") == [
        "Apollo 11 first landed humans on the Moon"]


@pytest.fixture(scope="module")
def paper_topic(tmp_path_factory):
    """The paper's own topic, with the defaults and the built-in corpus, as a user runs it."""
    import os

    cache = tmp_path_factory.mktemp("cache")
    old = os.environ.get("CREATIVE_PAINTING_CACHE")
    os.environ["CREATIVE_PAINTING_CACHE"] = str(cache)
    try:
        import contextlib
        import io

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["extend", "urbanization of china", "--top", "3", "--json"]) == 0
    finally:
        if old is None:
            os.environ.pop("CREATIVE_PAINTING_CACHE")
        else:
            os.environ["CREATIVE_PAINTING_CACHE"] = old
    return json.loads(out.getvalue())["candidates"]


def test_the_papers_topic_opens_with_three_true_different_candidates(paper_topic, support):
    """No "in Hollywood", "in India" or "in Beijing": every place and date of the top 3 is bound by a source to what
    it shows; at most one keeps the topic as its subject; each names its sentences."""
    assert len(paper_topic) == 3
    texts = [c["text"] for c in paper_topic]
    assert sum(t.lower().startswith("urbanization of china") for t in texts) <= 1
    assert len({t.lower() for t in texts}) == 3
    for c in paper_topic:
        sources = c["source"].get("from", c["text"]).split(" | ")
        assert c["source"]["ids"] and c["source"]["title"]
        for e in c["entities"]:
            if e["kind"] == "spatial" or is_real_date(e["text"]):
                if e["text"].lower() in "urbanization of china" or c["source"]["kind"] == "wikipedia":
                    continue  # the topic's own, or the retrieved sentence itself
                kind = "place" if e["kind"] == "spatial" else "date"
                assert any(support.check(c["text"], e["text"], kind, s).holds for s in sources), (c["text"], e)
    assert not any(w in " ".join(texts) for w in ("Hollywood", "India", "at dusk, in Beijing"))


def test_the_truth_rule_is_precise_on_the_labelled_pairs(support):
    """benchmarks/data/support_pairs.tsv: 312 (candidate, source) pairs labelled by a helper session before the rule
    ran on them. Precision at least 0.95 (issue 39) overall and on the held-out even half; the rule it replaced,
    "named in the source", is 0.44."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "support_precision.py"
    spec = importlib.util.spec_from_file_location("support_precision", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rows = bench.read_pairs()
    accepted = [support.check(r["candidate"], r["entity"], r["kind"], r["source"]).holds for r in rows]
    truth = [r["label"] == "y" for r in rows]
    precision, recall, n = bench.rates(accepted, truth)
    assert len(rows) >= 150 and n >= 30 and precision >= 0.95, (precision, recall, n)
    held_out = [i for i, r in enumerate(rows) if int(r["id"]) % 2 == 0]
    assert bench.rates([accepted[i] for i in held_out], [truth[i] for i in held_out])[0] >= 0.95
