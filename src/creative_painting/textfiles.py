"""Text files users hand us (lists, dumps, prompts, captions), decoded line by line so that a bad byte is
reported with its file and line, never as a traceback."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from creative_painting.errors import UserError


def utf8_lines(f: BinaryIO, path: str | Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of a file opened in binary mode; reads lazily, so `f.tell()` follows the lines."""
    for number, raw in enumerate(f, 1):
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise UserError(f"{path}:{number}: not UTF-8 text (byte {e.start} of the line)") from None


def read_texts(path: Path, column: str) -> Iterator[str]:
    """Non-empty values, stripped: the `column` of a .csv/.tsv (by header), else the lines of a text file."""
    with open(path, "rb") as f:
        lines = (text for _, text in utf8_lines(f, path))
        if path.suffix not in (".csv", ".tsv"):
            yield from (line.strip() for line in lines if line.strip())
            return
        reader = csv.DictReader(lines, delimiter="\t" if path.suffix == ".tsv" else ",")
        if column not in (reader.fieldnames or []):
            raise UserError(f"{path} has no {column!r} column (columns: {', '.join(reader.fieldnames or [])})")
        yield from (value.strip() for row in reader if (value := row[column] or "").strip())
