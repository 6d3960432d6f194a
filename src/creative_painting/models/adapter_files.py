"""The LoRA and textual-inversion files a request names: `FILE[:WEIGHT]` and `FILE[:TOKEN]`, as A1111 users
write them, checked before any model loads, and recorded by name, SHA-256 and weight (A1111's "Lora hashes").

This module imports no torch: `--help` builds every parser with it.
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from creative_painting.errors import UserError

SUFFIXES = (".safetensors", ".pt", ".bin")  # kohya/A1111 and diffusers .safetensors; diffusers .bin; A1111 .pt


@lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:  # keyed by size and time: a changed file is hashed again
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _split(text: str) -> tuple[str, str | None]:
    """`FILE:TAIL` -> (FILE, TAIL); a path that exists as typed, or a tail that looks like a path, has no tail."""
    head, colon, tail = text.rpartition(":")
    if not colon or os.path.exists(text) or not head or any(c in tail for c in "/\\"):
        return text, None
    return head, tail


def _weight(value: Any) -> float:
    try:
        weight = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        weight = None
    if weight is None or not math.isfinite(weight):
        raise UserError(f"a lora's weight must be a finite number, got {value!r}")
    return weight


@dataclass(frozen=True)
class Adapter:
    """A file that changes what a model paints; `sha256` is filled by `check`, or recorded by a picture."""

    path: str
    sha256: str = ""
    kind = "adapter"
    # The field typed after `FILE:` and recorded under its name (a LoRA's weight, an embedding's token), its value
    # when not given, and how a value typed or recorded is read.
    tail, default_tail, read_tail = "", None, None

    @classmethod
    def parse(cls, value: Any) -> Adapter:
        """`FILE[:TAIL]` as typed, a record's {"path", "sha256", TAIL}, or one parsed already."""
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            return cls(str(value.get("path", "")), str(value.get("sha256") or ""),
                       cls.read_tail(value.get(cls.tail, cls.default_tail)))
        if not isinstance(value, str) or not value.strip():
            raise UserError(f"{cls.kind} must be FILE[:{cls.tail.upper()}], got {value!r}")
        path, tail = _split(value.strip())
        return cls(path, "", cls.read_tail(cls.default_tail if tail is None else tail))

    def check(self) -> Adapter:
        """The file is there, not empty, of a known type, and (when a picture recorded it) the same file."""
        path = Path(self.path).expanduser()
        recorded = f" (sha256 {self.sha256[:12]}... recorded)" if self.sha256 else ""
        if not path.is_file():
            raise UserError(f"{self.kind} file not found: {self.path}{recorded}")
        if path.suffix.lower() not in SUFFIXES:
            raise UserError(f"{self.kind} {path.name}: expected a {'/'.join(SUFFIXES)} file")
        stat = path.stat()
        if stat.st_size == 0:
            raise UserError(f"{self.kind} {path.name} is an empty file")
        digest = _sha256(str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if self.sha256 and digest != self.sha256:
            raise UserError(f"{self.kind} {path.name} is not the file the picture was painted with "
                            f"(sha256 {self.sha256[:12]}... recorded, {digest[:12]}... now)")
        return replace(self, path=str(path.resolve()), sha256=digest)

    def record(self) -> dict[str, Any]:
        return {"name": Path(self.path).name, "path": self.path, "sha256": self.sha256,
                self.tail: getattr(self, self.tail)}


@dataclass(frozen=True)
class Lora(Adapter):
    weight: float = 1.0
    kind, tail, default_tail = "lora", "weight", 1.0
    read_tail = staticmethod(_weight)

    def __str__(self) -> str:
        return f"{self.path}:{self.weight:g}"


@dataclass(frozen=True)
class Embedding(Adapter):
    token: str = ""  # the word that calls it in a prompt; A1111's default: the file's name
    kind, tail, default_tail = "embedding", "token", ""

    @staticmethod
    def read_tail(value: Any) -> str:
        return str(value or "")

    def __post_init__(self) -> None:
        if not self.token:
            object.__setattr__(self, "token", Path(self.path).stem)
        if not self.token or any(c.isspace() for c in self.token):
            raise UserError(f"embedding {Path(self.path).name}: a token is one word, got {self.token!r}")

    def __str__(self) -> str:
        return f"{self.path}:{self.token}"


def parse_all(value: Any, kind: type[Lora] | type[Embedding]) -> tuple:
    """A field's adapters from a tuple, a list, or a form's text of one per line."""
    items = [value] if isinstance(value, str) else list(value or ())
    lines = [line for item in items for line in (item.splitlines() if isinstance(item, str) else [item])]
    return tuple(kind.parse(v) for v in lines if not isinstance(v, str) or v.strip())


def identity(loras: tuple[Lora, ...], embeddings: tuple[Embedding, ...]) -> list:
    """What decides pixels: each file's content, its weight or its token (not where the file lies)."""
    return [["lora", a.sha256, a.weight] for a in loras] + [["embedding", e.sha256, e.token] for e in embeddings]
