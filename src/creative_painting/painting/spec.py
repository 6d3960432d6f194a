"""One painting, one description: what `paint`, `batch` and the studio paint, checked once at the boundary.

A `PaintSpec` is prompts x artists x images (seeds `seed`, `seed + 1`, ...), a sampling preset with its
overrides, the caption's template and fields, and how a long caption is read. It is frozen.
- Its fields are the one table of a painting's settings (type, default, help, choices, bounds), from which
  come `paint`'s and `batch`'s flags (`add_flags`), a job file's keys, the studio's form and the API's keys.
- `check(raw)` is the one check, as diffusers' `check_inputs`: a request as typed (flags, form, JSON) becomes a
  checked spec in one call (a job file's, typed by `load_settings`, by `validate()`); nothing checks it again.
- `cells()` gives the one cell type, each with an id: the hash of everything that decides its pixels.
- `record()` is the one schema of what a picture was painted with. PNG text, `manifest.jsonl` (once `paint.json`)
  and the studio's gallery hold it, and `request_of` reads any of them back as the request that paints it again.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import re
import typing
from dataclasses import dataclass
from typing import Any

from creative_painting import __version__
from creative_painting.config_files import coerce
from creative_painting.errors import UserError
from creative_painting.models.adapter_files import Embedding, Lora, parse_all
from creative_painting.models.adapter_files import identity as adapters_identity
from creative_painting.painting.captions import DEFAULT_TEMPLATE, EXTENDED_TEMPLATE, Cell, build_cells
from creative_painting.sampling.presets import OVERRIDES, PRESETS, SamplingSettings
from creative_painting.sampling.samplers import SAMPLERS
from creative_painting.seeds import check_seed

MAX_IMAGES_PER_CELL = 100  # seeds of one prompt x artist
MAX_BATCH_SIZE = 256
MAX_PROMPT_CHARS = 2000  # about 400 tokens: a long prompt in chunks, not a page of text in every log line
MAX_GRID_IMAGES = 256  # painted in one process into one grid (paint, the studio); `batch` is for more
MAX_BATCH_CELLS = 10_000_000
LONG_PROMPTS = ("truncate", "chunk")
# A1111's extra-network tags: its prompt parser takes them out; CLIP here would read them as words
_A1111_TAG = re.compile(r"<\s*(?:lora|lyco|hypernet)\s*:[^>]*>", re.IGNORECASE)


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> Any:
    if value not in choices:
        raise UserError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _field(default: Any, help: str, **meta: Any) -> Any:
    """A row of the table; `meta`: `choices`, `bounds` (lo, hi), `job` and `flag` (its name there), `batch` (a flag
    of `batch` too), `former` (the job key and `batch` flag it had before, still read), `form=False` (not in the
    studio's form), `repeat` (a repeatable flag). A field without help is internal."""
    return dataclasses.field(default=default, metadata={"help": help, **meta})


@dataclass(frozen=True)
class PaintSpec:
    """Prompts x artists x images with one preset and its overrides; `None` keeps the preset's value."""

    prompts: tuple[str, ...] = _field((), "one row of the grid each", form=False)
    artists: tuple[str, ...] = _field((), "one column each (repeatable)", flag="artist", form=False, repeat=True)
    style: str | None = _field(None, "e.g. Post-Impressionism")
    genre: str | None = _field(None, "e.g. landscape")
    year: str | None = _field(None, "e.g. 1889")
    template: str | tuple[str, ...] | None = _field(  # one for every prompt, or one per prompt
        None, f"caption template; [...] parts are optional (default {DEFAULT_TEMPLATE!r}, with --extend "
              f"{EXTENDED_TEMPLATE!r})")
    negative: str = _field("", "negative prompt for classifier-free guidance")
    preset: str = _field("paper", "; ".join(f"{name}: " + ", ".join(f"{k} {v}" for k, v in vars(s).items()
                                                                   if v is not None) for name, s in PRESETS.items()),
                         choices=tuple(PRESETS), batch=True)
    sampler: str | None = _field(None, "the sampler", choices=tuple(SAMPLERS), batch=True)
    steps: int | None = _field(None, "sampler steps", batch=True)
    scale: float | None = _field(None, "guidance scale", batch=True)
    eta: float | None = _field(None, "DDIM eta (0 deterministic, 1 stochastic)", batch=True)
    width: int | None = _field(None, "image width in pixels, a multiple of 8", batch=True)
    height: int | None = _field(None, "image height in pixels, a multiple of 8", batch=True)
    seed: int = _field(0, "the first seed, shared by every cell so columns are comparable", batch=True)
    images: int = _field(1, "images per cell, with seeds SEED, SEED+1, ...", bounds=(1, MAX_IMAGES_PER_CELL),
                         batch=True, former="seeds")  # job files and `batch --seeds` named it so before
    batch_size: int = _field(4, "images painted together (more is faster on a GPU, needs more memory)",
                             bounds=(1, MAX_BATCH_SIZE), batch=True, form=False)
    long_prompt: str = _field("truncate", "captions over CLIP's 77 tokens: truncate (with a warning of what is "
                                          "cut) or chunk (75-token chunks encoded apart and concatenated, as A1111)",
                              choices=LONG_PROMPTS, batch=True, form=False)
    loras: tuple[Lora, ...] = _field((), "a LoRA file (kohya/A1111 or diffusers) and its weight, default 1 "
                                         "(repeatable)", flag="lora", job="lora", batch=True, repeat=True,
                                     metavar="FILE[:WEIGHT]")
    embeddings: tuple[Embedding, ...] = _field((), "a textual-inversion embedding (A1111 or diffusers) and the token "
                                                   "that calls it in a prompt, default the file's name (repeatable)",
                                               flag="embedding", job="embedding", batch=True, repeat=True,
                                               metavar="FILE[:TOKEN]")
    pad_batch_to: int | None = None  # a repaint's batch: the size of the batch its image was painted in

    def __post_init__(self) -> None:  # lists from a form, a job file or the command line: kept as tuples
        for name in ("prompts", "artists", "template"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        if isinstance(self.prompts, str):
            object.__setattr__(self, "prompts", (self.prompts,))
        object.__setattr__(self, "loras", parse_all(self.loras, Lora))
        object.__setattr__(self, "embeddings", parse_all(self.embeddings, Embedding))

    @classmethod
    def check(cls, raw: Any, *, max_images: int = MAX_GRID_IMAGES) -> PaintSpec:
        """The one check of a request as typed (flags' text, a form's numbers, the API's JSON): unknown keys
        and wrong types are one-line errors, never a crash; then every limit (`validate`)."""
        if not isinstance(raw, dict):
            raise UserError("a paint request must be a JSON object")
        unknown = sorted(set(raw) - set(FIELDS))
        if unknown:
            raise UserError(f"unknown paint option {unknown[0]!r}; known: {', '.join(FIELDS)}")
        if "prompts" not in raw:
            raise UserError("a paint request needs prompts")
        return cls(**{name: _coerce(name, value) for name, value in raw.items()}).validate(max_images)

    def settings(self) -> SamplingSettings:
        """The preset with this spec's overrides (sampler, steps, scale, eta, width, height), checked by
        `validate` when the spec came in."""
        return PRESETS[self.preset].with_overrides(**{k: getattr(self, k) for k in OVERRIDES})

    def grid(self) -> list[Cell]:
        """One cell per prompt x artist, before seeds."""
        template = self.template or DEFAULT_TEMPLATE
        return build_cells(list(self.prompts), list(self.artists), style=self.style, genre=self.genre, year=self.year,
                           template=template if isinstance(template, str) else list(template))

    def count(self) -> int:
        return len(self.prompts) * max(1, len(self.artists)) * self.images

    def validate(self, max_images: int = MAX_GRID_IMAGES) -> PaintSpec:
        """Every limit, with one-line messages, before any model loads: the sampling settings, the table's
        choices and bounds, seeds, then the prompts. `max_images` is the grid's bound where one process paints
        it all; `batch` passes its own."""
        for f in dataclasses.fields(self):
            value, lo_hi, choices = getattr(self, f.name), f.metadata.get("bounds"), f.metadata.get("choices")
            if choices and value is not None:
                check_choice(f.name, value, choices)
            if lo_hi and not lo_hi[0] <= value <= lo_hi[1]:
                raise UserError(f"{f.name} must be in {lo_hi[0]}..{lo_hi[1]}, got {value}")
        self.settings().validate()
        if self.pad_batch_to is not None and not 1 <= self.pad_batch_to <= self.batch_size:
            raise UserError(f"pad_batch_to must be in 1..batch_size ({self.batch_size}), got {self.pad_batch_to}")
        check_seed(self.seed, "seed")
        check_seed(self.seed + self.images - 1, "seed + images - 1")
        checked = dataclasses.replace(self, loras=tuple(a.check() for a in self.loras),
                                      embeddings=tuple(e.check() for e in self.embeddings))
        tokens = [e.token for e in checked.embeddings]
        if len(set(tokens)) < len(tokens):
            raise UserError(f"two embeddings share the token {next(t for t in tokens if tokens.count(t) > 1)!r}; "
                            "give each its own, FILE:TOKEN")
        return checked.with_prompts(self.prompts, self.template, max_images)

    def with_prompts(self, prompts: list[str] | tuple[str, ...], template: Any,
                     max_images: int = MAX_GRID_IMAGES) -> PaintSpec:
        """This spec with other prompts (`--extend`'s), checking what prompts decide: their length, the grid,
        the count; the rest was checked when the spec came in."""
        spec = dataclasses.replace(self, prompts=tuple(prompts), template=template)
        templates = [spec.template] if isinstance(spec.template, str) else list(spec.template or ())
        for where, text in [*(("a prompt", p) for p in spec.prompts), ("the negative prompt", spec.negative),
                            *(("an artist", a) for a in spec.artists), *(("the template", t) for t in templates)]:
            if tag := _A1111_TAG.search(text):
                raise UserError(f"{where} holds A1111's tag {tag.group(0)!r}, which is not read here (CLIP would "
                                f"paint it as words): remove it and name the file with --lora FILE:WEIGHT (in a job "
                                f"file: lora; the studio: LoRA files)")
        longest = max((len(p) for p in spec.prompts), default=0)
        if longest > MAX_PROMPT_CHARS:
            raise UserError(f"a prompt of {longest:,} characters is more than {MAX_PROMPT_CHARS:,}; "
                            "CLIP reads 77 tokens (about 300 characters), --long-prompt chunk all of them")
        spec.grid()  # empty prompts or artists, templates that do not match the prompts
        if spec.count() > max_images:
            raise UserError(f"{spec.count():,} images (prompts x artists x images) is more than {max_images:,} in one "
                            + ("request; use `creative-painting batch` for large jobs" if max_images == MAX_GRID_IMAGES
                               else "job; split the job"))
        return spec

    def cells(self, model: str = "", config: str | None = None) -> list[Cell]:
        """Every prompt x artist x seed, in that order; each id hashes caption, negative, seed, settings and model."""
        identity: dict[str, Any] = {"settings": dataclasses.asdict(self.settings()), "model": model,
                                    "negative": self.negative}
        if config:  # only when given: ids of batch jobs without it stay as they were (their folders resume)
            identity["config"] = config
        if self.long_prompt != "truncate":
            identity["long_prompt"] = self.long_prompt
        if self.loras or self.embeddings:  # only then: ids of cells painted without them stay as they were
            identity["adapters"] = adapters_identity(self.loras, self.embeddings)
        cells = []
        for cell in self.grid():
            for k in range(self.images):
                key = json.dumps({**identity, "caption": cell.caption, "seed": self.seed + k}, sort_keys=True)
                cells.append(dataclasses.replace(cell, seed=self.seed + k, image=k, negative=self.negative,
                                                 id=hashlib.sha256(key.encode()).hexdigest()[:20]))
        return cells

    def record(self, cell: Cell, *, model: str, batch: int) -> dict[str, Any]:
        """What `cell` was painted with: the PNG's text, a line of the manifest."""
        s = self.settings()
        return {"prompt": cell.prompt, "caption": cell.caption, "template": cell.template, "artist": cell.artist,
                "style": cell.style, "genre": cell.genre, "year": cell.year, "negative_prompt": cell.negative or None,
                "seed": cell.seed, "sampler": s.sampler, "steps": s.steps, "scale": s.scale, "eta": s.eta,
                "width": s.width, "height": s.height, "long_prompt": self.long_prompt, "batch_size": batch,
                "model": model, "software": f"creative-painting {__version__}",
                **({"loras": [a.record() for a in self.loras]} if self.loras else {}),
                **({"embeddings": [e.record() for e in self.embeddings]} if self.embeddings else {})}

    def to_json(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


def request_of(record: dict[str, Any]) -> dict[str, Any]:
    """A record (a PNG's, a manifest line or an old paint.json's) as the spec's JSON (a form's or the API's): what
    `PaintSpec.check` turns into the one-image spec that repaints its picture bit for bit. The same batch size
    gives the same sums, so a picture painted in a batch of 4 is repainted padded to 4."""
    request: dict[str, Any] = {"prompts": [record.get("prompt") or record.get("caption") or ""],
                               "artists": [record["artist"]] if record.get("artist") else [],
                               "negative": record.get("negative_prompt") or ""}
    for key in FIELDS:  # the record's keys that are the spec's: caption fields, sampling settings, seed
        if key not in request and record.get(key) is not None:
            request[key] = record[key]
    for key in ("loras", "embeddings"):  # each file by the path it was read from, and the content it had
        request.pop(key, None)
        if record.get(key):
            request[key] = [{k: v for k, v in item.items() if k != "name"} for item in record[key]]
    batch = record.get("batch_size", record.get("batch"))  # "batch" in pictures painted before it was renamed
    request.pop("batch_size", None)
    if isinstance(batch, int) and batch > 1:
        request["batch_size"] = request["pad_batch_to"] = batch
    template = record.get("template") or _template_of(record, request)
    if template:
        request["template"] = template
    return request


def _template_of(record: dict[str, Any], request: dict[str, Any]) -> str | None:
    """PNGs of version 0.3 and older carry no template: the known one that gives back their caption."""
    if not all(isinstance(text, str) for text in [*request["prompts"], *request["artists"]]):
        return None  # a damaged or hostile record: `PaintSpec.check` says what is wrong, in one line
    for template in (DEFAULT_TEMPLATE, EXTENDED_TEMPLATE):
        try:
            cell = build_cells(request["prompts"], request["artists"] or None, template=template,
                               style=record.get("style"), genre=record.get("genre"), year=record.get("year"))[0]
        except UserError:
            return None
        if cell.caption == record.get("caption"):
            return template
    return None


TABLE = tuple(f for f in dataclasses.fields(PaintSpec) if "help" in f.metadata)  # a user's fields, not internal ones
FIELDS = tuple(f.name for f in dataclasses.fields(PaintSpec))
FORMER = {f.metadata["former"]: f.name for f in TABLE if "former" in f.metadata}  # old job keys -> today's
DEFAULTS = {f.name: f.default for f in dataclasses.fields(PaintSpec)}
TYPES = typing.get_type_hints(PaintSpec)  # resolved once: the annotations are strings (PEP 563)


def _coerce(name: str, value: Any) -> Any:
    """A blank form field keeps the default, as an omitted flag does; else the job files' rules (`coerce`)."""
    if name not in ("prompts", "artists") and (value is None or isinstance(value, str) and not value.strip()):
        return DEFAULTS[name]
    return coerce(name, TYPES[name], value, where="")


def add_flags(parser: argparse.ArgumentParser, *, job_file: bool = False, prompts: str = "+") -> None:
    """The table's fields as flags: `paint`'s every one; `batch`'s the sampling ones, named as the job file's keys,
    each overriding the key (default None, the file's stays). Read as text: `check` or the job file's coercion is
    their one check, with the same messages as a form's."""
    for f in TABLE:
        name, meta = f.metadata.get("job", f.name) if job_file else f.metadata.get("flag", f.name), f.metadata
        if job_file and not meta.get("batch"):
            continue
        default = "the preset's" if f.default is None and f.name in OVERRIDES else f.default
        where = "job default" if job_file else "default"
        text = meta["help"] + (f" ({where}: {default})" if default not in (None, "", ()) else "")
        if f.name == "prompts":
            parser.add_argument("prompts", nargs=prompts, metavar="PROMPT", help=meta["help"])
        else:
            metavar = "{" + ",".join(meta["choices"]) + "}" if "choices" in meta else meta.get("metavar")
            former = [f"--{meta['former']}"] if job_file and "former" in meta else []
            parser.add_argument(f"--{name.replace('_', '-')}", *former, dest=name, help=text, metavar=metavar,
                                action="append" if meta.get("repeat") else "store")


def flag_values(args: argparse.Namespace, *, job_file: bool = False) -> dict[str, Any]:
    """The flags given (not None), by the spec's field names (or, `job_file`, the job's keys)."""
    names = {f.metadata.get("job", f.name) if job_file else f.metadata.get("flag", f.name): f.name for f in TABLE}
    given = {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
    return given if job_file else {names[k]: v for k, v in given.items()}
