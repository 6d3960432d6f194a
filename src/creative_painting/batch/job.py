"""A batch job: prompts x artists x seeds, with the sampling settings of `paint`, expanded into cells.

Each cell's id hashes everything that decides its pixels (caption, negative, seed, settings, model), so a
changed setting can never be mistaken for a finished cell.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from creative_painting.errors import UserError
from creative_painting.models.configs import DEFAULT_MODEL
from creative_painting.models.spec import ModelSpec
from creative_painting.sampling.presets import SamplingSettings, preset_settings
from creative_painting.seeds import check_seed
from creative_painting.textfiles import read_texts

MAX_CELLS = 10_000_000


@dataclass(frozen=True)
class BatchCell:
    """One image of the job and where it goes."""

    id: str
    prompt_index: int
    artist_index: int
    seed_index: int
    prompt: str
    artist: str | None
    caption: str
    seed: int

    @property
    def file(self) -> str:
        return f"images/p{self.prompt_index:05d}-a{self.artist_index:03d}-s{self.seed_index:02d}-{self.id[:10]}.png"


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
        if not 1 <= self.seeds <= 100:
            raise UserError(f"seeds must be in 1..100 images per cell, got {self.seeds}")
        check_seed(self.seed)
        check_seed(self.seed + self.seeds - 1, "seed + seeds - 1")
        if not 1 <= self.batch_size <= 256:
            raise UserError(f"batch_size must be in 1..256, got {self.batch_size}")
        from creative_painting.models.device import BACKENDS

        if self.backend not in BACKENDS:
            raise UserError(f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        self.settings()
        return self

    def settings(self) -> SamplingSettings:
        return preset_settings(self)

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

    def cells(self) -> list[BatchCell]:
        """Every prompt x artist x seed, in that order, with ids."""
        from creative_painting.painting.captions import DEFAULT_TEMPLATE, build_cells

        prompts, artists = self.prompt_list(), self.artist_list()
        total = len(prompts) * len(artists) * self.seeds
        if total > MAX_CELLS:
            raise UserError(f"{total:,} cells is more than {MAX_CELLS:,}; split the job")
        grid = build_cells(prompts, [a for a in artists if a is not None] or None,
                           template=self.template or DEFAULT_TEMPLATE, style=self.style, genre=self.genre,
                           year=self.year)
        identity = {"settings": dataclasses.asdict(self.settings()), "model": self.model, "negative": self.negative}
        if self.config:  # only when given: ids of jobs without it stay as they were (their folders resume)
            identity["config"] = self.config
        cells = []
        for cell in grid:
            for k in range(self.seeds):
                seed = self.seed + k
                key = json.dumps({**identity, "caption": cell.caption, "seed": seed}, sort_keys=True)
                cells.append(BatchCell(hashlib.sha256(key.encode()).hexdigest()[:20], cell.row, cell.col, k,
                                       cell.prompt, cell.artist, cell.caption, seed))
        return cells


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
