"""The guided denoise step as one CUDA graph per shape: a whole U-Net call (two, with guidance) replayed with one
launch instead of a thousand. On a GPU fed by a slow host, launching kernels, not running them, sets the pace.

A graph reads and writes fixed buffers: each step copies its latents and timestep (and the batch's text
embeddings and guidance scale) in, replays, and returns a copy of the output, since the next replay
overwrites it and multistep samplers (PLMS, DPM-Solver) keep earlier outputs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import torch

from creative_painting.sampling.guidance import Denoiser

# What a capture returns: the output buffer and how to recompute it from the input buffers.
Capture = Callable[[Callable[[], torch.Tensor]], tuple[torch.Tensor, Callable[[], None]]]
MAX_SHAPES = 8  # graphs kept; past this many the oldest shape's is let go


def cuda_graph(step: Callable[[], torch.Tensor], warmups: int = 3, pool=None) -> tuple[torch.Tensor, Callable[[], None]]:
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


def recomputed(step: Callable[[], torch.Tensor]) -> tuple[torch.Tensor, Callable[[], None]]:
    """A graph's contract without CUDA: the output buffer is overwritten from the input buffers at each replay.
    The CPU tests run the copy-in and copy-out logic through it."""
    out = step()
    return out, lambda: out.copy_(step())


@dataclass
class _Buffers:
    x: torch.Tensor
    t: torch.Tensor
    context: torch.Tensor
    scale: torch.Tensor
    out: torch.Tensor | None = None
    replay: Callable[[], None] | None = None


class DenoiserGraphs:
    """`guided_denoiser`'s function, captured once per shape (latents, text embeddings, guided or not) and kept
    for the model's life: the studio and `batch` paint many batches of one shape, and pay the capture once."""

    def __init__(self, unet: Callable, capture: Capture | None = None):
        """`capture`: by default CUDA's, all shapes in one memory pool. That is safe here because each replay's
        output is copied out before the next replay, of whatever shape, runs."""
        self.unet = unet
        self.capture = capture or functools.partial(cuda_graph, pool=torch.cuda.graph_pool_handle())
        self.graphs: dict[tuple, _Buffers] = {}

    def denoiser(self, cond: torch.Tensor, uncond: torch.Tensor | None, scale: float) -> Denoiser:
        """The same function as `guided_denoiser(unet, cond, uncond, scale)`, replayed from a graph."""
        guided = uncond is not None and scale != 1.0
        context = torch.cat([uncond, cond]) if guided else cond

        def denoise(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            buffers = self._buffers(x, t, context, guided)
            buffers.x.copy_(x)
            buffers.t.copy_(t)
            buffers.context.copy_(context)
            buffers.scale.fill_(scale)
            buffers.replay()
            return buffers.out.clone()

        return denoise

    def _buffers(self, x: torch.Tensor, t: torch.Tensor, context: torch.Tensor, guided: bool) -> _Buffers:
        key = (tuple(x.shape), x.dtype, t.dtype, tuple(context.shape), context.dtype, x.device, guided)
        if key in self.graphs:
            return self.graphs[key]
        while len(self.graphs) >= MAX_SHAPES:
            del self.graphs[next(iter(self.graphs))]
        # The first capture runs on the real inputs: warm-up calls on uninitialised memory could overflow.
        buffers = _Buffers(x.clone(), t.clone(), context.clone(), torch.tensor(1.0, device=x.device))
        unet = self.unet
        dtype = getattr(unet, "dtype", context.dtype)

        def step() -> torch.Tensor:  # guided_denoiser's arithmetic, reading only the buffers
            b = buffers
            if not guided:
                out = unet(b.x.to(dtype), b.t, encoder_hidden_states=b.context.to(dtype), return_dict=False)[0]
                return out.to(b.x.dtype)
            out = unet(torch.cat([b.x, b.x]).to(dtype), b.t, encoder_hidden_states=b.context.to(dtype),
                       return_dict=False)[0]
            eps_uncond, eps_cond = out.to(b.x.dtype).chunk(2)
            # A Python scale multiplies in float32 and rounds once; a scale tensor of the latents' dtype would
            # round the scale itself (7.3 is 7.297 in fp16), so the product is taken in float32 here too.
            difference = eps_cond - eps_uncond
            return eps_uncond + (difference.float() * b.scale).to(difference.dtype)

        buffers.out, buffers.replay = self.capture(step)
        self.graphs[key] = buffers
        return buffers
