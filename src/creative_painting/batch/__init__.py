"""Batch painting: a job of many prompt x artist x seed cells, painted resumably, with grids and a contact sheet."""

from typing import TYPE_CHECKING

from creative_painting._lazy import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "job": ["BatchJob"],
    "runner": ["run_batch"],
})

if TYPE_CHECKING:  # what type checkers and editors see; at run time, names load on first use
    from creative_painting.batch.job import BatchJob
    from creative_painting.batch.runner import run_batch
