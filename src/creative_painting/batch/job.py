"""A batch job: a `PaintSpec` and where its prompts and artists come from (files, WikiArt's top:N), with the
model that paints it. The job file's keys are the spec's (`seeds` are its images per cell) and the model's.

Each cell's id hashes everything that decides its pixels (caption, negative, seed, settings, model), so a
changed setting can never be mistaken for a finished cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, make_dataclass
from pathlib import Path

from creative_painting.errors import UserError
from creative_painting.models.spec import BACKENDS, ModelSpec
from creative_painting.painting.captions import Cell
from creative_painting.painting.spec import MAX_BATCH_CELLS, PaintSpec
from creative_painting.textfiles import read_texts


def cell_file(cell: Cell) -> str:
    """Where a batch writes the cell's image: prompt, artist and seed indices, and the start of its id."""
    return f"images/p{cell.row:05d}-a{cell.col:03d}-s{cell.image:02d}-{cell.id[:10]}.png"


# The job-file keys that are the spec's and the model's, declared there (type and default), not again here.
_SPEC_KEYS = ("seed", "template", "style", "genre", "year", "negative", "long_prompt", "preset", "sampler", "steps",
              "scale", "eta", "width", "height", "batch_size")
_MODEL_KEYS = tuple(f.name for f in fields(ModelSpec))


def _keys_of(*owners: tuple[type, tuple[str, ...]]) -> type:
    """A dataclass of the named fields of each owner, as the owner declares them."""
    return make_dataclass("SpecKeys", [(f.name, f.type, field(default=f.default))
                                       for owner, names in owners for f in fields(owner) if f.name in names])


@dataclass
class BatchJob(_keys_of((PaintSpec, _SPEC_KEYS), (ModelSpec, _MODEL_KEYS))):
    """YAML/TOML keys of a job file; `paint`-like flags override them. Besides the spec's keys (`seed`,
    `template`, `style`, `genre`, `year`, `negative`, `long_prompt`, the preset and its overrides, `batch_size`)
    and the model's (`model`, `config`, `device`, `dtype`, `backend`), a job says where its prompts and
    artists come from and how many seeds each cell takes."""

    prompts: list[str] = field(default_factory=list)
    prompts_file: str | None = None  # one prompt a line, or a .tsv/.csv whose `prompts_column` holds them
    prompts_column: str = "Prompt"  # PartiPrompts.tsv
    artists: list[str] = field(default_factory=list)  # names; ["top:30"]: WikiArt's top 30 (from `wikiart` if given)
    artists_file: str | None = None
    wikiart: str | None = None  # a WikiArt SOURCE to rank top:N by (default: the shipped ArtGAN ranking)
    seeds: int = 1  # images per prompt x artist, with seeds seed, seed + 1, ...

    def validate(self) -> BatchJob:
        """What a job file can be checked for before its prompts are read: the spec's limits, the backend."""
        if self.backend not in BACKENDS:
            raise UserError(f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        self._spec((), ()).check_numbers()
        return self

    def _spec(self, prompts: tuple[str, ...], artists: tuple[str, ...]) -> PaintSpec:
        return PaintSpec(prompts, artists, images=self.seeds, **{name: getattr(self, name) for name in _SPEC_KEYS})

    def spec(self) -> PaintSpec:
        """The painting this job describes, its prompt and artist files read and checked: every limit, once."""
        artists = tuple(a for a in self.artist_list() if a is not None)
        return self._spec(tuple(self.prompt_list()), artists).validate(max_images=MAX_BATCH_CELLS)

    def model_spec(self) -> ModelSpec:
        return ModelSpec(**{name: getattr(self, name) for name in _MODEL_KEYS})

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
