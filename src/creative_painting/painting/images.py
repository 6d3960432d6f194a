"""PNG files that carry how they were made, written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from creative_painting.files import atomic_path

METADATA_KEY = "creative_painting"


def save_png(image: Image.Image, path: str | Path, metadata: dict[str, Any] | None = None) -> Path:
    """Each metadata field becomes a tEXt chunk, and all of them one JSON chunk, readable by any PNG tool."""
    info = PngInfo()
    for key, value in (metadata or {}).items():
        if value is not None:
            info.add_text(key, str(value))
    if metadata:
        info.add_text(METADATA_KEY, json.dumps(metadata, sort_keys=True))
    path = Path(path)
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG", pnginfo=info)
    return path


def read_png_metadata(path: str | Path) -> dict[str, Any]:
    with Image.open(path) as image:
        text = dict(getattr(image, "text", {}))
    return json.loads(text[METADATA_KEY]) if METADATA_KEY in text else text
