"""Batch painting: a job of many prompt x artist x seed cells, painted resumably, with grids and a contact sheet."""

from creative_painting._lazy import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "job": ["BatchCell", "BatchJob"],
    "manifest": ["Manifest"],
    "runner": ["run_batch"],
})
