"""Painting: captions from prompts x artists, the paint loop, labelled grids, PNGs with metadata."""

from typing import TYPE_CHECKING

from creative_painting._lazy import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "captions": ["DEFAULT_TEMPLATE", "Cell", "build_cells"],
    "grid": ["make_grid"],
    "images": ["read_png_metadata", "save_png"],
    "painter": ["encode_text", "paint"],
    "spec": ["PaintSpec"],
})

if TYPE_CHECKING:  # what type checkers and editors see; at run time, names load on first use
    from creative_painting.painting.captions import DEFAULT_TEMPLATE, Cell, build_cells
    from creative_painting.painting.grid import make_grid
    from creative_painting.painting.images import read_png_metadata, save_png
    from creative_painting.painting.painter import encode_text, paint
    from creative_painting.painting.spec import PaintSpec
