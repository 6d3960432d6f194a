"""Composed scenes: relevance to the whole topic, concrete things, and every place and date from a named source."""

from __future__ import annotations

import json
import re

import pytest

from creative_painting.cli.main import main
from creative_painting.extension.embedding import load_embedder
from creative_painting.extension.entities import EntityTagger
from creative_painting.extension.scenes import (
    RELEVANT,
    TIMES_OF_DAY,
    Concreteness,
    SceneComposer,
    Source,
    content_words,
    sentence_id,
    topic_relevance,
)

REMOTE_CONTROL = "A remote control is an electronic device used to operate another device from a distance."
HOME_OFFICE = "Many employees now work from home, using laptops and video calls instead of commuting to an office."


@pytest.fixture(scope="module")
def embedder():
    return load_embedder()


@pytest.fixture(scope="module")
def tagger():
    return EntityTagger()


def test_relevance_is_the_whole_topics_cosine_less_half_the_spread_over_its_words(embedder):
    topic, texts = "remote work", [REMOTE_CONTROL, HOME_OFFICE]
    got = topic_relevance(embedder, topic, texts)
    # recomputed here, one text at a time
    vec = lambda t: embedder.encode([t])[0]  # noqa: E731
    for text, value in zip(texts, got, strict=True):
        whole = float(vec(topic) @ vec(text))
        words = [float(vec(w) @ vec(text)) for w in content_words(topic)]
        assert value == pytest.approx(whole - (max(words) - min(words)) / 2, abs=1e-4)
    assert got[1] > got[0] and got[1] >= RELEVANT > got[0]  # working from home, not a remote control
    assert content_words("a 5G tower at dusk") == ["5g", "tower"]  # dusk is the painter's choice, not a subject


def test_concreteness_tells_things_from_ideas(embedder):
    score = Concreteness(embedder)(["laptops", "a fishing boat", "a policy", "economic growth"])
    assert (score[:2] > 0).all() and (score[2:] < 0).all()


def _sources(texts):
    return [Source(sentence_id("T", t), "T", t) for t in texts]


def test_every_place_and_date_of_a_scene_is_in_the_topic_or_its_source(embedder, tagger):
    composer = SceneComposer(embedder, tagger.parser())
    texts = ["Originally a collection of fishing villages, Shenzhen rapidly grew to be one of the largest cities "
             "in China after 1979.",
             "Migrant workers built new towers and roads across Guangdong in the 1990s.",
             "Urbanization is a process of social and economic change.",  # no place, no thing: no scene
             "Cranes stand over new apartment towers in Shanghai."]
    sources = _sources(texts)
    scenes = composer.compose("urbanization of china", sources, tagger.tag(texts))
    assert len(scenes) == 3 and all(s.text.startswith("urbanization of china") for s in scenes)
    assert scenes[0].text == "urbanization of china with cities in Shenzhen, 1979"  # "largest": a ranking, left out
    assert "Guangdong" in scenes[1].text and "the 1990s" in scenes[1].text
    by_id = {s.id: s.text for s in sources}
    for scene in scenes:
        assert scene.kind == "scene" and scene.origin == by_id[scene.sources[0]]
        for entity in tagger.tag([scene.text])[0]:
            supported = entity.text.lower() in ("urbanization of china " + scene.origin).lower()
            artistic = any(entity.text in t for t in TIMES_OF_DAY)
            assert supported or artistic, f"{entity.text!r} in {scene.text!r} is in neither the topic nor its source"
    # a time of day is added only where neither the topic nor the source gives a time
    assert any(t in scenes[2].text for t in TIMES_OF_DAY)
    at_dusk = composer.compose("a 5G tower at dusk", sources[3:], tagger.tag(texts[3:]))
    assert not any(t in at_dusk[0].text for t in TIMES_OF_DAY if t != "at dusk")


def test_extend_ranks_composed_scenes_that_name_their_sources(small_index, capsys):
    assert main(["extend", "urbanization of china", "--index", str(small_index), "--json", "--top", "5"]) == 0
    candidates = json.loads(capsys.readouterr().out)["candidates"]
    scenes = [c for c in candidates if c["source"]["kind"] == "scene"]
    assert scenes and candidates[0]["source"]["kind"] == "scene"
    assert all(re.fullmatch(r"[0-9a-f]{12}", i) for c in candidates for i in c["source"]["ids"])
    assert all(c["source"]["from"] and c["source"]["title"] for c in scenes)
    assert main(["extend", "urbanization of china", "--index", str(small_index), "--json", "--no-compose"]) == 0
    assert not [c for c in json.loads(capsys.readouterr().out)["candidates"] if c["source"]["kind"] == "scene"]


def test_paper_scoring_composes_nothing(small_index, capsys):
    assert main(["extend", "urbanization of china", "--index", str(small_index), "--json", "--scoring", "paper"]) == 0
    kinds = {c["source"]["kind"] for c in json.loads(capsys.readouterr().out)["candidates"]}
    assert kinds == {"wikipedia"}  # the paper's candidates: retrieved (and generated) sentences only
