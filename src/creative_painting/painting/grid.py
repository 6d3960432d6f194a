"""Image grids labelled like the paper's Figures 5-12: rows are prompts, each artist's name under its column."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from creative_painting.painting.captions import Cell

MAX_COLUMNS = 10  # columns of one block; wider grids wrap


def cell_grid(cells: list[Cell], image_of: Callable[[Cell], Image.Image | None]) -> Image.Image | None:
    """The one grid of `paint`, the studio and `batch`: a row per prompt and seed, a column per artist, each
    labelled by what differs (the prompt, the seed); None while a cell has no image yet (a batch still painting)."""
    rows, cols = sorted({(c.row, c.image) for c in cells}), sorted({c.col for c in cells})
    at = {(c.row, c.image, c.col): c for c in cells}
    table = [[image_of(at[(r, k, col)]) if (r, k, col) in at else None for col in cols] for r, k in rows]
    if not cells or any(image is None for row in table for image in row):
        return None
    artist = {c.col: c.artist or "" for c in cells}
    first = {(c.row, c.image): c for c in cells}
    prompts, seeds = len({r for r, _ in rows}), len({k for _, k in rows})

    def label(c: Cell) -> str:
        text = c.prompt if prompts > 1 else ""
        return (f"{text} (seed {c.seed})" if text else f"seed {c.seed}") if seeds > 1 else text

    return make_grid(table, [artist[c] for c in cols] if any(artist.values()) else None,
                     [label(first[key]) for key in rows] if len(rows) > 1 else None)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans ships with matplotlib, a dependency; Pillow's own font is the fallback."""
    try:
        import matplotlib

        return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf"), size)
    except (ImportError, OSError):
        return ImageFont.load_default(size=size)


def _wrapped(draw: ImageDraw.ImageDraw, text: str, font, width_px: int, max_lines: int | None = None) -> list[str]:
    """Wrap `text` into lines that each measure at most `width_px`; past `max_lines` the last line ends in "...".

    The first guess comes from the average letter; wide letters ("WWW") shrink it until every line fits."""
    average = max(1.0, draw.textlength("abcdefghij", font=font) / 10)
    width = max(1, int(width_px / average))
    lines = textwrap.wrap(text, width=width) or [""]
    while width > 1 and max(draw.textlength(line, font=font) for line in lines) > width_px:
        width -= 1
        lines = textwrap.wrap(text, width=width) or [""]
    if max_lines and len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and draw.textlength(last + "...", font=font) > width_px:
            last = last[:-1]
        lines[-1] = last.rstrip() + "..."
    return lines


def make_grid(
    images: list[list[Image.Image]],
    col_labels: list[str] | None = None,
    row_labels: list[str] | None = None,
    *,
    pad: int = 4,
    background: str = "white",
    min_side: int = 128,
    max_cols: int = MAX_COLUMNS,
) -> Image.Image:
    """Lay `images[row][col]` out on a grid; labels go under each column and left of each row.

    Cells smaller than `min_side` (the CPU demo's 32 px paintings) are enlarged, pixel for pixel,
    so that the labels stay readable. More than `max_cols` columns wrap: the next columns form a block of
    all rows below, so thirty artists make a page, not a 30-picture-wide strip."""
    if not images or not images[0]:
        raise ValueError("make_grid needs at least one image")
    if len(images[0]) > max_cols:
        blocks = [make_grid([row[i : i + max_cols] for row in images], col_labels[i : i + max_cols] if col_labels else None,
                            row_labels, pad=pad, background=background, min_side=min_side, max_cols=max_cols)
                  for i in range(0, len(images[0]), max_cols)]
        page = Image.new("RGB", (max(b.width for b in blocks), sum(b.height for b in blocks)), background)
        top = 0
        for block in blocks:
            page.paste(block, (0, top))
            top += block.height
        return page
    factor = -(-min_side // min(images[0][0].size))
    if factor > 1:
        images = [[im.resize((im.width * factor, im.height * factor), Image.Resampling.NEAREST) for im in row]
                  for row in images]
    rows, cols = len(images), len(images[0])
    w, h = images[0][0].size
    font = _font(max(10, w // 14))
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    line_h = int(font.size * 1.25) if hasattr(font, "size") else 14
    col_lines = [_wrapped(probe, label, font, w) for label in col_labels or []]
    label_h = (max(map(len, col_lines)) * line_h + pad) if col_lines else 0
    row_w = int(w * 0.9) if row_labels else 0
    row_lines = [_wrapped(probe, label, font, row_w - 2 * pad, max_lines=max(1, h // line_h))  # beside its row only
                 for label in row_labels or []]

    grid = Image.new("RGB", (row_w + cols * (w + pad) + pad, rows * (h + label_h + pad) + pad), background)
    draw = ImageDraw.Draw(grid)
    for r, row in enumerate(images):
        top = pad + r * (h + label_h + pad)
        for c, image in enumerate(row):
            left = row_w + pad + c * (w + pad)
            grid.paste(image.convert("RGB"), (left, top))
            for i, line in enumerate(col_lines[c] if col_lines else []):
                x = left + (w - draw.textlength(line, font=font)) / 2
                draw.text((x, top + h + pad // 2 + i * line_h), line, fill="black", font=font)
        for i, line in enumerate(row_lines[r] if row_lines else []):
            draw.text((pad, top + h / 2 + (i - len(row_lines[r]) / 2) * line_h), line, fill="black", font=font)
    return grid
