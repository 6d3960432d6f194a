"""Does a source sentence place *this* subject there, or date *this* event then? The truth rule of a scene.

A sentence that merely names a place does not place everything in it: "China has also become a major hub of
business for Hollywood studios" puts studios in Hollywood, not urbanization; "the second-most populous country
after India" compares, it places nothing. So a place or a date of a candidate counts as true only where the
source's parse binds it to what the candidate shows:
1. the entity is found in the source, and read from spaCy's dependency parse: the object of a locative
   preposition ("in", "on", "across"...; for dates "in", "since", "during"...), a modifier of a noun ("the Port of
   Shenzhen", "Shenzhen's port"), the subject of its clause ("Shenzhen grew ..."), or the object of a verb of
   motion ("crossed the Alps"). Anything else ("after India", "for", "bordering") places nothing, unless the
   candidate repeats the sentence's own words ("grew ... after 1979");
2. the candidate's core, its head word and its verb's subject, is among the heads of what the entity is bound to
   (stems, so "harvest" is "harvesting"): the verb's clause, or the noun and the clause it is an argument of;
3. most of the candidate's words are in the source (`COVERAGE`): "the fall of the Berlin Wall in Rome" is not
   told by a sentence about the fall of Rome;
4. a date that dates a statistic ("in 2025 ... 19 %") dates no scene, nor does one in parentheses (life dates).
Measured on the labelled pairs of `benchmarks/data/support_pairs.tsv` (`benchmarks/support_precision.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

PLACE_PREPOSITIONS = {"in", "at", "on", "near", "across", "along", "throughout", "around", "over", "under", "inside",
                      "outside", "within", "into", "through", "off", "beside", "between", "among", "above", "below",
                      "beneath", "onto", "upon", "of", "from", "to", "towards", "toward", "via", "beyond", "past"}
DATE_PREPOSITIONS = {"in", "on", "at", "during", "since", "by", "until", "till", "from", "to", "around", "circa",
                     "throughout", "of", "between"}
MOTION = {"visit", "cross", "reach", "enter", "climb", "sail", "tour", "settl", "invad", "conquer", "explor",
          "travers", "occupi", "liber", "flood", "hit", "struck", "strike", "devast", "ravag"}
COVERAGE = 0.7  # share of the candidate's content words that its source must hold (set on the odd-numbered pairs)
ARTISTIC = {"dawn", "dusk", "morning", "light", "night", "rainy", "afternoon", "evening", "sunrise", "sunset",
            "winter", "summer", "spring", "autumn"}  # a time of day or a season: a painter's choice, not a claim
ARGUMENTS = {"nsubj", "nsubjpass", "dobj", "attr", "oprd", "appos"}  # a noun's part in its verb's clause
STATISTIC = re.compile(r"%|\bpercent|\bper cent|\bmillion|\bbillion|\bthousand|\bpopulation|\bGDP\b|\bpopulous|"
                        r"\baccount(?:s|ed)? for\b|\brank(?:s|ed)?\b|\bestimated\b|\binhabitants\b", re.IGNORECASE)
_FUNCTION = {"be", "is", "are", "was", "were", "been", "being", "have", "has", "had", "do", "does", "did", "the", "a",
             "an", "of", "in", "on", "at", "and", "or", "to", "with", "for", "by", "from", "its", "their", "it",
             "they", "this", "that", "which", "who", "as", "also", "one", "become", "became"}


@cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def stems(words) -> set[str]:
    """Snowball stems of the content words ("villages" and "village" are one)."""
    words = [w.lower() for w in words if w.lower() not in _FUNCTION and re.search(r"[a-z]", w.lower())]
    return set(_stemmer().stemWords(words))


@dataclass(frozen=True)
class Verdict:
    holds: bool
    why: str


def _heads(verb) -> list:
    """A clause's heads: the verb, its subject, object or attribute, and the verb it hands on to ("grew to be"). A
    relative clause's subject is its antecedent: "The Black Death was a plague pandemic [that occurred in Europe]"."""
    heads = [verb] + [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass", "dobj", "attr", "xcomp", "oprd")]
    heads += [c for h in heads[1:] if h.dep_ == "xcomp" for c in _heads(h)[1:]]
    if verb.dep_ in ("relcl", "acl") and verb.head.i != verb.i:
        antecedent = verb.head
        heads.append(antecedent)
        if antecedent.dep_ == "attr":  # "X was a Y that ...": X too
            heads += [c for c in antecedent.head.children if c.dep_ in ("nsubj", "nsubjpass")]
    return heads


def _clause_text(token) -> str:
    """The words of the clause a token is in, without the other clauses below its verb, however deep."""
    verb = token
    while verb.pos_ not in ("VERB", "AUX") and verb.head.i != verb.i:
        verb = verb.head

    def in_another_clause(t) -> bool:
        while t.i != verb.i:
            if t.dep_ in ("advcl", "ccomp", "conj", "parataxis", "relcl"):
                return True
            t = t.head
        return False

    return " ".join(t.text for t in verb.subtree if not in_another_clause(t))


def _anchor(root, kind: str):
    """What the entity is bound to in its sentence (or None), how, and the preposition the candidate must repeat
    where the sentence's own places nothing ("grew ... after 1979" is true only as "after 1979")."""
    while root.dep_ == "conj":  # "Beijing, Tianjin and Shanghai": the relation of the first of the list
        root = root.head
    dep = root.dep_
    if dep == "pobj":
        preposition = root.head
        allowed = PLACE_PREPOSITIONS if kind == "place" else DATE_PREPOSITIONS
        if preposition.lower_ not in allowed:  # "after India" places nothing, unless the candidate says "after" too
            return preposition.head, f"'{preposition.text} {root.text}'", preposition.lower_
        return preposition.head, f"'{preposition.text}' {root.text}", None
    if dep in ("compound", "poss", "nmod", "amod", "appos", "npadvmod", "nummod"):
        return root.head, f"modifies '{root.head.text}'", None
    if dep in ("nsubj", "nsubjpass", "ROOT"):
        return root, "its clause's subject", None
    if dep == "dobj" and stems([root.head.text]) & MOTION:
        return root.head, f"'{root.head.text}' it", None
    return None, f"a {dep or 'loose'} of the sentence", None


def _claim(anchor, entity_tokens: set[int]) -> list:
    """The words the anchor binds: the heads of its clause (for a noun, itself and the clause it is an argument
    of), with their compounds ("container port"). A noun that is itself in a place ("on the southern estuary of
    the Yangtze River") passes the place on to its head. Heads, not every word: "the first object to touch the
    Moon was Luna 2 in 1959" dates Luna 2's touching, not a landing that a later clause names."""
    while anchor.dep_ == "pobj" and anchor.head.lower_ in PLACE_PREPOSITIONS and anchor.head.head.i != anchor.i:
        anchor = anchor.head.head
    if anchor.pos_ in ("VERB", "AUX"):
        heads = _heads(anchor)
    elif anchor.dep_ in ARGUMENTS or anchor.dep_ == "ROOT":
        heads = [anchor] + _heads(anchor if anchor.dep_ == "ROOT" else anchor.head)
    else:
        heads = [anchor]
    tokens = heads + [c for h in heads for c in h.children if c.dep_ in ("compound", "amod", "acl", "relcl")]
    tokens += [o for h in heads if h.pos_ in ("NOUN", "PROPN") for p in h.children if p.dep_ == "prep"
               for o in p.children if o.dep_ == "pobj"]  # "the first crewed mission to land", "the Port of ..."
    return [t for t in tokens if t.i not in entity_tokens]


def _core(doc, entity: str) -> set[str]:
    """What a candidate shows: its head word, with its verb's subject or its noun's action ("children running");
    never its objects ("a satellite" of an astronaut repairing one), the entity, or the phrase that holds it.
    Where the entity is the subject itself ("Beijing is the capital"), what is said of it."""
    skip = {t.i for t in doc if entity.lower() in " ".join(x.text for x in t.subtree).lower() and t.dep_ == "prep"}
    skip = {x.i for i in skip for x in doc[i].subtree}

    def content(words) -> set[str]:
        return stems(t.text for t in words if t.i not in skip and t.text.lower() not in entity.lower())

    roots = [t for t in doc if t.dep_ == "ROOT"]
    core = content(roots + [c for r in roots for c in r.children if c.dep_ in ("nsubj", "nsubjpass", "acl", "relcl")])
    if not core:
        core = content(c for r in roots for c in r.children if c.dep_ in ("attr", "dobj", "acomp", "xcomp", "oprd"))
    return core


def parenthesised(doc) -> set[int]:
    """Indices of the tokens inside brackets."""
    inside, depth = set(), 0
    for t in doc:
        if t.text in "([":
            depth += 1
        if depth:
            inside.add(t.i)
        if t.text in ")]":
            depth = max(0, depth - 1)
    return inside


class Support:
    """`check(candidate, entity, kind, source)`: is this place ("place") or date ("date") of the candidate bound, in
    its source sentence, to what the candidate shows?"""

    def __init__(self, nlp, coverage: float = COVERAGE):
        self.nlp, self.coverage = nlp, coverage

    def check(self, candidate: str, entity: str, kind: str, source: str, title: str = "") -> Verdict:
        """`title`: the article the source is from, whose name a clause may have put for its "It"."""
        name = entity.removeprefix("the ").removeprefix("The ")
        at = source.lower().find(name.lower())
        if at < 0:
            return Verdict(False, "not in its source")
        rest = re.sub(re.escape(name), " ", candidate, flags=re.IGNORECASE)
        words = stems(w for w in re.findall(r"[\w'-]+", rest) if w.lower() not in ARTISTIC)
        covered = words & stems(re.findall(r"[\w'-]+", f"{title} {source}"))
        if words and len(covered) < self.coverage * len(words):
            return Verdict(False, f"the source is about something else: {', '.join(sorted(words - covered))}")
        cand_doc, source_doc = self.nlp.pipe([candidate, source])
        span = source_doc.char_span(at, at + len(name), alignment_mode="expand")
        if span is None:
            return Verdict(False, "not in its source")
        if span.start in parenthesised(source_doc):
            return Verdict(False, "in parentheses: an aside (a life's dates, another name)")
        anchor, how, repeat = _anchor(span.root, kind)
        if anchor is None:
            return Verdict(False, how)
        if repeat and f"{repeat} {name.lower()}" not in candidate.lower():
            return Verdict(False, f"{how} places nothing")
        claim = _claim(anchor, {t.i for t in span})
        if kind == "date" and STATISTIC.search(clause := _clause_text(anchor)):
            return Verdict(False, f"dates a statistic: {clause[:60]}")
        core = _core(cand_doc, entity)
        shared = core & stems(t.text for t in claim)
        if not shared:
            return Verdict(False, f"{how}, not {', '.join(sorted(core)) or 'the candidate'}")
        return Verdict(True, f"{how}: {', '.join(sorted(shared))}")

    def unsupported(self, candidate: str, entities, sources: list[str], topic: str, title: str = "") -> list[str]:
        """The places and dates of a candidate that no source binds to it (those of the topic are the user's)."""
        wrong = []
        for e in entities:
            if e.text.lower() in topic.lower():
                continue
            kind = "place" if e.kind == "spatial" else "date"
            if not any(self.check(candidate, e.text, kind, s, title).holds for s in sources):
                wrong.append(e.text)
        return wrong
