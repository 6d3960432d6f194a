"""A batch job: a `PaintSpec` and where its prompts and artists come from (files, WikiArt's top:N), with the
model that paints it. The job file's keys are the spec's (`seeds` are its images per cell) and the model's.

Each cell's id hashes everything that decides its pixels (caption, negative, seed, settings, model), so a
changed setting can never be mistaken for a finished cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from creative_painting.errors import UserError
from creative_painting.models.configs import DEFAULT_MODEL
from creative_painting.models.spec import BACKENDS, ModelSpec
from creative_painting.painting.captions import Cell
from creative_painting.painting.spec import FIELDS, MAX_BATCH_CELLS, PaintSpec
from creative_painting.textfiles import read_texts


def cell_file(cell: Cell) -> str:
    """Where a batch writes the cell's image: prompt, artist and seed indices, and the start of its id."""
    return f"images/p{cell.row:05d}-a{cell.col:03d}-s{cell.image:02d}-{cell.id[:10]}.png"


@dataclass
class BatchJob:
    """YAML/TOML keys of a job file; `paint`-like flags override them."""

    prompts: list[str] = field(default_factory=list)
    prompts_file: str | None = None  # one prompt a line, or a .tsv/.csv whose `prompts_column` holds them
    prompts_column: str = "Prompt"  # PartiPrompts.tsv
    artists: list[str] = field(default_factory=list)  # names; ["top:30"]: WikiArt's top 30 (from `wikiart` if given)
    artists_file: str | None = None
    wikiart: str | None = None  # a WikiArt SOURCE to rank top:N by (default: the shipped ArtGAN ranking)
    seeds: int = 1  # images per prompt x artist, with seeds seed, seed + 1, ...
    seed: int = 0
    template: str | None = None
    style: str | None = None
    genre: str | None = None
    year: str | None = None
    negative: str = ""
    long_prompt: str = "truncate"  # or "chunk", as `paint --long-prompt`
    model: str = DEFAULT_MODEL
    config: str | None = None  # a diffusers folder whose configs describe a non-SD-v1 single file
    preset: str = "paper"
    sampler: str | None = None
    steps: int | None = None
    scale: float | None = None
    eta: float | None = None
    width: int | None = None
    height: int | None = None
    batch_size: int = 4
    device: str = "auto"
    dtype: str = "auto"
    backend: str = "torch"  # or "openvino" (CPU)

    def validate(self) -> BatchJob:
        """What a job file can be checked for before its prompts are read: the spec's limits, the backend."""
        if self.backend not in BACKENDS:
            raise UserError(f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        self._spec((), ()).check_numbers()
        return self

    def _spec(self, prompts: tuple[str, ...], artists: tuple[str, ...]) -> PaintSpec:
        """The job's keys that are the spec's, by name (tests/painting/test_spec.py keeps the two lists in step)."""
        return PaintSpec(prompts, artists, images=self.seeds, **{name: getattr(self, name) for name in _SPEC_KEYS})

    def spec(self) -> PaintSpec:
        """The painting this job describes, its prompt and artist files read and checked: every limit, once."""
        artists = tuple(a for a in self.artist_list() if a is not None)
        return self._spec(tuple(self.prompt_list()), artists).validate(max_images=MAX_BATCH_CELLS)

    def model_spec(self) -> ModelSpec:
        return ModelSpec(self.model, self.config, self.device, self.dtype, self.backend)

    def prompt_list(self) -> list[str]:
        prompts = list(self.prompts)
        if self.prompts_file:
            prompts += _read_column(Path(self.prompts_file), self.prompts_column)
        if not prompts:
            raise UserError("the job has no prompts: give `prompts`, `prompts_file` or --prompt")
        return prompts

    def artist_list(self) -> list[str | None]:
        artists: list[str | None] = []
        for name in self.artists:
            if name.startswith("top:"):
                artists += _top_artists(name, self.wikiart)
            else:
                artists.append(name)
        if self.artists_file:
            artists += _read_column(Path(self.artists_file), "artist")
        return artists or [None]

    def cells(self) -> list[Cell]:
        """Every prompt x artist x seed, in that order, with ids (the model and config enter them)."""
        return self.spec().cells(self.model, self.config)


_SPEC_KEYS = [f.name for f in fields(BatchJob) if f.name in FIELDS and f.name not in ("prompts", "artists")]


def _read_column(path: Path, column: str) -> list[str]:
    """Lines of a text file, or one column of a .tsv/.csv (PartiPrompts: `Prompt`)."""
    try:
        return list(read_texts(path, column))
    except FileNotFoundError:
        raise UserError(f"file not found: {path}") from None


def _top_artists(spec: str, source: str | None) -> list[str]:
    from creative_painting.wikiart import collection_stats, iter_source

    try:
        count = int(spec.removeprefix("top:"))
    except ValueError:
        raise UserError(f"artists: {spec!r} must be top:N") from None
    if not 1 <= count <= 1000:
        raise UserError(f"artists: top:N takes N in 1..1000, got {count}")
    if not source:  # the ranking shipped with the package, from ArtGAN's lists
        from creative_painting.wikiart.catalog import ranked_artists

        return [a.name for a in ranked_artists()[:count]]
    return [a["name"] for a in collection_stats(iter_source(source), top=count)["top_artists"]]
