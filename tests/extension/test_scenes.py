"""Composed scenes: relevance to the whole topic, concrete things, and every place and date from a named source."""

from __future__ import annotations

import json
import re

import pytest

from creative_painting.cli.main import main
from creative_painting.extension.embedding import load_embedder
from creative_painting.extension.entities import EntityTagger, is_real_date
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


def _sources(texts, relevance=0.5):
    return [Source(sentence_id("T", t), "T", t, relevance) for t in texts]


def test_every_place_and_date_of_a_scene_is_bound_by_its_source_to_what_it_shows(embedder, tagger):
    """A clause keeps the places and dates its sentence binds to it; nothing is borrowed from a passing mention."""
    composer = SceneComposer(embedder, tagger)
    texts = ["Migrant workers built new towers and roads across Guangdong in the 1990s.",
             "China has also become a major hub of business for Hollywood studios.",  # names Hollywood in passing
             "Urbanization is a process of social and economic change."]  # no thing to paint: no scene
    scenes = composer.compose("urbanization of china", _sources(texts))
    clause = next(s for s in scenes if s.text.startswith("Migrant workers"))
    assert "across Guangdong in the 1990s" in clause.text and clause.origin == texts[0]
    assert not any("Hollywood" in s.text for s in scenes)
    by_id = {s.id: s.text for s in _sources(texts)}
    for scene in scenes:
        assert scene.kind == "scene" and scene.origin == " | ".join(by_id[i] for i in scene.sources)
        entities = [e for e in tagger.tag([scene.text])[0] if e.kind == "spatial" or is_real_date(e.text)]
        assert not composer.support.unsupported(scene.text, entities, [scene.origin], "urbanization of china")


def test_a_topic_scene_takes_a_place_only_where_its_source_puts_the_topic_there(embedder, tagger):
    composer = SceneComposer(embedder, tagger)
    texts = ["Night markets in Taipei sell street food from hundreds of stalls lit by lanterns.",
             "Taipei's zoo opened in 1914 and street vendors gather near its gate."]
    scenes = composer.topic_scenes("a night market", _sources(texts))
    assert scenes[0].text.startswith("a night market with") and "in Taipei" in scenes[0].text
    assert not any("1914" in s.text or "Taipei" in s.text for s in scenes[1:])  # the zoo's year and place


def test_the_topics_own_place_is_never_added_to_its_scene(embedder, tagger):
    """"China" of "urbanization of china" is the user's: a scene does not say it twice, nor set it there again."""
    composer = SceneComposer(embedder, tagger)
    texts = ["Rapid urbanization in China turned fishing villages into cities of factories and apartment towers."]
    scenes = composer.topic_scenes("urbanization of china", _sources(texts))
    assert scenes and all(s.text.lower().count("china") == 1 for s in scenes)


def test_a_scene_adds_things_not_the_topics_own_words_again(embedder, tagger):
    """"a boat with boats and ship" shows one boat twice: the topic's word, its plural or its longer form ("sunrises"
    of "at sunrise") is no element of its scene."""
    composer = SceneComposer(embedder, tagger)
    texts = ["Fishing boats unload nets and crates of fish on the quay at sunrises over the harbour."]
    for topic in ("a boat", "a boat at sunrise"):
        scenes = composer.topic_scenes(topic, _sources(texts))
        assert scenes and all(w not in s.text.split("with", 1)[1] for s in scenes for w in ("boats", "sunrises"))
        assert any(thing in scenes[0].text for thing in ("nets", "crates", "quay", "fish", "harbour")), scenes[0].text


def test_the_topics_own_date_is_never_added_again(embedder, tagger):
    """A topic that gives its year keeps it once: its sentence's "1969" is the topic's, not a setting to add."""
    composer = SceneComposer(embedder, tagger)
    for topic, text in [
        ("the moon landing in 1969", "The first crewed Moon landing took place in 1969, when astronauts walked on "
                                     "the lunar surface with cameras and flags."),
        ("the harvest festival of 1890", "The harvest festival of 1890 brought farmers with carts of wheat and baskets "
                                         "of apples to the village square.")]:
        scenes = composer.topic_scenes(topic, _sources([text]))
        year = topic[-4:]
        assert scenes and all(s.text.count(year) == 1 for s in scenes), [s.text for s in scenes]


def test_a_time_of_day_is_added_only_where_neither_the_topic_nor_the_source_gives_a_time(embedder, tagger):
    composer = SceneComposer(embedder, tagger)
    texts = ["Fishing boats and container ships are moored along the quay of the port."]
    plain = composer.topic_scenes("a harbour", _sources(texts))
    at_dusk = composer.topic_scenes("a harbour at dusk", _sources(texts))
    assert plain and any(plain[0].text.endswith(t) for t in TIMES_OF_DAY)
    assert at_dusk and not any(t in at_dusk[0].text for t in TIMES_OF_DAY if t != "at dusk")


def test_extend_ranks_composed_scenes_that_name_their_sources(small_index, capsys):
    assert main(["extend", "urbanization of china", "--index", str(small_index), "--json", "--top", "5"]) == 0
    candidates = json.loads(capsys.readouterr().out)["candidates"]
    scenes = [c for c in candidates if c["source"]["kind"] == "scene"]
    assert scenes and candidates[0]["source"]["kind"] == "scene"
    assert all(re.fullmatch(r"[0-9a-f]{12}", i) for c in candidates for i in c["source"]["ids"])
    assert all(c["source"]["from"] and c["source"]["title"] for c in scenes)
    assert main(["extend", "urbanization of china", "--index", str(small_index), "--json", "--no-compose"]) == 0
    assert not [c for c in json.loads(capsys.readouterr().out)["candidates"] if c["source"]["kind"] == "scene"]


