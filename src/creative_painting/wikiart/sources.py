"""Read WikiArt as distributed: extracted folders, the archive.org tar, ArtGAN CSV lists and huggan parquet.

A SOURCE string is one or more comma-separated parts. Image parts (folder, `.tar[.gz]`, `.parquet`)
give artworks and their bytes; ArtGAN lists (`.csv`) give names only. Given with an image part, genre
lists (`genre_*.csv`) are joined to it by path, so a folder or tar gains the genre labels.
"""

from __future__ import annotations

import csv
import json
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from creative_painting.errors import UserError
from creative_painting.textfiles import utf8_lines
from creative_painting.wikiart.names import Artwork, genre_display_name, parse_path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
UNKNOWN_LABELS = {"unknown artist", "unknown genre", "unknown style", "unknown"}


@dataclass(frozen=True)
class Entry:
    """An artwork and a way to read its file's bytes (None for list rows, which have no pixels)."""

    artwork: Artwork
    read: Callable[[], bytes] | None = None


def read_class_list(path: Path) -> list[str]:
    """ArtGAN class files: one `index name` line each."""
    names = {}
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise UserError(f"{path}: not UTF-8 text (byte {e.start})") from None
    for line in text.splitlines():
        if line.strip():
            index, name = line.split(maxsplit=1)
            names[int(index)] = name.strip()
    return [names[i] for i in range(len(names))]


def _is_genre_list(path: Path) -> bool:
    return path.name.startswith("genre") and path.suffix == ".csv"


def iter_csv(path: Path) -> Iterator[Entry]:
    """Rows of an ArtGAN list. A genre list (`genre_*.csv`) gives the genre from `genre_class.txt` beside it."""
    genres = None
    if _is_genre_list(path) and (path.parent / "genre_class.txt").is_file():
        genres = read_class_list(path.parent / "genre_class.txt")
    with open(path, "rb") as f:
        for line_number, text in utf8_lines(f, path):
            row = next(csv.reader([text]), None)
            if not row:
                continue
            try:
                genre = genre_display_name(genres[int(row[1])]) if genres and len(row) > 1 else None
                yield Entry(parse_path(row[0], genre))
            except (ValueError, IndexError) as e:
                raise UserError(f"{path}:{line_number}: {e}") from e


def _relative(name: str) -> str:
    """`wikiart/Impressionism/x.jpg` -> `Impressionism/x.jpg`: the key the ArtGAN lists use."""
    return "/".join(name.split("/")[-2:])


