"""Make a candidate fit CLIP's 77 tokens before it is scored: a painting never sees what is cut.

In order, until the text fits: drop parentheticals, then appositions and other comma-enclosed asides that name
no entity, then trailing clauses, choosing the cut that keeps the most places and times. Only when nothing
else is left, words are dropped from the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache

from creative_painting.extension.entities import Entity

CLIP_TOKENS = 77  # with the start and end tokens
_BRACKETED = re.compile(r"\s*[(\[][^()\[\]]*[)\]]")
_ASIDE = re.compile(r",\s+[^,;]+?,|\s[—–]\s[^—–]+?\s[—–]\s")  # ", sometimes called X," or " – from 1760 to 1840 – "
_CLAUSE = re.compile(r"(?:,|;|\s[—–])\s+(?=\S)")  # where a trailing clause may be cut


@cache
def _clip_tokenizer():
    from creative_painting.models.tokenizer import clip_token_counter

    tokenizer = clip_token_counter()
    tokenizer.no_truncation()
    return tokenizer


def clip_length(text: str) -> int:
    """Tokens CLIP's text encoder reads for `text`, start and end tokens included."""
    return len(_clip_tokenizer().encode(text, add_special_tokens=False).ids) + 2


def fits(text: str) -> bool:
    return clip_length(text) <= CLIP_TOKENS


def _tidy(text: str) -> str:
    text = re.sub(r"\s+([,.;:!?])", r"\1", re.sub(r"\s{2,}", " ", text)).strip()
    return re.sub(r"[,;:—–.\s]+$", "", text)


def _kept(text: str, entities: Sequence[Entity]) -> int:
    return sum(e.text in text for e in entities)


def shorten(text: str, entities: Sequence[Entity] = (), fit: Callable[[str], bool] = fits) -> str:
    """`text` itself when it fits; otherwise a shorter version that does, keeping `entities` where it can."""
    if fit(text):
        return text
    end = "." if text.rstrip().endswith(".") else ""
    text = _tidy(_BRACKETED.sub("", text))
    while not fit(text + end):
        asides = [m for m in _ASIDE.finditer(text) if _kept(m.group(0), entities) == 0]
        if not asides:
            break
        longest = max(asides, key=lambda m: len(m.group(0)))
        text = _tidy(text[: longest.start()] + " " + text[longest.end() :])
    if not fit(text + end):
        prefixes = [_tidy(text[: m.start()]) for m in _CLAUSE.finditer(text)]
        prefixes = [p for p in prefixes if len(p.split()) >= 4 and fit(p + end)]
        if prefixes:
            text = max(prefixes, key=lambda p: (_kept(p, entities), len(p)))
    words = text.split()
    while len(words) > 1 and not fit(" ".join(words) + end):
        words.pop()
    return _tidy(" ".join(words)) + end
