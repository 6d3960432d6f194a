"""Scenes a painter can paint, read from what relevant retrieved sentences say: who or what, doing what, where, when.

A topic's story is told by its parts: "urbanization of China" by a port in Shenzhen, a train on the Tibetan
Plateau, children left in a village. The composer makes two kinds of scene from the sentences about the topic
(`pipeline.Extender` finds them, and the sentences about the places and things they name):
- a **clause scene**: a sentence's own main clause (`clauses.main_clauses`), with its subject, action, objects,
  and the places and dates the sentence binds to them; statistics, parentheses and asides dropped;
- a **topic scene**: the topic itself with the concrete things a sentence about it names ("a robot barista with
  espresso drinks"), where nothing else is found.
Both keep only what is true: a place or date appears only where `support.Support` finds its source binds it to
what the scene shows. No place is ever borrowed from a sentence that merely names it; a time of day is the
composer's own artistic choice, and never a fact. Every scene names its source sentence.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np

from creative_painting.extension.candidate import Candidate
from creative_painting.extension.clauses import main_clauses
from creative_painting.extension.entities import Entity, EntityTagger, elsewhere, is_real_date
from creative_painting.extension.support import Support

RELEVANT = 0.3  # `topic_relevance` of a sentence about the topic (MiniLM; set on pairs written for the tests)
SETTING = 0.2  # `topic_relevance` of a sentence about the whole topic: a source of scenes, and a candidate itself
RELATED = 0.25  # cosine of a thing with the topic, for it to appear in the topic's scene
CONCRETE = 0.05  # Concreteness above which a noun phrase is a thing to paint (roads 0.30, population shift 0.00)
TIMES_OF_DAY = ("at dawn", "in the morning light", "at dusk", "at night", "on a rainy afternoon", "in winter")
_TIME_OF_DAY = re.compile(r"\b(dawn|dusk|sunrise|sunset|night|morning|evening|afternoon|noon|midnight|twilight|"
                          r"winter|summer|spring|autumn|rain)\b", re.IGNORECASE)
VAGUE = {"person", "people", "thing", "things", "part", "parts", "type", "types", "kind", "form", "forms", "way",
         "object", "objects", "individual", "individuals", "member", "members", "example", "item", "items", "species",
         "land", "population", "capital", "capital city", "construction", "content", "branch", "area", "region", "place",
         "world", "height", "weight", "size", "variety", "range"}
_STOP = {"a", "an", "the", "of", "in", "on", "at", "and", "or", "to", "for", "with", "by", "from", "its", "their"}
_QUANTITY = re.compile(r"\d|\b(?:percent|million|billion|thousand|hundred|number|amount|rate|ratio|share|"
                       r"average|total|majority|most|many|several|some|one|two|three)\b", re.IGNORECASE)
# Prototypes for what a painter can show and what they cannot (zero-shot, through the sentence embedder).
THINGS = ("a person", "people in a crowd", "a worker", "a child", "an animal", "a building", "a street", "a machine",
          "a vehicle", "a tool", "a plant", "a tree", "food", "clothing", "furniture", "a landscape", "the sea",
          "a mountain", "a river", "a room", "a screen", "a device", "an insect", "a bird", "a fish", "a boat", "a ship",
          "a train", "a road", "a bridge", "a house", "a market stall", "a farm field", "a crop", "a fruit", "a flower",
          "a weapon", "a musical instrument", "a book", "a container", "a factory", "a wall", "fire", "smoke", "snow",
          "sand", "water", "a soldier", "a farmer", "a lamp", "a flag")
IDEAS = ("an idea", "a theory", "a statistic", "a policy", "a process", "a period of time", "an amount",
         "a concept", "an organization", "a law", "an economy", "a method", "a quality", "a category of things",
         "a history", "a development", "an activity", "an industry", "a trade", "a relationship", "a movement",
         "a property", "a status", "a right", "a field of study", "a genre", "a region")


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
    relevance: float = 0.0  # `topic_relevance` of the sentence


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


def _repeats(word: str, topic_words: set[str]) -> bool:
    """A word of the topic again: the same first five letters ("sunrises" of "at sunrise"), or, for a shorter word,
    the word or its plural ("boats" of "a boat", "bus" of "buses")."""
    return any(word[:5] == t[:5] if min(len(word), len(t)) >= 5 else
               word in (t, t + "s", t + "es") or t in (word + "s", word + "es") for t in topic_words)


def _join(things: list[str]) -> str:
    return things[0] if len(things) == 1 else f"{', '.join(things[:-1])} and {things[-1]}"


def _defines(clause: str, topic: str) -> bool:
    """"X is ..." where X is the topic's own words: a definition of the topic, not a scene of it."""
    subject = clause.split(" is ", 1)[0].split(" are ", 1)[0].split(" was ", 1)[0].split(" were ", 1)[0]
    words = set(content_words(subject))
    return bool(words) and words <= set(content_words(topic))


