"""Ordered parallel map with a bounded number of tasks in flight (so a 30 GB tar never sits in memory)."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from creative_painting.errors import UserError

T = TypeVar("T")
R = TypeVar("R")


class WorkerDied(UserError):
    """A worker process ended without a result: killed, or out of memory."""


def usable_cores() -> int:
    """The cores this process may run on (its affinity, as taskset or a container's cpuset sets it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1  # macOS: no


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int, in_flight: int | None = None) -> Iterator[R]:
    """`map(fn, items)` on `workers` processes (0: in this process), results in input order.

    At most `in_flight` items (default 2 per worker) are submitted ahead of the one being yielded.
    Workers are spawned, not forked, so a parent holding torch threads cannot deadlock them; they end with the
    parent, even a SIGKILLed one. A worker that dies (killed, out of memory) is one line, not a traceback.
    """
    if workers <= 0:
        yield from map(fn, items)
        return
    limit = in_flight or 2 * workers
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        pending: deque[Future] = deque()
        try:
            for item in items:
                pending.append(pool.submit(fn, item))
                if len(pending) >= limit:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        except BrokenProcessPool:
            raise WorkerDied(f"a worker process died (killed, or out of memory with {workers} workers: try fewer)"
                             ) from None


def _die_with_parent(parent: int) -> None:
    """A SIGKILLed parent runs no cleanup: its idle workers would wait for work forever, holding memory and the
    parent's stdout (a pipe reading it never ends). Linux ends them with it (PR_SET_PDEATHSIG); elsewhere, no-op."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)
