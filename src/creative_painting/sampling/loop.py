"""The one sampling loop every named sampler runs through."""

from __future__ import annotations

from collections.abc import Callable

import torch
from diffusers.schedulers.scheduling_utils import SchedulerMixin

from creative_painting.sampling.guidance import Denoiser
from creative_painting.sampling.samplers import SamplerSpec


def sample(
    denoise: Denoiser,
    scheduler: SchedulerMixin,
    spec: SamplerSpec,
    noise: torch.Tensor,
    steps: int,
    *,
    eta: float | None = None,
    generator: torch.Generator | list[torch.Generator] | None = None,
    on_step: Callable[[], None] | None = None,
) -> torch.Tensor:
    """Integrate from pure noise (unit variance) to a clean latent in `steps` sampler steps.

    `generator` may be one generator per batch element: each image's noise then depends only on
    its own seed, not on what else is in the batch.
    """
    scheduler.set_timesteps(steps, device=noise.device)
    x = noise * scheduler.init_noise_sigma
    step_kwargs: dict = {}
    if spec.takes_eta:
        step_kwargs["eta"] = 0.0 if eta is None else eta
    if spec.stochastic:
        step_kwargs["generator"] = generator
    for t in scheduler.timesteps:
        eps = denoise(scheduler.scale_model_input(x, t), t)
        x = scheduler.step(eps, t, x, **step_kwargs).prev_sample
        if on_step is not None:
            on_step()
    return x
