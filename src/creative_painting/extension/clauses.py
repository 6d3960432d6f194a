"""The main clause of a sentence, read from its parse: who or what, doing what, where and when.

An encyclopedia sentence carries a scene inside facts: "With a population of 17.5 million in 2020, Shenzhen is
the third-most-populous city ..." or "The city is located on the southern estuary of the Yangtze River, with the
Huangpu River bisecting the city." A clause keeps the verb with its subject, objects and preposition phrases,
and drops what a painter cannot paint: parentheses, statistics (a phrase with a number or a share), other
clauses and the opening aside. Its places and dates stay where the sentence put them, so they stay true
(`support.Support` checks it). A pronoun subject ("It", "They") becomes the article's title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from creative_painting.extension.support import STATISTIC, parenthesised

KEEP = {"nsubj", "nsubjpass", "aux", "auxpass", "neg", "dobj", "attr", "acomp", "xcomp", "prep", "agent", "dative",
        "oprd", "prt", "advmod", "npadvmod"}
CORE = {"dobj", "attr", "acomp", "xcomp"}  # a clause without them says nothing
PRONOUNS = {"it", "they", "he", "she", "this", "these", "its"}
NAMING = {"called", "known", "named", "termed", "defined", "refers", "refer", "referred", "means", "meant", "denotes",
          "describes", "described", "classified", "considered", "regarded", "spelled", "romanized", "abbreviated"}
STATIC = {"located", "situated", "lies", "lie", "lay", "borders", "bordered", "surrounded", "governed", "divided",
          "has", "have", "had", "includes", "included", "contains", "contained", "consists", "comprises", "covers",
          "covered", "spans", "spanned", "extends", "extended", "features", "remains", "remained", "became", "become",
          "constitutes", "constitute", "distinguished", "belongs", "belong", "represents", "represent"}
UNITS = {"meter", "metre", "kilometer", "kilometre", "km", "mile", "ft", "foot", "feet", "inch", "yard", "acre", "hectare",
         "ton", "tonne", "kilogram", "kg", "pound", "liter", "litre", "gallon", "degree", "year", "month", "week", "day",
         "hour", "minute", "second", "dollar", "euro", "yen", "time", "times", "mph", "m", "cm", "mm", "lb", "mi",
         "sq", "square", "nautical", "percent", "per"}
MEASURE = {f"{stem}{end}" for stem in ("rang", "measur", "averag") for end in ("e", "es", "ed")} | {
    f"{stem}{end}" for stem in ("weigh", "number", "total", "cost", "exceed", "amount") for end in ("", "s", "ed")} | {
    "vary", "varies", "varied"}  # verbs of a measure (the parser here has no lemmas)
GENERIC = {"city", "town", "country", "region", "river", "island", "state", "province", "capital", "port", "area"}
_MANY = re.compile(r"\b(?:hundreds|dozens|thousands|millions|tons|tonnes|kilograms?|kilometres?|kilometers?)\b",
                   re.IGNORECASE)  # "hundreds of metric tons": an amount, not a thing
_YEAR = re.compile(r"^(?:1\d{3}|20\d{2})s?$")


@dataclass(frozen=True)
class Clause:
    text: str
    copula: bool  # "X is a Y": a classification unless something concrete is placed
    titled: bool = False  # its subject ("It", "The city") was replaced by the article's title
    named: bool = False  # its subject holds a name ("The Port of Shenzhen"), not a common noun ("A kitchen")
    static: bool = False  # a state, not an action: "is located in", "borders", "has", "spans"
    subject: str = ""  # who or what: "The Port of Shenzhen", or the article's title for "It"


def _count(token) -> bool:
    """A number that counts visible things ("126 islands", "over 400 bridges"): the number goes, the things stay."""
    head = token.head
    return (token.dep_ == "nummod" and head.pos_ == "NOUN" and head.lower_ not in UNITS
            and head.lower_.rstrip("s") not in UNITS and not any(t.lower_ == "per" for t in head.subtree))


def _counts(tokens) -> set[int]:
    return {x.i for t in tokens if _count(t) for x in t.subtree}


def _drop(token) -> bool:
    """A phrase a painter cannot paint: a number that is not a year or a count of things, a share, a parenthesis."""
    counts = _counts(token.subtree)
    words = [t for t in token.subtree if t.i not in counts]
    # a number is a quantity, unless it is a year or part of a name ("Apollo 11", "Luna 2")
    if any(re.search(r"\d", t.text) and not _YEAR.match(t.text) and not (t.i and t.nbor(-1).pos_ == "PROPN")
           for t in words):
        return True
    text = " ".join(t.text for t in words)
    return bool(STATISTIC.search(text) or _MANY.search(text))


def main_clauses(doc, title: str = "") -> list[Clause]:
    """The clause of the sentence's root verb and of each verb joined to it ("... and spread to ...")."""
    heads = [t for t in doc if t.dep_ == "ROOT" and t.pos_ in ("VERB", "AUX")]
    heads += [c for h in heads for c in h.children if c.dep_ == "conj" and c.pos_ == "VERB"]
    hidden = parenthesised(doc)
    found = []
    for verb in heads:
        subject = next((c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")), None)
        if subject is None and verb.dep_ == "conj":  # "... and spread to Europe": the first verb's subject
            subject = next((c for c in verb.head.children if c.dep_ in ("nsubj", "nsubjpass")), None)
        if subject is None or subject.lower_ in ("which", "who", "that", "there"):
            continue
        if _drop(subject) or any(c.dep_ in CORE and _drop(c) for c in verb.children):
            continue  # "It has a population of 30,050,000": a statistic, not a scene
        if verb.lower_ in NAMING or any(c.dep_ == "ccomp" for c in verb.children):
            continue  # "is called a cyclist": a word about words; "historians agree that ...": an opinion
        if verb.lower_ in MEASURE:
            continue  # "Forged parts range in weight from ...": a measure, whatever is left of it
        copula = verb.lower_ in ("is", "are", "was", "were", "be") and any(c.dep_ == "attr" for c in verb.children)
        action = _defined_action(verb) if copula else None
        if action is not None:  # "A barista is a person who prepares drinks" -> "A barista prepares drinks"
            keep = {t.i for t in subject.subtree} | {t.i for t in action.subtree} - {c.i for c in action.children
                                                                                      if c.dep_.startswith("nsubj")}
            verb, copula = action, False
        else:
            keep = {verb.i} | {t.i for t in subject.subtree}
            for child in verb.children:
                if child.dep_ in KEEP and not _drop(child) and child.i != subject.i and not _absolute(child):
                    keep |= {t.i for t in child.subtree}
        keep -= hidden | _asides(doc) | _counts(doc[i] for i in keep)
        keep = {i for i in keep if i < _list_start(doc, verb.i, keep)}
        for t in list(doc):  # appositions and asides inside the kept phrases that hold numbers
            if t.i in keep and t.dep_ in ("appos", "relcl", "acl", "prep") and _drop(t):
                keep -= {x.i for x in t.subtree}
        text = _text(doc, sorted(keep), subject, title)
        if len(text.split()) >= 4:
            titled = bool(title) and _refers_to_title(subject)
            named = titled or subject.pos_ == "PROPN"
            static = copula or verb.lower_ in STATIC
            who = title if titled else " ".join(t.text for t in subject.subtree if t.i in keep)
            found.append(Clause(text, copula, titled, named, static, who))
    return found


def _asides(doc) -> set[int]:
    """Tokens between two dashes: "Some species – including honey bees and bumblebees – are social insects"."""
    dashes = [t.i for t in doc if t.text in ("–", "—", "--")]
    return {i for a, b in zip(dashes[::2], dashes[1::2], strict=False) for i in range(a, b + 1)}


def _list_start(doc, verb: int, keep: set[int]) -> int:
    """Where a list after a colon or semicolon starts, past the verb: "products of the hive: beeswax, propolis"."""
    return next((i for i in sorted(keep) if i > verb and doc[i].text in (":", ";")), len(doc))


def _absolute(token) -> bool:
    """"with the Huangpu River bisecting the city": a second scene inside the first, left out."""
    return token.lower_ == "with" and any(c.dep_ == "pcomp" and any(g.dep_ == "nsubj" for g in c.children)
                                          for c in token.children)


def _defined_action(verb):
    """The relative clause of a definition's attribute: "a person [who prepares coffee-based drinks]"."""
    attr = next(c for c in verb.children if c.dep_ == "attr")
    return next((c for c in attr.children if c.dep_ == "relcl"
                 and any(s.dep_.startswith("nsubj") and s.lower_ in ("who", "that", "which") for s in c.children)),
                None)


def _refers_to_title(token) -> bool:
    """"It", "They" or "The city" as a subject: the article the sentence is from."""
    if token.lower_ in PRONOUNS:
        return True
    return token.lower_ in GENERIC and [c.lower_ for c in token.children] == ["the"]


def _text(doc, kept: list[int], subject, title: str) -> str:
    """The kept words in their order, spaced as in the sentence where they were neighbours."""
    out = []
    for n, i in enumerate(kept):
        t = doc[i]
        word = title if i == subject.i and _refers_to_title(t) and title else t.text
        if word == title and i > 0 and doc[i - 1].lower_ == "the" and doc[i - 1].i in kept:
            out[-1] = ""  # "The city" -> "Shanghai", not "The Shanghai"
        adjacent = n + 1 < len(kept) and kept[n + 1] == i + 1
        out.append(word + (t.whitespace_ if adjacent else " "))
    text = re.sub(r"\s+([,.;:])", r"\1", "".join(out)).strip(" ,;:-—")
    text = re.sub(r",\s*,", ",", text).rstrip(".").strip()
    return re.sub(r"(?:[\s,]+(?:and|or|but|nor|as well as|such as))+$", "", text)  # a list cut short
