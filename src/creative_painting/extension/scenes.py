"""Scenes a painter can paint, composed from what relevant retrieved sentences say: what, where and when.

Retrieval finds only sentences that exist, and an encyclopedia holds no scene of a robot barista. The
composer keeps the topic as the subject of every scene, and sets it where and when the relevant sentences
place it, among the things they name:
- relevant: a sentence about the whole topic, not one word of it (`topic_relevance`);
- what: its concrete noun phrases, closer to things and people than to ideas and numbers (`Concreteness`);
- where: a named place in it; when: a date or an era in it. A time of day is the composer's own choice,
  an artistic one, and never a fact.
Every scene names the sentences it was built from, so each place and date in it can be checked there.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np

from creative_painting.extension.candidate import Candidate
from creative_painting.extension.entities import Entity, gazetteer, is_real_date

RELEVANT = 0.3  # `topic_relevance` of a sentence about the topic (MiniLM; set on pairs written for the tests)
SETTING = 0.2  # `topic_relevance` of a sentence near enough to lend the topic a place, a date or things
PART_SETTING = 0.3  # cosine of a sentence with one of the topic's nouns, for it to lend the topic a place or date
RELATED = 0.25  # cosine of a thing with the topic, for it to appear in the topic's scene
CONCRETE = 0.1  # Concreteness above which a noun phrase is a thing to paint (roads 0.30, population shift 0.00)
TIMES_OF_DAY = ("at dawn", "in the morning light", "at dusk", "at night", "on a rainy afternoon", "in winter")
_TIME_OF_DAY = re.compile(r"\b(dawn|dusk|sunrise|sunset|night|morning|evening|afternoon|noon|midnight|twilight|"
                          r"winter|summer|spring|autumn|rain)\b", re.IGNORECASE)
_LOCATIVE = re.compile(r"\b(?:in|across|near|at|from|to|into|through|throughout|around|outside|within)\s+(?:the\s+)?$",
                       re.IGNORECASE)
_NOWHERE = {"earth", "world", "space", "universe", "planet", "globe", "mercury", "venus", "mars", "jupiter", "saturn",
            "uranus", "neptune", "moon", "sun", "north", "south", "east", "west", "northern hemisphere",
            "southern hemisphere"}
_STOP = {"a", "an", "the", "of", "in", "on", "at", "and", "or", "to", "for", "with", "by", "from", "its", "their"}
_QUANTITY = re.compile(r"\d|\b(?:percent|million|billion|thousand|hundred|number|amount|rate|ratio|share|"
                       r"average|total|majority|most|many|several|some|one|two|three)\b", re.IGNORECASE)
# Prototypes for what a painter can show and what they cannot (zero-shot, through the sentence embedder).
THINGS = ("a person", "people in a crowd", "a worker", "a child", "an animal", "a building", "a street", "a machine",
          "a vehicle", "a tool", "a plant", "a tree", "food", "clothing", "furniture", "a landscape", "the sea",
          "a mountain", "a river", "a room", "a screen", "a device")
IDEAS = ("an idea", "a theory", "a statistic", "a policy", "a process", "a period of time", "an amount",
         "a concept", "an organization", "a law", "an economy", "a method", "a quality")


def sentence_id(title: str, text: str) -> str:
    """A retrieved sentence's id: stable for a given corpus, whatever the index's internal order."""
    return hashlib.sha1(f"{title}\n{text}".encode()).hexdigest()[:12]


def content_words(topic: str) -> list[str]:
    """The words a sentence about the topic must cover: no function words, no time of day (a painter's choice)."""
    return [w for w in re.findall(r"[\w'-]+", topic.lower())
            if w not in _STOP and len(w) > 1 and not _TIME_OF_DAY.fullmatch(w)]


def topic_relevance(embedder, topic: str, texts: list[str]) -> np.ndarray:
    """Cosine with the whole topic, less half the spread of its cosines with the topic's words.

    A sentence about one word of the topic is close to that word and far from the others: "A remote control
    is an electronic device ..." scores 0.58 with "remote" and 0.00 with "work", so it loses 0.29 of its 0.55
    with "remote work"; a sentence about working from home is near both words and keeps nearly all of its."""
    if not texts:
        return np.zeros(0)
    words = content_words(topic)
    vectors = embedder.encode([topic, *words, *texts])
    sentences = vectors[len(words) + 1 :]
    whole = sentences @ vectors[0]
    if len(words) <= 1:
        return whole
    per_word = sentences @ vectors[1 : len(words) + 1].T
    return whole - 0.5 * (per_word.max(axis=1) - per_word.min(axis=1))


def cosines(embedder, query: str, texts: list[str]) -> np.ndarray:
    """Cosine of each text with `query`: a thing with the topic ("fishing villages" with urbanization), a
    sentence with one noun of the topic ("megacity" of "a traffic jam in a megacity")."""
    if not texts:
        return np.zeros(0)
    vectors = embedder.encode([query, *texts])
    return vectors[1:] @ vectors[0]


class Concreteness:
    """How much a noun phrase names something visible: its nearest thing prototype against its nearest idea."""

    def __init__(self, embedder):
        self.embedder = embedder
        prototypes = embedder.encode([*THINGS, *IDEAS])
        self.things, self.ideas = prototypes[: len(THINGS)], prototypes[len(THINGS) :]

    def __call__(self, phrases: list[str]) -> np.ndarray:
        if not phrases:
            return np.zeros(0)
        v = self.embedder.encode(phrases)
        return (v @ self.things.T).max(axis=1) - (v @ self.ideas.T).max(axis=1)


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    text: str
    setting_only: bool = False  # about a noun of the topic, not the whole: it lends a place, or nothing


@dataclass(frozen=True)
class Elements:
    """The concrete elements of one relevant sentence."""

    source: Source
    places: tuple[str, ...]
    dates: tuple[str, ...]
    things: tuple[str, ...]


def _noun_phrases(doc) -> list[str]:
    """Common-noun phrases (no names, no numbers, no pronouns), from spaCy's parse."""
    phrases = []
    for chunk in doc.noun_chunks:
        if chunk.root.pos_ != "NOUN" or any(t.ent_type_ or t.like_num for t in chunk) or _QUANTITY.search(chunk.text):
            continue
        words = [t for t in chunk if (t.pos_ in ("ADJ", "NOUN", "PROPN", "VERB") or t.dep_ == "compound")
                 and t.tag_ not in ("JJS", "JJR")]  # "the largest cities": a ranking, not something seen
        if words:
            phrases.append(" ".join(t.text for t in words).lower())
    return phrases


def _is_date(entity: Entity) -> bool:
    return entity.kind == "temporal" and is_real_date(entity.text)


def _new_place(place: str, stems: set[str]) -> bool:
    """A place that adds to the topic: not the topic's own ("China" for urbanization of china), not "Earth"."""
    words = re.findall(r"\w+", place.lower())
    return len(place) > 2 and place.lower().removeprefix("the ") not in _NOWHERE and not any(w[:5] in stems for w in words)


def _known_place_first(entity: Entity) -> tuple[bool, int]:
    """Places the gazetteer knows first (the tagger's other spans include mistakes such as "Camellia")."""
    return entity.text.lower().removeprefix("the ") not in gazetteer(), entity.start


def _plausible_place(entity: Entity, text: str) -> bool:
    """Capitalised, and: known to the gazetteer; or a name of two words or more not at the start of its sentence
    ("the Bering Sea"); or one word after "in", "across", "near"... ("across Guangdong"). The tagger's other
    single words are mostly not places: "the constellations ... Scorpius", "the phylum Cnidaria", "Routes are"."""
    name = entity.text.removeprefix("the ")
    if not name[:1].isupper():  # a name is capitalised: "in metro", "in new moon" are not places
        return False
    if name.lower() in gazetteer():
        return True
    if len(name.split()) >= 2:
        return entity.start > 0
    return bool(_LOCATIVE.search(text[: entity.start]))


_CONTINENTS = {"africa", "antarctica", "asia", "europe", "north america", "oceania", "south america"}


def _names_a_place(topic: str) -> bool:
    """A country, US state, city or continent, capitalised, in the topic ("a night market in Asia")."""
    return any(name.lower() in gazetteer() or name.lower() in _CONTINENTS
               for name in re.findall(r"[A-Z][\w'-]*(?: [A-Z][\w'-]*)*", topic))


def _join(things: list[str]) -> str:
    return things[0] if len(things) == 1 else f"{', '.join(things[:-1])} and {things[-1]}"


class SceneComposer:
    """`compose(topic, sources, entities)`: scenes of the topic, each from one relevant sentence's elements."""

    kind = "scene"

    def __init__(self, embedder, nlp, *, max_scenes: int = 12):
        self.embedder, self.nlp = embedder, nlp
        self.concreteness = Concreteness(embedder)
        self.max_scenes = max_scenes

    def parts(self, topic: str) -> list[str]:
        """The topic's nouns and noun phrases, each a place to look for where and when it happens."""
        doc = next(iter(self.nlp.pipe([topic])))
        chunks = [" ".join(t.text for t in chunk if t.pos_ != "DET") for chunk in doc.noun_chunks]
        nouns = [t.text for t in doc if t.pos_ in ("NOUN", "PROPN")]
        return [p for p in dict.fromkeys(chunks + nouns) if p and not _TIME_OF_DAY.fullmatch(p.lower())]

    def elements(self, topic: str, sources: list[Source], entities: list[list[Entity]]) -> list[Elements]:
        """What each sentence offers a scene of the topic: places and dates not already in the topic, and concrete
        things that belong with it (a word of the topic again, "sunrises" for "at sunrise", is left out)."""
        stems = {w[:5] for w in re.findall(r"\w+", topic.lower())}
        docs = list(self.nlp.pipe([s.text for s in sources]))
        phrases = [[p for p in dict.fromkeys(_noun_phrases(doc)) if not any(w[:5] in stems for w in p.split())]
                   for doc in docs]
        flat = list(dict.fromkeys(p for ps in phrases for p in ps))
        concrete = dict(zip(flat, self.concreteness(flat), strict=True))
        related = dict(zip(flat, cosines(self.embedder, topic, flat), strict=True))
        found = []
        for source, ents, candidates in zip(sources, entities, phrases, strict=True):
            places = tuple(dict.fromkeys(
                e.text for e in sorted(ents, key=_known_place_first)
                if e.kind == "spatial" and _new_place(e.text, stems) and _plausible_place(e, source.text)))
            dates = tuple(dict.fromkeys(e.text for e in ents if _is_date(e) and e.text.lower() not in topic.lower()))
            things = tuple(sorted((p for p in candidates if concrete[p] > CONCRETE and related[p] >= RELATED),
                                  key=lambda p: -concrete[p])[:2])
            if source.setting_only:  # its dates are of something else: "a video call, 16th century" would be false
                dates, things = (), ()
            if places or dates or things:
                found.append(Elements(source, places, dates, things))
        return found

    def compose(self, topic: str, sources: list[Source], entities: list[list[Entity]]) -> list[Candidate]:
        """Scenes, most relevant sources first: the things of one sentence, set where and when it says or, where it
        says neither, where and when the next unused sentence with a place or a date does (each scene then names
        both). A time of day only where the topic and the sources give no time."""
        subject = re.sub(r"\s+", " ", topic).strip().rstrip(".")
        has_time = bool(_TIME_OF_DAY.search(subject))
        found = self.elements(subject, sources, entities)
        if _names_a_place(subject):  # "a night market in Asia" is not set "in China" as well
            found = [Elements(e.source, (), e.dates, e.things) for e in found if e.dates or e.things]
        spare = [e for e in found if (e.places or e.dates) and not e.things]  # settings with nothing else to show
        used: set[str] = set()  # sources and places already in a scene: each scene somewhere else
        scenes: list[Candidate] = []
        for e in found:
            if e.things and (e.dates or (e.places and e.places[0] not in used)):
                setting = e
            elif e.things:
                setting = next((x for x in spare if x.source.id not in used and not (x.places and x.places[0] in used)),
                               None)
            elif e.places and e.source.id not in used and e.places[0] not in used:
                setting = e  # a place alone sets a scene: "a skyscraper under construction in Dubai"
            else:
                continue  # a date alone does not, nor a setting already used
            if setting is not None:
                used |= {setting.source.id, *setting.places[:1]}
            scenes.append(self._scene(subject, e, setting, has_time, len(scenes)))
            if len(scenes) >= self.max_scenes:
                break
        return scenes

    def _scene(self, subject: str, what: Elements, setting: Elements | None, has_time: bool, n: int) -> Candidate:
        text = subject + (f" with {_join(list(what.things))}" if what.things else "")
        if setting is not None and setting.places:
            place = setting.places[0]
            text += f" in the {place}" if f"the {place}" in setting.source.text else f" in {place}"
        if setting is not None and setting.dates:
            text += f", {setting.dates[0]}"
        elif not has_time:
            text += f", {TIMES_OF_DAY[n % len(TIMES_OF_DAY)]}"
        used = list(dict.fromkeys(x.source for x in (what, setting) if x is not None))
        return Candidate(text, self.kind, " | ".join(u.title for u in used), " | ".join(u.text for u in used),
                         sources=tuple(u.id for u in used))
