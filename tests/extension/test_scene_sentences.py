"""The scene-sentence model: which retrieved sentences come first after the composed scenes (sentences written
for these tests, on a topic of no judged set)."""

import json
from dataclasses import replace

import numpy as np
import pytest

from creative_painting.extension import EntityTagger, TfidfModel, load_embedder
from creative_painting.extension.candidate import Candidate
from creative_painting.extension.scene_sentences import load_scene_sentences, scene_odds
from creative_painting.extension.scoring import Scored, score_candidates

TOPIC = "a blacksmith forging a sword"
SCENE = "The smith hammers the glowing blade on the anvil while sparks fly from the forge."
DEFINITION = "A blacksmith is a metalsmith who creates objects primarily from wrought iron or steel."
STATISTIC = "In 2019 about 12,000 people in the United Kingdom worked in forging, 3% fewer than in 2010."
OTHER_SENSE = "Sword is a 2011 television series about a detective who solves crimes in London."
UNRELATED = "Fishing boats return to the harbour at dusk with their nets."  # a scene, of another topic


@pytest.fixture(scope="module")
def embedder():
    return load_embedder()


def test_a_scene_of_the_topic_comes_before_a_definition_a_statistic_and_another_sense(embedder):
    texts = [SCENE, DEFINITION, STATISTIC, OTHER_SENSE, UNRELATED]
    scored = score_candidates(TOPIC, [Candidate(t, "wikipedia", "Blacksmith") for t in texts],
                              tfidf=TfidfModel.fit([*texts, TOPIC]), embedder=embedder, tagger=EntityTagger())
    odds = {s.candidate.text: o for s, o in zip(scored, scene_odds(embedder, TOPIC, scored).values(), strict=True)}
    assert max(odds, key=odds.get) == SCENE
    assert odds[SCENE] > odds[DEFINITION] + 1 and odds[SCENE] > odds[STATISTIC] + 1  # log-odds
    assert odds[DEFINITION] > odds[UNRELATED] + 0.5  # a sentence about the topic before a scene of something else


def test_the_sentences_after_the_scenes_follow_the_odds_not_the_score():
    from creative_painting.extension.pipeline import different_scenes

    def scored(text, kind, score):
        return Scored(Candidate(text, kind), (), {}, {}, "scene", score)

    own = f"{TOPIC} in the village smithy, as his father did."  # the topic in a setting: after every other one
    ranked = [scored(f"{TOPIC} at dawn", "scene", 3), scored(DEFINITION, "wikipedia", 2.5),
              scored(own, "wikipedia", 2.0), scored(SCENE, "wikipedia", 1.0)]
    odds = {id(ranked[1]): -2.0, id(ranked[2]): 3.0, id(ranked[3]): 1.5}
    ordered = different_scenes(TOPIC, ranked, odds)
    assert [s.candidate.text for s in ordered] == [f"{TOPIC} at dawn", SCENE, DEFINITION, own]
    # each sentence shows the chance (the logistic of its odds) it is ordered by; a composed scene has none
    assert [s.measures.get("scene_chance") for s in ordered] == [None, *(round(1 / (1 + np.exp(-o)), 3)
                                                                         for o in (1.5, -2.0, 3.0))]
    plain = different_scenes(TOPIC, ranked)  # no odds: the score's order, and no chance shown
    assert [s.candidate.text for s in plain][1] == DEFINITION and all("scene_chance" not in s.measures for s in plain)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_extend_orders_its_sentences_by_the_shipped_model(small_index, capsys, monkeypatch, sign):
    """A model that reads nothing but "holds a number" puts the sentences with digits first (or last): `extend`
    computes the model's signals and orders by them."""
    from creative_painting.cli.main import main
    from creative_painting.extension import scene_sentences

    shipped = load_scene_sentences()
    numbers_only = np.zeros_like(shipped.weights)
    numbers_only[scene_sentences.SIGNALS.index("number")] = 10 * sign
    monkeypatch.setattr(scene_sentences, "load_scene_sentences", lambda: replace(shipped, weights=numbers_only, bias=0))
    assert main(["extend", "urbanization of china", "--index", str(small_index), "--json", "--top", "20"]) == 0
    candidates = json.loads(capsys.readouterr().out)["candidates"]
    digits = [any(c.isdigit() for c in x["text"]) for x in candidates if x["source"]["kind"] == "wikipedia"]
    assert True in digits and False in digits  # the test corpus gives both kinds
    assert digits == sorted(digits, reverse=sign > 0)
    chances = [x["scene_chance"] for x in candidates if x["source"]["kind"] == "wikipedia"]
    assert chances == sorted(chances, reverse=True)  # the order the reader sees, beside the score
    assert main(["extend", "urbanization of china", "--index", str(small_index), "--top", "20"]) == 0
    assert "scene chance" in capsys.readouterr().out

