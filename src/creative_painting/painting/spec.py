"""One painting, one description: what `paint`, `batch` and the studio paint, checked once at the boundary.

A `PaintSpec` is prompts x artists x images (seeds `seed`, `seed + 1`, ...), a sampling preset with its
overrides, the caption's template and fields, and how a long caption is read. It is frozen.
- `validate()` holds every limit, the same for every front end, and runs where the spec comes in.
- `cells()` gives the one cell type, each with an id: the hash of everything that decides its pixels.
- `record()` is the one schema of what a picture was painted with. PNG text, paint.json, the batch manifest
  and the studio's gallery hold it, and `from_record` paints any of them again, exactly.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import typing
from dataclasses import dataclass
from typing import Any

from creative_painting import __version__
from creative_painting.config_files import coerce
from creative_painting.errors import UserError
from creative_painting.painting.captions import DEFAULT_TEMPLATE, Cell, build_cells
from creative_painting.sampling.presets import OVERRIDES, SamplingSettings, get_preset
from creative_painting.seeds import check_seed

MAX_IMAGES_PER_CELL = 100  # seeds of one prompt x artist
MAX_BATCH_SIZE = 256
MAX_PROMPT_CHARS = 2000  # about 400 tokens: a long prompt in chunks, not a page of text in every log line
MAX_GRID_IMAGES = 256  # painted in one process into one grid (paint, the studio); `batch` is for more
MAX_BATCH_CELLS = 10_000_000
LONG_PROMPTS = ("truncate", "chunk")


def check_long_prompt(mode: str) -> str:
    if mode not in LONG_PROMPTS:
        raise UserError(f"long_prompt must be one of {', '.join(LONG_PROMPTS)}, got {mode!r}")
    return mode


@dataclass(frozen=True)
class PaintSpec:
    """Prompts x artists x images with one preset and its overrides; `None` keeps the preset's value."""

    prompts: tuple[str, ...]
    artists: tuple[str, ...] = ()
    style: str | None = None
    genre: str | None = None
    year: str | None = None
    template: str | tuple[str, ...] | None = None  # one for every prompt, or one per prompt
    negative: str = ""
    preset: str = "paper"
    sampler: str | None = None
    steps: int | None = None
    scale: float | None = None
    eta: float | None = None
    width: int | None = None
    height: int | None = None
    seed: int = 0
    images: int = 1  # per cell, with seeds seed, seed + 1, ... (`batch` calls them `seeds`)
    batch_size: int = 4
    long_prompt: str = "truncate"  # or "chunk": every token of a long caption is read
    pad_batch_to: int | None = None  # a repaint's batch: the size of the batch its image was painted in

    def __post_init__(self) -> None:  # lists from a form, a job file or the command line: kept as tuples
        for name in ("prompts", "artists", "template"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        if isinstance(self.prompts, str):
            object.__setattr__(self, "prompts", (self.prompts,))

    def settings(self) -> SamplingSettings:
        """The preset with this spec's overrides (sampler, steps, scale, eta, width, height), checked."""
        return get_preset(self.preset).with_overrides(**{k: getattr(self, k) for k in OVERRIDES}).validate()

    def grid(self) -> list[Cell]:
        """One cell per prompt x artist, before seeds."""
        template = self.template or DEFAULT_TEMPLATE
        return build_cells(list(self.prompts), list(self.artists), style=self.style, genre=self.genre, year=self.year,
                           template=template if isinstance(template, str) else list(template))

    def count(self) -> int:
        return len(self.prompts) * max(1, len(self.artists)) * self.images

    def check_numbers(self) -> PaintSpec:
        """The limits that need no prompt: sampling, batch, images, seeds (a job file before its prompts come)."""
        self.settings()
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            raise UserError(f"batch_size must be in 1..{MAX_BATCH_SIZE}, got {self.batch_size}")
        if self.pad_batch_to is not None and not 1 <= self.pad_batch_to <= self.batch_size:
            raise UserError(f"pad_batch_to must be in 1..batch_size ({self.batch_size}), got {self.pad_batch_to}")
        if not 1 <= self.images <= MAX_IMAGES_PER_CELL:
            raise UserError(f"images (seeds) must be in 1..{MAX_IMAGES_PER_CELL} per cell, got {self.images}")
        check_long_prompt(self.long_prompt)
        check_seed(self.seed, "seed")
        check_seed(self.seed + self.images - 1, "seed + images (seeds) - 1")
        return self

    def validate(self, max_images: int = MAX_GRID_IMAGES) -> PaintSpec:
        """Every limit, with one-line messages, before any model loads. `max_images` is the grid's bound where
        one process paints it all; `batch` passes its own."""
        self.check_numbers()
        longest = max((len(p) for p in self.prompts), default=0)
        if longest > MAX_PROMPT_CHARS:
            raise UserError(f"a prompt of {longest:,} characters is more than {MAX_PROMPT_CHARS:,}; "
                            "CLIP reads 77 tokens (about 300 characters), --long-prompt chunk all of them")
        self.grid()  # empty prompts or artists, templates that do not match the prompts
        if self.count() > max_images:
            raise UserError(f"{self.count():,} images (prompts x artists x images) is more than {max_images:,} in one "
                            + ("request; use `creative-painting batch` for large jobs" if max_images == MAX_GRID_IMAGES
                               else "job; split the job"))
        return self

    def cells(self, model: str = "", config: str | None = None) -> list[Cell]:
        """Every prompt x artist x seed, in that order; each id hashes caption, negative, seed, settings and model."""
        identity: dict[str, Any] = {"settings": dataclasses.asdict(self.settings()), "model": model,
                                    "negative": self.negative}
        if config:  # only when given: ids of batch jobs without it stay as they were (their folders resume)
            identity["config"] = config
        if self.long_prompt != "truncate":
            identity["long_prompt"] = self.long_prompt
        cells = []
        for cell in self.grid():
            for k in range(self.images):
                key = json.dumps({**identity, "caption": cell.caption, "seed": self.seed + k}, sort_keys=True)
                cells.append(dataclasses.replace(cell, seed=self.seed + k, image=k, negative=self.negative,
                                                 id=hashlib.sha256(key.encode()).hexdigest()[:20]))
        return cells

    def record(self, cell: Cell, *, model: str, batch: int) -> dict[str, Any]:
        """What `cell` was painted with: the PNG's text, a line of paint.json or of a batch manifest."""
        s = self.settings()
        return {"prompt": cell.prompt, "caption": cell.caption, "template": cell.template, "artist": cell.artist,
                "style": cell.style, "genre": cell.genre, "year": cell.year, "negative_prompt": cell.negative or None,
                "seed": cell.seed, "sampler": s.sampler, "steps": s.steps, "scale": s.scale, "eta": s.eta,
                "width": s.width, "height": s.height, "long_prompt": self.long_prompt, "batch": batch,
                "model": model, "software": f"creative-painting {__version__}"}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> PaintSpec:
        """The one-image spec that paints a recorded picture again, bit for bit (its batch padded as it was)."""
        return cls.from_json(request_of(record))

    def to_json(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_json(cls, data: Any) -> PaintSpec:
        """From a form or the HTTP API: unknown keys and wrong types are one-line errors, never a crash."""
        if not isinstance(data, dict):
            raise UserError("a paint request must be a JSON object")
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            raise UserError(f"unknown paint option {unknown[0]!r}; known: {', '.join(FIELDS)}")
        if "prompts" not in data:
            raise UserError("a paint request needs prompts")
        return cls(**{name: _coerce(name, value) for name, value in data.items()}).validate()


def request_of(record: dict[str, Any]) -> dict[str, Any]:
    """A record as the spec's JSON (a form's or the API's): what repaints its picture. The same batch size
    gives the same sums, so a picture painted in a batch of 4 is repainted padded to 4."""
    request: dict[str, Any] = {"prompts": [record.get("prompt") or record.get("caption") or ""],
                               "artists": [record["artist"]] if record.get("artist") else [],
                               "negative": record.get("negative_prompt") or ""}
    for key in ("style", "genre", "year", "template", "sampler", "steps", "scale", "eta", "width", "height", "seed",
                "long_prompt"):
        if record.get(key) is not None:
            request[key] = record[key]
    if isinstance(record.get("batch"), int) and record["batch"] > 1:
        request["batch_size"] = request["pad_batch_to"] = record["batch"]
    return request


FIELDS = tuple(f.name for f in dataclasses.fields(PaintSpec))
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(PaintSpec)}
_TYPES = typing.get_type_hints(PaintSpec)  # resolved once: the annotations are strings (PEP 563)


def _coerce(name: str, value: Any) -> Any:
    """A blank form field keeps the default, as an omitted flag does; else the job files' rules (`coerce`)."""
    if name not in ("prompts", "artists") and (value is None or isinstance(value, str) and not value.strip()):
        return _DEFAULTS[name]
    return coerce(name, _TYPES[name], value, where="")
