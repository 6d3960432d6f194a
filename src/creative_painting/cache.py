"""The user cache: built-in indexes, converted language models, compiled U-Nets. Rebuilt when deleted."""

from __future__ import annotations

import os
from pathlib import Path

from creative_painting.errors import UserError
from creative_painting.files import check_location


def cache_dir() -> Path:
    """`$CREATIVE_PAINTING_CACHE`, else `$XDG_CACHE_HOME/creative_painting`; checked to be a writable folder."""
    root = os.environ.get("CREATIVE_PAINTING_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "creative_painting")
    try:
        return check_location(root)
    except UserError as e:
        raise UserError(f"cache folder (CREATIVE_PAINTING_CACHE): {e}") from None
