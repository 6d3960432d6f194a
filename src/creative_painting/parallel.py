"""Ordered parallel map with a bounded number of tasks in flight (so a 30 GB tar never sits in memory)."""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int, in_flight: int | None = None) -> Iterator[R]:
    """`map(fn, items)` on `workers` processes (0: in this process), results in input order.

    At most `in_flight` items (default 2 per worker) are submitted ahead of the one being yielded.
    Workers are spawned, not forked, so a parent holding torch threads cannot deadlock them.
    """
    if workers <= 0:
        yield from map(fn, items)
        return
    limit = in_flight or 2 * workers
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending: deque[Future] = deque()
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= limit:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
