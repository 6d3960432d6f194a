"""Painting: captions from prompts x artists, the paint loop, labelled grids, PNGs with metadata."""

from creative_painting.painting.captions import DEFAULT_TEMPLATE, Cell, build_cells
from creative_painting.painting.device import resolve_device
from creative_painting.painting.grid import make_grid
from creative_painting.painting.images import read_png_metadata, save_png
from creative_painting.painting.painter import PaintJob, encode_text, paint

__all__ = [
    "DEFAULT_TEMPLATE", "Cell", "PaintJob", "build_cells", "encode_text", "make_grid", "paint",
    "read_png_metadata", "resolve_device", "save_png",
]
