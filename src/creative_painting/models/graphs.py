"""CUDA graphs: a function of tensors replayed with one launch per call instead of hundreds. On a GPU fed by a
slow host, launching a U-Net's kernels, not running them, sets the pace.

A graph reads and writes fixed buffers. Each call copies its inputs into the buffers of its key and shapes,
replays, and returns a copy of the output: the next replay overwrites it, and multistep samplers (PLMS,
DPM-Solver) keep earlier outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

import torch

# What a capture returns: the output buffer, and how to recompute it from the input buffers.
Capture = Callable[[Callable[[], torch.Tensor]], tuple[torch.Tensor, Callable[[], None]]]
MAX_GRAPHS = 8  # past this many, the oldest is let go


def cuda_graph(
    step: Callable[[], torch.Tensor], warmups: int = 3, pool=None
) -> tuple[torch.Tensor, Callable[[], None]]:
    """Capture `step` as torch's documented recipe does: warm-up calls on a side stream (torch.compile's first
    call compiles, cuBLAS and cuDNN pick their kernels), then one call recorded into a graph. `pool`: a memory
    pool shared with other graphs replayed one at a time on this stream."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(warmups):
            step()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph, pool=pool):
        out = step()
    return out, graph.replay


@dataclass
class _Graph:
    inputs: tuple[torch.Tensor, ...]
    out: torch.Tensor
    replay: Callable[[], None]


class CudaGraphs:
    """Graphs of one model's functions, one per key and input shapes, kept for the model's life: the studio
    and `batch` paint many batches of one shape and pay each capture once."""

    def __init__(self, capture: Capture | None = None):
        """`capture`: by default CUDA's, every graph in one memory pool. That is safe here because each
        replay's output is copied out before the next replay, of whatever graph, runs."""
        if capture is None:
            pool = torch.cuda.graph_pool_handle()
            capture = lambda step: cuda_graph(step, pool=pool)  # noqa: E731
        self.capture = capture
        self.graphs: dict[Hashable, _Graph] = {}

    def __call__(self, key: Hashable, fn: Callable[..., torch.Tensor], *inputs: torch.Tensor) -> torch.Tensor:
        """`fn(*inputs)`, replayed. `key` names what `fn` computes besides its inputs (a guidance scale)."""
        key = (key, *((x.shape, x.dtype, x.device) for x in inputs))
        graph = self.graphs.get(key)
        if graph is None:
            graph = self.graphs[key] = self._captured(fn, inputs)
        for buffer, value in zip(graph.inputs, inputs, strict=True):
            buffer.copy_(value)
        graph.replay()
        return graph.out.clone()

    def _captured(self, fn: Callable[..., torch.Tensor], inputs: tuple[torch.Tensor, ...]) -> _Graph:
        while len(self.graphs) >= MAX_GRAPHS:
            del self.graphs[next(iter(self.graphs))]
        # The buffers start as the real inputs: warm-ups on uninitialised memory could overflow.
        buffers = tuple(x.clone() for x in inputs)
        out, replay = self.capture(lambda: fn(*buffers))
        return _Graph(buffers, out, replay)
