"""The record of finished cells: append-only JSONL, one line per cell, written after its PNG is in place.

A SIGKILL can at worst leave a torn last line, which is ignored (its cell is painted again), so a cell
is never recorded twice and never recorded without its image. Processes of one `accelerate launch` each
append to their own file (`manifest.jsonl`, `manifest.rank-1.jsonl`, ...) and read them all.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def rank_file(path: Path, rank: int) -> Path:
    """Where process `rank` appends: `manifest.jsonl` for rank 0, `manifest.rank-1.jsonl` for rank 1, ..."""
    return path if rank == 0 else path.with_name(f"{path.stem}.rank-{rank}{path.suffix}")


class Manifest:
    def __init__(self, path: Path, rank: int = 0):
        self.path = rank_file(path, rank)
        self.done: dict[str, dict[str, Any]] = {}
        self._torn = False  # the file ends without a newline: the next record starts on a line of its own
        if self.path.is_file():
            with open(self.path, "rb") as f:
                if f.seek(0, os.SEEK_END):
                    f.seek(-1, os.SEEK_END)
                    self._torn = f.read(1) != b"\n"
        for part in [path, *sorted(path.parent.glob(f"{path.stem}.rank-*{path.suffix}"))]:
            if part.is_file():
                self._read(part)

    def _read(self, path: Path) -> None:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a line torn by a kill: its cell is painted again
                if isinstance(record, dict) and isinstance(record.get("id"), str):
                    self.done.setdefault(record["id"], record)

    def finished(self, folder: Path) -> set[str]:
        """Ids recorded and whose image is still there."""
        return {cell_id for cell_id, r in self.done.items() if (folder / r.get("file", "")).is_file()}

    def append(self, records: list[dict[str, Any]]) -> None:
        new = [r for r in records if r["id"] not in self.done]
        if not new:
            return
        data = "\n" * self._torn + "".join(json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n" for r in new)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            os.write(fd, data.encode("utf-8"))
            os.fsync(fd)
            self._torn = False
        finally:
            os.close(fd)
        self.done.update((r["id"], r) for r in new)
