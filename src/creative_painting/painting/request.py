"""What a person asks to paint, checked the same way whether it comes from `paint` or the studio's form."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from creative_painting.errors import UserError
from creative_painting.painting.captions import DEFAULT_TEMPLATE, Cell, build_cells
from creative_painting.sampling.presets import SamplingSettings, preset_settings
from creative_painting.seeds import check_seed

MAX_IMAGES_PER_CELL = 16
MAX_PROMPT_CHARS = 2000  # about 400 tokens: a long prompt in chunks, not a page of text in every log line
MAX_GRID_IMAGES = 256  # one request, from `paint`, the studio's form or its API; `batch` is for more


LONG_PROMPTS = ("truncate", "chunk")


def check_long_prompt(mode: str) -> str:
    if mode not in LONG_PROMPTS:
        raise UserError(f"long_prompt must be one of {', '.join(LONG_PROMPTS)}, got {mode!r}")
    return mode


@dataclass
class PaintRequest:
    """Prompts x artists with one preset and its overrides; `None` keeps the preset's value."""

    prompts: list[str]
    artists: list[str] = field(default_factory=list)
    style: str | None = None
    genre: str | None = None
    year: str | None = None
    template: str | list[str] | None = None  # one for every prompt, or one per prompt
    negative: str = ""
    preset: str = "paper"
    sampler: str | None = None
    steps: int | None = None
    scale: float | None = None
    eta: float | None = None
    width: int | None = None
    height: int | None = None
    seed: int = 0
    images: int = 1
    batch_size: int = 4
    long_prompt: str = "truncate"  # or "chunk": every token of a long caption is read
    pad_batch_to: int | None = None  # PNG info: the size of the batch an image was painted in (bit-for-bit repaint)

    def settings(self) -> SamplingSettings:
        return preset_settings(self)

    def cells(self) -> list[Cell]:
        return build_cells(self.prompts, self.artists, template=self.template or DEFAULT_TEMPLATE,
                           style=self.style, genre=self.genre, year=self.year)

    def validate(self) -> PaintRequest:
        """Every check `paint` makes before loading a model, with the same one-line messages."""
        self.settings()
        longest = max((len(p) for p in self.prompts), default=0)
        if longest > MAX_PROMPT_CHARS:
            raise UserError(f"a prompt of {longest:,} characters is more than {MAX_PROMPT_CHARS:,}; "
                            "CLIP reads 77 tokens (about 300 characters), --long-prompt chunk all of them")
        if self.batch_size < 1:
            raise UserError(f"batch_size must be at least 1, got {self.batch_size}")
        if self.pad_batch_to is not None and not 1 <= self.pad_batch_to <= self.batch_size:
            raise UserError(f"pad_batch_to must be in 1..batch_size ({self.batch_size}), got {self.pad_batch_to}")
        if not 1 <= self.images <= MAX_IMAGES_PER_CELL:
            raise UserError(f"images must be in 1..{MAX_IMAGES_PER_CELL} per cell, got {self.images}")
        check_long_prompt(self.long_prompt)
        check_seed(self.seed, "seed")
        check_seed(self.seed + self.images - 1, "seed + images - 1")
        cells = self.cells()
        if len(cells) * self.images > MAX_GRID_IMAGES:
            raise UserError(f"{len(cells) * self.images:,} images (prompts x artists x images) is more than "
                            f"{MAX_GRID_IMAGES} in one request; use `creative-painting batch` for large jobs")
        return self

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> PaintRequest:
        """From a form or the HTTP API: unknown keys and wrong types are one-line errors, never a crash."""
        if not isinstance(data, dict):
            raise UserError("a paint request must be a JSON object")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise UserError(f"unknown paint option {unknown[0]!r}; known: {', '.join(fields)}")
        if "prompts" not in data:
            raise UserError("a paint request needs prompts")
        values = {name: _coerce(name, value) for name, value in data.items()}
        return cls(**values).validate()


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(PaintRequest) if f.name not in ("prompts", "artists")}
_LISTS = {"prompts", "artists"}
_TEXT_OR_LIST = {"template"}
_INTS = {"steps", "width", "height", "seed", "images", "batch_size", "pad_batch_to"}
_FLOATS = {"scale", "eta"}


def _coerce(name: str, value: Any) -> Any:
    if name in _TEXT_OR_LIST and isinstance(value, list):
        if not all(isinstance(v, str) for v in value):
            raise UserError(f"{name} must be a text or a list of texts")
        return value
    if name in _LISTS:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise UserError(f"{name} must be a list of texts")
        return value
    if value is None or (isinstance(value, str) and not value.strip()):
        return _DEFAULTS[name]  # a blank form field keeps the default, as an omitted flag does
    if name in _INTS:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise UserError(f"{name} must be an integer, got {value!r}")
        return value
    if name in _FLOATS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UserError(f"{name} must be a number, got {value!r}")
        return float(value)
    if not isinstance(value, str | int):
        raise UserError(f"{name} must be a text, got {value!r}")
    return str(value)
