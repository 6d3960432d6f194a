"""`--scoring scene` against `paper`, on sentences written for these tests; shortening; the paintability model."""

import json
import math

import numpy as np
import pytest

from creative_painting.cli.main import main
from creative_painting.errors import UserError
from creative_painting.extension import EntityTagger, TfidfModel, load_embedder
from creative_painting.extension.candidate import Candidate
from creative_painting.extension.scoring import Weights, score_candidates
from creative_painting.extension.shorten import clip_length, shorten

PROMPT = "the harbour of marseille"
SCENE = "Fishing boats crowd the harbour of Marseille, France, at dawn in the summer of 1890."  # France: spaCy tags Marseille ORG
DEFINITION = ("The harbour of Marseille is a seaport that is defined as the principal commercial port of France "
              "and is classified as a major European port.")
LIST = ("The harbour of Marseille trades with Spain, Italy, Greece, Turkey, Egypt, Tunisia, Algeria, Morocco, "
        "Lebanon, Cyprus, Malta and Portugal.")


@pytest.fixture(scope="module")
def embedder():
    return load_embedder()


@pytest.fixture(scope="module")
def ranked(embedder):
    texts = [SCENE, DEFINITION, LIST]
    tfidf = TfidfModel.fit([*texts, PROMPT, "a painting of a port", "a city by the sea"])
    candidates = [Candidate(t, "wikipedia", "Marseille") for t in texts]

    def rank(scoring, **weights):
        return score_candidates(PROMPT, candidates, tfidf=tfidf, embedder=embedder, tagger=EntityTagger(),
                                scoring=scoring, weights=Weights(**weights))
    return rank


def test_the_scene_outranks_the_definition_and_the_list_under_scene_scoring(ranked):
    order = [s.candidate.text for s in ranked("scene")]
    assert order[0] == SCENE
    paper = [s.candidate.text for s in ranked("paper")]
    assert paper[0] == LIST  # twelve countries are twelve entities under the paper's formula


def test_paper_scoring_is_exactly_the_papers_sum(ranked):
    for s in ranked("paper", l1=0.7, l2=0.3):
        assert set(s.terms) == {"tfidf", "cosine", "entities"} and s.terms["entities"] == len(s.entities)
        assert s.score == s.terms["tfidf"] + 0.7 * s.terms["cosine"] + 0.3 * len(s.entities)


def test_scene_terms_are_reported_and_the_sum_is_exact(ranked):
    for s in ranked("scene", l1=0.5, l2=0.2, l3=0.4, l4=2.0):
        t = s.terms
        assert t["entity_kinds"] == len({e.kind for e in s.entities}) <= 2
        assert 0 <= t["paintability"] <= 1 and t["overflow"] == 0
        assert s.score == t["tfidf"] + 0.5 * t["cosine"] + 0.2 * t["entity_kinds"] + 0.4 * t["paintability"] - 2.0 * t["overflow"]
    by_text = {s.candidate.text: s.terms for s in ranked("scene")}
    assert by_text[SCENE]["entity_kinds"] == 2 and by_text[LIST]["entity_kinds"] == 1  # saturates
    assert by_text[SCENE]["paintability"] > 10 * by_text[DEFINITION]["paintability"]  # measured 0.45 and 0.009