def _shares(phrase: str, topic: str) -> bool:
    return bool(set(content_words(phrase)) & set(content_words(topic)))


def _is_date(entity: Entity) -> bool:
    return entity.kind == "temporal" and is_real_date(entity.text)


class SceneComposer:
    """`compose(topic, sources)`: true scenes of the topic's story, clause scenes first, most relevant sources first."""

    kind = "scene"

    def __init__(self, embedder, tagger: EntityTagger, *, max_scenes: int = 12):
        self.embedder, self.tagger, self.nlp = embedder, tagger, tagger.parser()
        self.concreteness = Concreteness(embedder)
        self.support = Support(self.nlp)
        self.max_scenes = max_scenes

    def parts(self, topic: str) -> list[str]:
        """The topic's nouns and noun phrases, each a second way into the corpus ("megacity" of a traffic jam)."""
        doc = next(iter(self.nlp.pipe([topic])))
        chunks = [" ".join(t.text for t in chunk if t.pos_ != "DET") for chunk in doc.noun_chunks]
        nouns = [t.text for t in doc if t.pos_ in ("NOUN", "PROPN")]
        return [p for p in dict.fromkeys(chunks + nouns) if p and not _TIME_OF_DAY.fullmatch(p.lower())]

    def names(self, texts: list[str], topic: str) -> list[str]:
        """The names in the sentences about a topic ("Apollo 11", "Shenzhen"), places first, none of the topic's own
        words and no acronyms: each a way to the rest of its story (a second hop)."""
        own = set(content_words(topic))
        found = []
        for doc in self.nlp.pipe(texts):
            run: list = []
            for t in [*doc, None]:
                if t is not None and (t.pos_ == "PROPN" or (run and t.like_num)):
                    run.append(t)
                    continue
                name = " ".join(x.text for x in run)
                if run and not name.isupper() and not own & {w.lower() for w in name.split()}:
                    found.append(name)
                run = []
        places = {e.text.removeprefix("the ") for ents in self.tagger.tag(texts) for e in ents if e.kind == "spatial"}
        return sorted(dict.fromkeys(found), key=lambda name: name not in places)

    def _places(self, topic: str) -> set[str]:
        """The places the topic names itself ("Bangkok" of "a floating market in Bangkok")."""
        return {e.text.lower() for e in self.tagger.tag([topic])[0] if e.kind == "spatial"}

    def _concrete(self, texts: list[str], topic: str) -> list[tuple[str, ...]]:
        """Per text, its noun phrases that name something visible and belong with the topic, most concrete first
        (a word of the topic again, "sunrises" for "at sunrise" or "boats" for "a boat", is left out)."""
        words = set(re.findall(r"\w+", topic.lower()))
        phrases = [[p for p in dict.fromkeys(_noun_phrases(doc)) if not any(_repeats(w, words) for w in p.split())]
                   for doc in self.nlp.pipe(texts)]
        flat = list(dict.fromkeys(p for ps in phrases for p in ps))
        concrete = dict(zip(flat, self.concreteness(flat), strict=True))
        related = dict(zip(flat, cosines(self.embedder, topic, flat), strict=True))
        return [tuple(sorted((p for p in ps if concrete[p] > CONCRETE and related[p] >= RELATED and p not in VAGUE),
                             key=lambda p: -concrete[p])) for ps in phrases]

    def _true(self, text: str, entities: list[Entity], source: Source, topic: str, titled: bool = False) -> bool:
        """Every place and date of the scene is the topic's, or bound by its source to what the scene shows. A
        clause whose subject "It" became the article's title is about that place: the sentence's own subject."""
        checked = [e for e in entities if (e.kind == "spatial" or _is_date(e))
                   and not (titled and e.text.lower() == source.title.lower())]
        return not self.support.unsupported(text, checked, [source.text], topic, title=source.title if titled else "")

    def clause_scenes(self, topic: str, sources: list[Source]) -> list[Candidate]:
        """Each relevant sentence's main clauses that show a concrete thing, or named people or things doing something
        ("Apollo 11 first landed humans on the Moon"), and whose places and dates are true."""
        clauses = [(s, c) for s, doc in zip(sources, self.nlp.pipe([s.text for s in sources]), strict=True)
                   for c in main_clauses(doc, s.title)]
        if not clauses:
            return []
        texts = [c.text for _, c in clauses]
        relevance = topic_relevance(self.embedder, topic, texts)
        things = self._concrete(texts, topic)
        scenes = []
        own_places = self._places(topic)
        for (source, clause), rel, shown, ents in zip(clauses, relevance, things, self.tagger.tag(texts), strict=True):
            if (clause.copula and not clause.named) or clause.text.count(",") >= 3:
                continue  # "A kitchen is a room ...": a definition ("The Port of Shenzhen is ...": a named thing); a list
            if clause.copula and _defines(clause.text, topic):
                continue  # "Artificial intelligence is a field of research ...": the topic's definition
            places = {e.text.lower() for e in ents if e.kind == "spatial"}
            if own_places and (elsewhere(places, own_places) or (clause.named and not _shares(clause.subject, topic))):
                continue  # "The inaugural Games took place in Athens" and "Cần Thơ is noted for its floating markets"
                # show neither the Olympic Games in Paris nor a floating market in Bangkok
            concrete = shown or (clause.named and not clause.static)
            if rel < RELEVANT or not concrete or not self._true(clause.text, ents, source, topic, clause.titled):
                continue
            scenes.append(Candidate(clause.text, self.kind, source.title, source.text, sources=(source.id,)))
        return scenes

    def topic_scenes(self, topic: str, sources: list[Source]) -> list[Candidate]:
        """The topic with the things one relevant sentence names, and a place or date only where that sentence
        binds it to the topic's own subject (rare: an encyclopedia seldom places a robot barista)."""
        subject = re.sub(r"\s+", " ", topic).strip().rstrip(".")
        has_time = bool(_TIME_OF_DAY.search(subject))
        about = [s for s in sources if s.relevance >= RELEVANT]
        own_places = self._places(subject)
        scenes = []
        found = zip(about, self._concrete([s.text for s in about], subject), self.tagger.tag([s.text for s in about]),
                    strict=True)
        for source, shown, entities in found:
            if not shown:
                continue
            text = f"{subject} with {_join(list(shown[:2]))}"
            setting = [e for e in entities if (e.kind == "spatial" or _is_date(e))
                       and e.text.lower() not in subject.lower()]
            if own_places and any(e.kind == "spatial" for e in setting):
                setting = []  # the topic has its place: "the Olympic Games in Paris" takes neither Athens nor its 1896
            for e in setting:
                candidate = f"{text} in {e.text}" if e.kind == "spatial" else f"{text}, {e.text}"
                if self._true(candidate, [e], source, subject):
                    text = candidate
                    break
            if not any(_is_date(e) for e in setting if e.text in text) and not has_time:
                text += f", {TIMES_OF_DAY[len(scenes) % len(TIMES_OF_DAY)]}"
            scenes.append(Candidate(text, self.kind, source.title, source.text, sources=(source.id,)))
        return scenes

    def compose(self, topic: str, sources: list[Source]) -> list[Candidate]:
        scenes = self.clause_scenes(topic, sources) + self.topic_scenes(topic, sources)
        return scenes[: self.max_scenes]
