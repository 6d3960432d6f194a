"""PNG files that carry how they were made, written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from creative_painting.errors import UserError
from creative_painting.files import atomic_path

METADATA_KEY = "creative_painting"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_UPLOAD_PIXELS = 4096 * 4096
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


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
    """The record a PNG of ours carries: the one reader, for `paint --again`, the studio's PNG info and the tests.
    Whatever the file (too big, not a PNG, a decompression bomb, damaged text), a one-line error."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise UserError(f"the file is {size / 2**20:.1f} MiB; PNG info reads files up to {MAX_UPLOAD_BYTES // 2**20} MiB")
    with open(path, "rb") as f:
        if f.read(8) != PNG_SIGNATURE:
            raise UserError("not a PNG file; drop a PNG painted by creative-painting")
    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_UPLOAD_PIXELS:
                raise UserError(f"this PNG says it is {image.width}x{image.height}, larger than any painting of this program")
            text = dict(image.info)  # text chunks before the pixels: the pixels are never decoded
    except UserError:
        raise
    except Image.DecompressionBombError:
        raise UserError("this PNG says it is larger than any painting of this program (a decompression bomb?)") from None
    except Exception as e:  # truncated, corrupt, or a text-chunk bomb (PIL refuses > 1 MB of text)
        raise UserError(f"cannot read this PNG: {e}") from None
    if METADATA_KEY not in text:
        raise UserError("this PNG carries no creative-painting parameters (it was made elsewhere, "
                        "or its metadata was stripped)")
    try:
        meta = json.loads(text[METADATA_KEY])
    except ValueError:
        meta = None
    if not isinstance(meta, dict):
        raise UserError("this PNG's creative-painting parameters are damaged")
    return meta


def png_parameters(path: str | Path) -> dict[str, Any]:
    """A painted PNG's parameters as a paint request (A1111's "PNG Info"); a one-line error otherwise."""
    from creative_painting.painting.spec import request_of

    meta = read_png_metadata(path)
    return {"request": request_of(meta), "caption": meta.get("caption"), "model": meta.get("model"),
            "software": meta.get("software")}
