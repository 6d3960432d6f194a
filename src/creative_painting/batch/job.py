"""A batch job: a `PaintSpec` and where its prompts and artists come from (files, WikiArt's top:N), with the
model that paints it. The job file's keys are the spec's table and the model's.

Each cell's id hashes everything that decides its pixels (caption, negative, seed, settings, model), so a
changed setting can never be mistaken for a finished cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, make_dataclass
from pathlib import Path

from creative_painting.errors import UserError
from creative_painting.models.choice import ModelChoice
from creative_painting.painting.captions import Cell
from creative_painting.painting.spec import FORMER, MAX_BATCH_CELLS, TABLE, TYPES, PaintSpec
from creative_painting.textfiles import read_texts


def _keys() -> type:
    """The job file's keys that are the spec's (its table) and the model's, as they declare them (type and
    default), not again here."""
    keys = [(f.metadata.get("job", f.name), TYPES[f.name], field(default=f.default)) for f in TABLE
            if f.name not in _LISTS]
    return make_dataclass("SpecKeys", [*keys, *((f.name, f.type, field(default=f.default)) for f in fields(ModelChoice))])


_LISTS = ("prompts", "artists")  # a job's own: lists, added to from files and flags


@dataclass
class BatchJob(_keys()):
    """YAML/TOML keys of a job file; `batch`'s flags override them. Besides the spec's keys (`seed`, `images`,
    `template`, `style`, `genre`, `year`, `negative`, `long_prompt`, the preset and its overrides, `batch_size`)
    and the model's (`model`, `config`, `device`, `dtype`, `backend`), a job says where its prompts and
    artists come from. `seeds`, the former name of `images`, is still read."""

    FORMER_KEYS = FORMER

    prompts: list[str] = field(default_factory=list)
    prompts_file: str | None = None  # one prompt a line, or a .tsv/.csv whose `prompts_column` holds them
    prompts_column: str = "Prompt"  # PartiPrompts.tsv
    artists: list[str] = field(default_factory=list)  # names; ["top:30"]: WikiArt's top 30 (from `wikiart` if given)
    artists_file: str | None = None
    wikiart: str | None = None  # a WikiArt SOURCE to rank top:N by (default: the shipped ArtGAN ranking)

    def validate(self) -> BatchJob:
        """Nothing yet: `load_settings` has typed every key; `spec()` checks the job once its prompts are in."""
        return self

    def spec(self) -> PaintSpec:
        """The job's one check: its prompt and artist files read, every limit of the spec (as `paint`'s); the
        model is checked where it loads (here, or on each Ray worker)."""
        artists = tuple(self.artist_list())
        values = {f.name: getattr(self, f.metadata.get("job", f.name)) for f in TABLE if f.name not in _LISTS}
        return PaintSpec(tuple(self.prompt_list()), artists, **values).validate(max_images=MAX_BATCH_CELLS)

    def model_choice(self) -> ModelChoice:
        return ModelChoice(**{f.name: getattr(self, f.name) for f in fields(ModelChoice)})

    def prompt_list(self) -> list[str]:
        prompts = list(self.prompts)
        if self.prompts_file:
            prompts += _read_column(Path(self.prompts_file), self.prompts_column)
        if not prompts:
            raise UserError("the job has no prompts: give `prompts`, `prompts_file` or --prompt")
        return prompts

    def artist_list(self) -> list[str]:
        artists: list[str] = []
        for name in self.artists:
            if name.startswith("top:"):
                artists += _top_artists(name, self.wikiart)
            else:
                artists.append(name)
        if self.artists_file:
            artists += _read_column(Path(self.artists_file), "artist")
        return artists

    def cells(self) -> list[Cell]:
        """Every prompt x artist x seed, in that order, with ids (the model and config enter them)."""
        return self.spec().cells(self.model, self.config)


def _read_column(path: Path, column: str) -> list[str]:
    """Lines of a text file, or one column of a .tsv/.csv (PartiPrompts: `Prompt`)."""
    try:
        return list(read_texts(path, column))
    except FileNotFoundError:
        raise UserError(f"file not found: {path}") from None


def _top_artists(ranking: str, source: str | None) -> list[str]:
    from creative_painting.wikiart import collection_stats, iter_source

    try:
        count = int(ranking.removeprefix("top:"))
    except ValueError:
        raise UserError(f"artists: {ranking!r} must be top:N") from None
    if not 1 <= count <= 1000:
        raise UserError(f"artists: top:N takes N in 1..1000, got {count}")
    if not source:  # the ranking shipped with the package, from ArtGAN's lists
        from creative_painting.wikiart.catalog import ranked_artists

        return [a.name for a in ranked_artists()[:count]]
    return [a["name"] for a in collection_stats(iter_source(source), top=count)["top_artists"]]