def test_no_scene_borrows_the_place_or_date_of_a_sentence_about_something_else(small_index, capsys):
    """No sentence of the index is about "a summer festival"; the Arles one names a summer, Arles and 1888 for van
    Gogh's wheat fields. Before issue 39 the festival was set "in Arles"; now no scene takes Arles or 1888."""
    assert main(["extend", "a summer festival", "--index", str(small_index), "--json", "--top", "5"]) == 0
    candidates = json.loads(capsys.readouterr().out)["candidates"]
    scenes = [c["text"] for c in candidates if c["source"]["kind"] == "scene"]
    assert not any("Arles" in s or "1888" in s for s in scenes if s.startswith("a summer festival"))


def test_paper_scoring_composes_nothing(small_index, capsys):
    assert main(["extend", "urbanization of china", "--index", str(small_index), "--json", "--scoring", "paper"]) == 0
    kinds = {c["source"]["kind"] for c in json.loads(capsys.readouterr().out)["candidates"]}
    assert kinds == {"wikipedia"}  # the paper's candidates: retrieved (and generated) sentences only


def test_the_topic_in_another_setting_is_one_scene():
    """Three settings of one subject are one scene: the second and third wait behind every other candidate."""
    from creative_painting.extension.candidate import Candidate
    from creative_painting.extension.pipeline import different_scenes
    from creative_painting.extension.scoring import Scored

    def scored(text, score):
        return Scored(Candidate(text, "scene"), (), {}, {}, "scene", score)

    ranked = [scored("urbanization of china with towers, at dawn", 3), scored("urbanization of china with roads", 2.9),
              scored("Migrant workers built roads across Guangdong", 2), scored("Cranes over Shanghai", 1)]
    order = [s.candidate.text for s in different_scenes("urbanization of China", ranked)]
    assert order[:3] == ["urbanization of china with towers, at dawn", "Migrant workers built roads across Guangdong",
                         "Cranes over Shanghai"]


@pytest.mark.parametrize(("text", "kinds"), [("a harbour in Le Havre, 1873", 2), ("a harbour at dusk, in winter", 0),
                                             ("a harbour in Le Havre, at dusk", 1), ("fishing boats, the 1920s", 1)])
def test_a_time_of_day_earns_no_entity_kind(tagger, text, kinds):
    from creative_painting.extension.scoring import entity_kinds

    assert entity_kinds(tagger.tag([text])[0]) == kinds


@pytest.mark.parametrize(("sentence", "kept", "gone"), [
    # a count of things loses its number, a measure loses its phrase
    ("It is built on a group of 126 islands that are separated by canals.", "a group of islands", "126"),
    ("It flows south for 2,340 mi to the Gulf of Mexico.", "flows south to the Gulf of Mexico", " mi"),
    # an aside between dashes, a list after a colon
    ("Some bees – including honey bees and bumblebees – build nests of wax.", "Some bees build nests of wax",
     "including"),
    ("Beekeepers keep bees to collect honey and other products of the hive: beeswax, propolis and royal jelly.",
     "collect honey and other products of the hive", "propolis"),
])
def test_a_clause_keeps_the_things_and_drops_the_numbers_asides_and_lists(tagger, sentence, kept, gone):
    from creative_painting.extension.clauses import main_clauses

    texts = [c.text for c in main_clauses(next(iter(tagger.parser().pipe([sentence]))), "Venice")]
    assert texts and kept in texts[0] and gone not in texts[0]


def test_a_measure_is_no_clause(tagger):
    from creative_painting.extension.clauses import main_clauses

    doc = next(iter(tagger.parser().pipe(["Forged parts can range in weight from a kilogram to hundreds of tons."])))
    assert main_clauses(doc) == []


def test_no_scene_shows_the_topics_definition_or_another_country_than_the_topics_place(embedder, tagger):
    composer = SceneComposer(embedder, tagger)
    wall = composer.clause_scenes("the fall of the Berlin Wall", _sources([
        "The Berlin Wall was a guarded concrete barrier across the city of Berlin."]))
    assert wall == []  # the topic's definition, however concrete
    games = ["The inaugural Games took place in 1896 in Athens, with athletes racing in a marble stadium.",
             "The Olympic Games bring athletes from every country to race in a stadium before crowds."]
    scenes = composer.compose("the Olympic Games in Paris", _sources(games))
    assert scenes and not any("Athens" in s.text or "1896" in s.text for s in scenes)
    market = composer.clause_scenes("a night market in Taipei", _sources([
        "Shilin sells street food from stalls lit by lanterns every night."]))
    assert market == []  # a named thing that is not the topic's, though no gazetteer knows it for a place
    athens = composer.topic_scenes("the Olympic Games in Paris", _sources([
        "The Olympic Games were held in Athens in 2004, with athletes racing in a marble stadium before crowds."]))
    assert athens and not any("Athens" in s.text or "2004" in s.text for s in athens)  # true of the Games, not Paris
    china = composer.clause_scenes("urbanization of china", _sources([
        "Migrant workers built new towers and roads across Shenzhen in the 1990s."]))
    assert china and "Shenzhen" in china[0].text  # a city of the topic's own country

