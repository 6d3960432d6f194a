"""The guided step replayed from fixed buffers (CUDA graphs on a GPU) and DDIM's noise drawn ahead compute
what the plain loop computes, bit for bit. On the CPU a graph is stood in by `recomputed`, which keeps a
graph's contract (inputs read from buffers, output overwritten at each replay): what is ours, the copying in
and out, runs here; CUDA's capture itself is checked by benchmarks/gpu_speed.py on a GPU."""

import copy

import numpy as np
import pytest
import torch

from creative_painting.models import graphs as graphs_module
from creative_painting.models.graphs import CudaGraphs
from creative_painting.painting import Cell, paint
from creative_painting.sampling import SamplingSettings, get_sampler, guided_denoiser, sample
from creative_painting.sampling.loop import NOISE_WINDOW, drawn_ahead


def recomputed(step):
    """A graph's contract without CUDA: the output buffer is overwritten from the input buffers at each replay."""
    out = step()
    return out, lambda: out.copy_(step())


class Counted:
    """`recomputed`, counting captures."""

    def __init__(self):
        self.captures = 0

    def __call__(self, step):
        self.captures += 1
        return recomputed(step)


def run(model, denoise, sampler, noise, steps, eta, seeds, **kwargs):
    spec = get_sampler(sampler)
    generators = [torch.Generator().manual_seed(s) for s in seeds]
    return sample(
        denoise,
        spec.make(model.scheduler_config),
        spec,
        noise,
        steps,
        eta=eta,
        generator=generators,
        **kwargs,
    )


def embeddings(model, seed):
    g = torch.Generator().manual_seed(seed)
    dim = model.text_encoder.config.hidden_size
    return torch.randn(2, 77, dim, generator=g), torch.randn(2, 77, dim, generator=g)


@pytest.mark.parametrize("sampler, eta, scale", [("ddim", 1.0, 7.3), ("plms", None, 5.0), ("ddim", 0.0, 1.0)])
def test_replayed_step_equals_the_eager_one_bit_for_bit_over_batches_of_one_shape(
    tiny_model, sampler, eta, scale
):
    """Two batches of one shape (other captions and noise): one capture, and the same latents as the eager
    `guided_denoiser`. PLMS keeps earlier outputs, so an output that the next replay overwrites shows; a
    stale latent, timestep or caption shows in any sampler."""
    unet = tiny_model.unet
    graphs = CudaGraphs(capture := Counted())
    for batch, (cond, uncond) in enumerate([embeddings(tiny_model, 1), embeddings(tiny_model, 2)]):
        noise = torch.randn(2, 4, 8, 8, generator=torch.Generator().manual_seed(batch))
        eager = run(tiny_model, guided_denoiser(unet, cond, uncond, scale), sampler, noise, 6, eta, [3, 4])
        replayed = run(
            tiny_model, guided_denoiser(unet, cond, uncond, scale, graphs), sampler, noise, 6, eta, [3, 4]
        )
        assert torch.equal(replayed, eager), (batch, (replayed - eager).abs().max())
    assert capture.captures == 1


def test_a_graph_bakes_in_its_scale_so_another_scale_is_another_graph(tiny_model):
    cond, uncond = embeddings(tiny_model, 1)
    graphs = CudaGraphs(capture := Counted())
    x, t = torch.randn(2, 4, 8, 8), torch.tensor(500)
    for scale in (5.0, 7.5, 5.0):
        replayed = guided_denoiser(tiny_model.unet, cond, uncond, scale, graphs)(x, t)
        assert torch.equal(replayed, guided_denoiser(tiny_model.unet, cond, uncond, scale)(x, t))
    assert capture.captures == 2


def test_each_shape_has_its_graph_and_the_oldest_is_let_go(tiny_model, monkeypatch):
    monkeypatch.setattr(graphs_module, "MAX_GRAPHS", 2)
    graphs = CudaGraphs(capture := Counted())
    cond, uncond = embeddings(tiny_model, 1)
    t = torch.tensor(500)
    for size in (8, 16, 8, 24):
        guided_denoiser(tiny_model.unet, cond[:1], uncond[:1], 5.0, graphs)(torch.randn(1, 4, size, size), t)
    assert capture.captures == 3 and sorted(key[1][0] for key in graphs.graphs) == [
        (1, 4, 16, 16),
        (1, 4, 24, 24),
    ]


def test_painter_replays_the_models_graphs(tiny_model):
    """`render` uses `model.graphs` when a backend set them, and paints the same pixels."""
    settings = SamplingSettings("ddim", 3, 5.0, 1.0, 32, 32)
    cells = [Cell.single("a harbour", 1), Cell.single("a city at night", 2), Cell.single("a storm", 3)]
    model = copy.copy(tiny_model)
    model.graphs = CudaGraphs(capture := Counted())
    graphed = [np.asarray(i) for i in paint(model, cells, settings, batch_size=1)]
    plain = [np.asarray(i) for i in paint(tiny_model, cells, settings, batch_size=1)]
    assert capture.captures == 1 and all(np.array_equal(a, b) for a, b in zip(graphed, plain, strict=True))


def test_noise_drawn_ahead_is_the_noise_ddim_draws_itself(tiny_model):
    """Across two windows, per-image generators: the same latents as DDIM's own draws, bit for bit."""
    cond, uncond = embeddings(tiny_model, 1)
    denoise = guided_denoiser(tiny_model.unet, cond, uncond, 5.0)
    noise = torch.randn(2, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    steps = NOISE_WINDOW + 3
    own = run(tiny_model, denoise, "ddim", noise, steps, 1.0, [5, 6], noise_ahead=False)
    ahead = run(tiny_model, denoise, "ddim", noise, steps, 1.0, [5, 6], noise_ahead=True)
    assert torch.equal(own, ahead)
    other = run(tiny_model, denoise, "ddim", noise, steps, 1.0, [5, 7], noise_ahead=True)
    assert not torch.equal(other[1], ahead[1]) and torch.equal(other[0], ahead[0])  # each image its own seed


def test_drawn_ahead_yields_one_draw_per_step_in_order():
    generators = [torch.Generator().manual_seed(9)]
    draws = list(
        drawn_ahead(generators, torch.Size([1, 2]), torch.float32, torch.device("cpu"), NOISE_WINDOW + 1)
    )
    g = torch.Generator().manual_seed(9)
    assert len(draws) == NOISE_WINDOW + 1
    assert all(torch.equal(d, torch.randn(1, 2, generator=g)) for d in draws)
