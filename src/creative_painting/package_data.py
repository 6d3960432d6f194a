"""Data files shipped inside registry packages (CLIP vocabulary, MiniLM, Wikipedia summaries), found
without importing those packages: several import dependencies we deliberately do not install."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def package_file(package: str, relative: str) -> Path | None:
    """`relative` inside the installed top-level `package`, or None when either is missing."""
    found = importlib.util.find_spec(package)
    for folder in (found.submodule_search_locations or []) if found else []:
        candidate = Path(folder) / relative
        if candidate.exists():
            return candidate
    return None
