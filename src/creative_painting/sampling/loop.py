"""The one sampling loop every named sampler runs through."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator

import torch
from diffusers.schedulers.scheduling_utils import SchedulerMixin
from diffusers.utils.torch_utils import randn_tensor

from creative_painting.sampling.guidance import Denoiser
from creative_painting.sampling.samplers import Sampler

NOISE_WINDOW = 25  # steps of DDIM's noise drawn and uploaded at once: a few MB at 512 px


def sample(
    denoise: Denoiser,
    scheduler: SchedulerMixin,
    sampler: Sampler,
    noise: torch.Tensor,
    steps: int,
    *,
    eta: float | None = None,
    generator: torch.Generator | list[torch.Generator] | None = None,
    on_step: Callable[[], None] | None = None,
    noise_ahead: bool | None = None,
) -> torch.Tensor:
    """Integrate from pure noise (unit variance) to a clean latent in `steps` sampler steps.

    `generator` may be one generator per batch element: each image's noise then depends only on
    its own seed, not on what else is in the batch.

    Nothing in the loop waits for the GPU: the scheduler indexes its tables with timesteps held on the host
    (a timestep on the GPU is read back, a sync, at every step), and DDIM's per-step noise, drawn from the
    CPU generators so that a seed paints the same picture everywhere, is drawn `NOISE_WINDOW` steps ahead
    and uploaded without a sync (`noise_ahead`; by default on any device but the CPU). Both give the same
    numbers as the plain loop.
    """
    scheduler.set_timesteps(steps, device=noise.device)
    x = noise * scheduler.init_noise_sigma
    step_kwargs: dict = {}
    if sampler.takes_eta:
        step_kwargs["eta"] = 0.0 if eta is None else eta
    draws = None
    if sampler.stochastic:
        if noise_ahead is None:
            noise_ahead = noise.device.type != "cpu"
        takes_noise = "variance_noise" in inspect.signature(scheduler.step).parameters
        if noise_ahead and step_kwargs.get("eta", 0.0) > 0 and takes_noise:
            draws = drawn_ahead(generator, noise.shape, noise.dtype, noise.device, len(scheduler.timesteps))
        else:
            step_kwargs["generator"] = generator
    on_host = scheduler.timesteps.cpu()
    for t, t_host in zip(scheduler.timesteps, on_host, strict=True):
        eps = denoise(scheduler.scale_model_input(x, t_host), t)
        if draws is not None:
            step_kwargs["variance_noise"] = next(draws)
        x = scheduler.step(eps, t_host, x, **step_kwargs).prev_sample
        if on_step is not None:
            on_step()
    return x


def drawn_ahead(generator: torch.Generator | list[torch.Generator] | None, shape: torch.Size, dtype: torch.dtype,
                device: torch.device, steps: int) -> Iterator[torch.Tensor]:
    """Each step's noise as DDIM's `step` would draw it (diffusers' `randn_tensor`, on the generators' CPU, in
    the step's dtype), `NOISE_WINDOW` steps at a time, uploaded from pinned memory without waiting."""
    cpu = torch.device("cpu")
    for start in range(0, steps, NOISE_WINDOW):
        block = torch.stack([randn_tensor(shape, generator=generator, device=cpu, dtype=dtype)
                             for _ in range(min(NOISE_WINDOW, steps - start))])
        if device.type == "cuda":
            block = block.pin_memory()
        yield from block.to(device, non_blocking=True)