def test_scene_json_names_the_formula_and_recomputes_paintability_from_the_shipped_weights(small_index, capsys):
    from importlib import resources

    assert main(["extend", "shenzhen in 1979", "--index", str(small_index), "--json", "--t5", "none",
                 "--dialog", "none", "--top", "20"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["scoring"] == "scene" and out["weights"] == {"l1": 1.0, "l2": 0.2, "l3": 0.5, "l4": 1.0}
    model = json.loads(resources.files("creative_painting.extension").joinpath("data/paintability.json").read_text())
    w, b = np.asarray(model["weights"], dtype=np.float64), model["bias"]
    embedder = load_embedder()
    for c in out["candidates"]:
        t = c["terms"]
        assert c["formula"] == "tfidf + l1*cosine + l2*entity_kinds + l3*paintability - l4*overflow"
        v = embedder.encode([c["text"]])[0].astype(np.float64)
        assert t["paintability"] == pytest.approx(1 / (1 + math.exp(-(v @ w + b))), abs=1e-4)
        assert c["score"] == pytest.approx(t["tfidf"] + t["cosine"] + 0.2 * t["entity_kinds"]
                                           + 0.5 * t["paintability"] - t["overflow"], abs=1e-9)
        assert c["clip_tokens"] <= 77


def test_the_shipped_paintability_model_is_small_documented_and_accurate():
    from importlib import resources

    data = json.loads(resources.files("creative_painting.extension").joinpath("data/paintability.json").read_text())
    assert len(data["weights"]) == 384 and data["embedder"] == "all-MiniLM-L6-v2"
    assert data["held_out_accuracy"] >= 0.95 and data["judge_accuracy"] >= 0.9
    assert "train_paintability.py" in data["trained_on"]["script"]


def test_paintability_refuses_vectors_of_another_embedder():
    from creative_painting.extension.paintability import load_paintability

    with pytest.raises(UserError, match="384-d"):
        load_paintability()(np.zeros((2, 768), dtype=np.float32))


LONG = ("The Industrial Revolution, sometimes called the First Industrial Revolution in contrast to the subsequent "
        "Second Industrial Revolution, was a transitional period of the global economy toward more widespread, "
        "efficient and stable manufacturing processes (a period of change), which happened in Great Britain, "
        "continental Europe, and the United States, from around 1760 to about 1820–1840, and which changed the "
        "lives of workers, farmers, engineers and merchants in ways that historians still debate today.")


def test_a_long_candidate_is_shortened_to_fit_and_keeps_its_places_and_times():
    entities = EntityTagger().tag([LONG])[0]
    assert clip_length(LONG) > 77
    short = shorten(LONG, entities)
    assert clip_length(short) <= 77 and len(short) < len(LONG)
    assert "(a period of change)" not in short  # parentheticals go first
    assert "sometimes called" not in short  # then the apposition that names nothing
    assert short.startswith("The Industrial Revolution was a transitional period")
    assert all(place in short for place in ("Great Britain", "United States", "1760"))
    assert shorten(SCENE, []) == SCENE  # what fits is left alone


def test_a_trailing_clause_is_cut_where_the_most_entities_survive():
    text = "; ".join(["the band played on and on"] * 6 + ["crowds gathered in Paris in 1889"]
                     + ["the band played on and on"] * 6) + "."
    short = shorten(text, EntityTagger().tag([text])[0])
    assert clip_length(short) <= 77 and "Paris in 1889" in short
    assert short.endswith("; the band played on and on.") and text.startswith(short[:-1])  # cut at a boundary
    assert clip_length(short.removesuffix("; the band played on and on.") + "; the band played on and on"
                       + "; the band played on and on.") > 77  # the longest prefix that fits


def test_scene_scoring_shortens_before_scoring_and_keeps_the_original(embedder):
    tfidf = TfidfModel.fit([LONG, SCENE, PROMPT])
    (scored,) = score_candidates("industrial revolution", [Candidate(LONG, "wikipedia", "Industrial Revolution")],
                                 tfidf=tfidf, embedder=embedder, tagger=EntityTagger(), scoring="scene")
    assert scored.candidate.origin == LONG and scored.candidate.text != LONG
    assert scored.measures["clip_tokens"] <= 77 and scored.terms["overflow"] == 0
    assert scored.to_json()["source"]["from"] == LONG
    (paper,) = score_candidates("industrial revolution", [Candidate(LONG, "wikipedia")], tfidf=tfidf,
                                embedder=embedder, tagger=EntityTagger(), scoring="paper")
    assert paper.candidate.text == LONG and paper.measures["clip_tokens"] > 77  # the paper's: unchanged


@pytest.mark.parametrize(("args", "message"), [
    (["--rewrite", "11"], "--rewrite must be in 0..10"),
    (["--rewrite", "2", "--chat", "gemma"], "needs an instruction model"),
    (["--l3", "nan"], "--l3 must be a finite number"),
])
def test_scene_options_bad_input_is_one_line(args, message, small_index, capsys):
    assert main(["extend", "x", "--index", str(small_index), "--t5", "none", "--dialog", "none", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