def _is_image_name(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return Path(base).suffix.lower() in IMAGE_SUFFIXES and "_" in base and not base.startswith(".")


def iter_folder(root: Path) -> Iterator[Entry]:
    """An extracted `wikiart/` tree: `<Style>/<artist>_<title>.jpg`. Listing never opens an image."""
    for path in sorted(root.rglob("*")):
        if _is_image_name(path.name) and path.is_file():
            yield Entry(parse_path(_relative(utf8_name(path.relative_to(root).as_posix()))), path.read_bytes)


def utf8_name(name: str) -> str:
    """A file name whose bytes are not UTF-8 (Python keeps them as surrogates) with U+FFFD for the bad bytes:
    the file stays readable by its real path, and its name can go into JSON, captions and tar headers."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


@dataclass(frozen=True)
class OffsetReader:
    """Bytes of one member of an uncompressed tar, read when needed: random access without holding them.

    Readers are plain picklable objects, not closures, so data loader workers can be spawned
    (macOS and Windows always spawn; so does Linux from Python 3.14 on).
    """

    path: Path
    offset: int
    size: int

    def __call__(self) -> bytes:
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            return f.read(self.size)


@dataclass(frozen=True)
class HeldBytes:
    """Bytes already in memory (a parquet cell, a streamed tar member), behind the same reader call."""

    data: bytes = field(repr=False)

    def __call__(self) -> bytes:
        return self.data


def is_compressed_tar(path: Path) -> bool:
    """By content, not name: gzip, bzip2 or xz magic bytes (an uncompressed tar can be read by offset)."""
    with open(path, "rb") as f:
        head = f.read(6)
    return head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ"))


def iter_tar(path: Path, with_bytes: bool = True) -> Iterator[Entry]:
    """The archive.org `wikiart.tar.gz`, streamed in one pass: constant memory, no extraction.

    An uncompressed tar is not streamed: listing seeks from header to header, and each entry reads
    its member by offset when asked.
    """
    try:
        seekable = not is_compressed_tar(path)
        with tarfile.open(path, mode="r:" if seekable else "r|*") as tar:
            while (member := tar.next()) is not None:
                if member.isfile() and _is_image_name(member.name):
                    read = None
                    if with_bytes:
                        read = (OffsetReader(path, member.offset_data, member.size) if seekable
                                else HeldBytes(tar.extractfile(member).read()))
                    yield Entry(parse_path(_relative(member.name)), read)
                tar.members = []  # tarfile would otherwise keep every header
    except (tarfile.TarError, EOFError, OSError) as e:
        raise UserError(f"cannot read tar {path}: {e}") from e


def compressed_tars(source: str | Path) -> list[Path]:
    """The parts of `source` that are compressed tars: no random access, so training needs shards."""
    return [p for p in _parts(source) if p.name.endswith(TAR_SUFFIXES) and is_compressed_tar(p)]


def _class_names(schema_metadata: dict | None) -> dict[str, list[str]]:
    """ClassLabel names stored by `datasets` in the parquet schema (`huggingface` key)."""
    if not schema_metadata or b"huggingface" not in schema_metadata:
        return {}
    features = json.loads(schema_metadata[b"huggingface"]).get("info", {}).get("features", {})
    return {k: v["names"] for k, v in features.items() if isinstance(v, dict) and "names" in v}


def iter_parquet(path: Path, with_bytes: bool = True) -> Iterator[Entry]:
    """Hugging Face `huggan/wikiart`: image bytes plus artist, genre and style class ids (no title, no year)."""
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
    except Exception as e:  # pyarrow raises its own ArrowInvalid/OSError family
        raise UserError(f"cannot read parquet {path}: {e}") from e
    names = _class_names(file.schema_arrow.metadata)
    wanted = ["artist", "genre", "style"] + (["image"] if with_bytes else [])
    missing = set(wanted) - set(file.schema_arrow.names)
    if missing:
        raise UserError(f"{path} is not a huggan/wikiart parquet: no column {', '.join(sorted(missing))}")

    def label(column: str, value) -> str | None:
        text = names[column][value] if column in names and isinstance(value, int) else value
        return None if text is None or str(text).lower() in UNKNOWN_LABELS else str(text)

    row = 0
    for batch in file.iter_batches(batch_size=256, columns=wanted):
        for record in batch.to_pylist():
            artist = label("artist", record["artist"]) or "unknown-artist"
            style = label("style", record["style"]) or "Unknown"
            genre = label("genre", record["genre"])
            art = Artwork(path=f"{path.name}#{row}", style_folder=style, artist_slug=artist.lower().replace(" ", "-"),
                          title="", year=None, genre=genre_display_name(genre) if genre else None)
            image = record.get("image")
            data = image["bytes"] if isinstance(image, dict) else image
            yield Entry(art, HeldBytes(data) if with_bytes else None)
            row += 1


def _parts(source: str | Path) -> list[Path]:
    parts = [Path(p) for p in str(source).split(",") if p.strip()]
    if not parts:
        raise UserError("empty WikiArt source")
    for path in parts:
        if not path.exists():
            raise UserError(f"WikiArt source not found: {path}")
        if not (path.is_dir() or path.suffix in (".csv", ".parquet") or path.name.endswith(TAR_SUFFIXES)):
            raise UserError(f"unsupported WikiArt source {path}: expected a folder, a .tar[.gz], "
                            "a .parquet or an ArtGAN .csv list")
    return parts


def iter_entries(source: str | Path, with_bytes: bool = True) -> Iterator[Entry]:
    """Every artwork of `source`; genre lists are joined by path to the other parts when there are any."""
    parts = _parts(source)
    genre_lists = [p for p in parts if _is_genre_list(p)]
    others = [p for p in parts if p not in genre_lists]
    if not others:  # genre lists alone are the collection
        for path in genre_lists:
            yield from iter_csv(path)
        return
    genres = {e.artwork.path: e.artwork.genre for path in genre_lists for e in iter_csv(path)}
    for path in others:
        if path.is_dir():
            entries = iter_folder(path)
        elif path.suffix == ".csv":
            entries = iter_csv(path)
        elif path.suffix == ".parquet":
            entries = iter_parquet(path, with_bytes)
        else:
            entries = iter_tar(path, with_bytes)
        for entry in entries:
            genre = genres.get(entry.artwork.path)
            yield replace(entry, artwork=replace(entry.artwork, genre=genre)) if genre else entry


def iter_images(source: str | Path) -> Iterator[Entry]:
    """Entries that carry pixels, for validation, sharding and training; lists only label them.

    Fails at once, before anything is read, when no part of `source` holds images.
    """
    if not any(p.is_dir() or p.suffix == ".parquet" or p.name.endswith(TAR_SUFFIXES) for p in _parts(source)):
        raise UserError("CSV lists hold names only: give the image folder, tar or parquet too")
    return (e for e in iter_entries(source) if e.read is not None)


def iter_source(source: str | Path) -> Iterator[Artwork]:
    """Artworks only, never reading pixels: what statistics need."""
    for entry in iter_entries(source, with_bytes=False):
        yield entry.artwork
