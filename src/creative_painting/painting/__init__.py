"""Painting: captions from prompts x artists, the paint loop, labelled grids, PNGs with metadata."""

from creative_painting._lazy import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "captions": ["DEFAULT_TEMPLATE", "Cell", "build_cells"],
    "device": ["place", "resolve_device"],
    "grid": ["make_grid"],
    "images": ["read_png_metadata", "save_png"],
    "painter": ["PaintJob", "encode_text", "paint"],
})
