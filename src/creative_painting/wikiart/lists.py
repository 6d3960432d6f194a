"""Read WikiArt as listed: ArtGAN CSV lists (`Style/file.jpg,class`) and folder trees of those names."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from creative_painting.errors import UserError
from creative_painting.wikiart.names import Artwork, genre_display_name, parse_path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


def read_class_list(path: Path) -> list[str]:
    """ArtGAN class files: one `index name` line each."""
    names = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            index, name = line.split(maxsplit=1)
            names[int(index)] = name.strip()
    return [names[i] for i in range(len(names))]


def iter_csv(path: Path) -> Iterator[Artwork]:
    """Rows of an ArtGAN list. A genre list (`genre_*.csv`) gives the genre from `genre_class.txt` beside it."""
    genres = None
    if path.name.startswith("genre") and (path.parent / "genre_class.txt").is_file():
        genres = read_class_list(path.parent / "genre_class.txt")
    with open(path, encoding="utf-8", newline="") as f:
        for line_number, row in enumerate(csv.reader(f), 1):
            if not row:
                continue
            try:
                genre = genre_display_name(genres[int(row[1])]) if genres and len(row) > 1 else None
                yield parse_path(row[0], genre)
            except (ValueError, IndexError) as e:
                raise UserError(f"{path}:{line_number}: {e}") from e


def iter_folder(root: Path) -> Iterator[Artwork]:
    """An extracted `wikiart/` tree: `<Style>/<artist>_<title>.jpg`. Only names are read, never pixels."""
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() in IMAGE_SUFFIXES and "_" in path.stem:
            yield parse_path(path.relative_to(root).as_posix())


def iter_source(source: str | Path) -> Iterator[Artwork]:
    """Every artwork of `source`: a folder tree, or one or more comma-separated ArtGAN CSV lists."""
    paths = [Path(p) for p in str(source).split(",")]
    for path in paths:
        if not path.exists():
            raise UserError(f"WikiArt source not found: {path}")
    for path in paths:
        if path.is_dir():
            yield from iter_folder(path)
        elif path.suffix == ".csv":
            yield from iter_csv(path)
        else:
            raise UserError(f"unsupported WikiArt source {path}: expected a folder or an ArtGAN .csv list")
