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
        assert scene.kind == "scene" and scene.origin == " | ".join(by_id[i] for i in scene.sources)
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


def test_where_no_sentence_is_near_the_topic_a_retrieved_one_lends_its_place_never_its_date(small_index, capsys):
    """No sentence of the index is about "a summer festival", but the Arles one was retrieved for "summer": the
    top candidates are the topic set in its places, not encyclopedia sentences, and its year stays out."""
    assert main(["extend", "a summer festival", "--index", str(small_index), "--json", "--top", "3"]) == 0
    candidates = json.loads(capsys.readouterr().out)["candidates"]
    scenes = [c["text"] for c in candidates if c["source"]["kind"] == "scene"]
    assert candidates[0]["source"]["kind"] == "scene" and "a summer festival in Arles" in scenes
    assert not any("1888" in s for s in scenes)


def test_paper_scoring_composes_nothing(small_index, capsys):
    assert main(["extend", "urbanization of china", "--index", str(small_index), "--json", "--scoring", "paper"]) == 0
    kinds = {c["source"]["kind"] for c in json.loads(capsys.readouterr().out)["candidates"]}
    assert kinds == {"wikipedia"}  # the paper's candidates: retrieved (and generated) sentences only


def test_a_noun_of_the_topic_lends_a_place_never_a_date_and_each_place_is_used_once(embedder, tagger):
    """A sentence about "video" is not about a video call: its place may set the scene, its date would be false."""
    composer = SceneComposer(embedder, tagger.parser())
    about_topic = ["Families now talk over video calls, using a laptop and a webcam at the kitchen table."]
    about_a_noun = ["The first video recorders were sold in Frankfurt in the 16th century.",
                    "Film studios opened across Hollywood in 1911.",
                    "The phylum Cnidaria includes corals."]  # a taxon the tagger may take for a place
    sources = _sources(about_topic) + [Source(sentence_id("V", t), "V", t, setting_only=True) for t in about_a_noun]
    texts = about_topic + about_a_noun
    scenes = composer.compose("a video call with family", sources, tagger.tag(texts))
    assert scenes, "the topic's sentence names things, and a noun's sentence a place"
    first = scenes[0]
    assert "webcam" in first.text or "laptop" in first.text
    assert " in Frankfurt" in first.text and "16th" not in first.text  # the noun's date of something else: left out
    assert first.sources == (sources[0].id, sources[1].id) and first.origin == f"{texts[0]} | {texts[1]}"
    joined = " ".join(s.text for s in scenes)
    assert "1911" not in joined and "Cnidaria" not in joined
    places = [p for s in scenes for p in ("Frankfurt", "Hollywood") if p in s.text]
    assert len(places) == len(set(places))  # each place in one scene only


def test_a_topic_that_names_a_place_is_not_set_somewhere_else(embedder, tagger):
    composer = SceneComposer(embedder, tagger.parser())
    texts = ["Night markets in Taipei sell street food from hundreds of stalls lit by lanterns."]
    scenes = composer.compose("a night market in Asia", _sources(texts), tagger.tag(texts))
    assert scenes and all(" in Taipei" not in s.text for s in scenes)


@pytest.mark.parametrize(("text", "kinds"), [("a harbour in Le Havre, 1873", 2), ("a harbour at dusk, in winter", 0),
                                             ("a harbour in Le Havre, at dusk", 1), ("fishing boats, the 1920s", 1)])
def test_a_time_of_day_earns_no_entity_kind(tagger, text, kinds):
    from creative_painting.extension.scoring import entity_kinds

    assert entity_kinds(tagger.tag([text])[0]) == kinds


@pytest.mark.parametrize(("text", "place", "plausible"), [
    ("Migrant workers built roads across Guangdong in the 1990s.", "Guangdong", True),
    ("Ships cross the Bering Sea in winter.", "the Bering Sea", True),
    ("Trains run in Paris.", "Paris", True),
    ("Corals belong to the phylum Cnidaria.", "Cnidaria", False),  # one unknown word, after no "in" or "near"
    ("Routes are documented in guidebooks.", "Routes", False),  # the first word of its sentence
    ("Commuters wait in metro stations.", "metro", False),  # after "in", but not a name
    ("Eclipses come in new moon phases.", "new moon", False),
])
def test_a_place_is_a_capitalised_name_the_gazetteer_or_the_sentence_vouches_for(text, place, plausible):
    from creative_painting.extension.entities import Entity
    from creative_painting.extension.scenes import _plausible_place

    start = text.index(place)
    assert _plausible_place(Entity(place, "spatial", "GPE", start, start + len(place)), text) == plausible
