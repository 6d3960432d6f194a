"""Named samplers: each is a diffusers scheduler configured exactly as the published algorithm."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from creative_painting.errors import UserError

if TYPE_CHECKING:
    from diffusers.schedulers.scheduling_utils import SchedulerMixin


@dataclass(frozen=True)
class Sampler:
    name: str
    scheduler: str  # diffusers class name, imported when a scheduler is made
    overrides: dict[str, Any] = field(default_factory=dict)
    stochastic: bool = False  # step() draws fresh noise, so it takes the per-image generators
    takes_eta: bool = False
    about: str = ""

    def make(self, schedule: dict[str, Any]) -> SchedulerMixin:
        """A fresh scheduler over the model's training noise schedule (betas) with this sampler's settings."""
        import diffusers

        return getattr(diffusers, self.scheduler).from_config({**schedule, **self.overrides})


# SD v1 was trained with CompVis' +1 timestep offset, scaled-linear betas 0.00085..0.012 and no
# clipping of x0; those come from the model's schedule, the rest is the sampler's own.
SAMPLERS: dict[str, Sampler] = {
    sampler.name: sampler
    for sampler in (
        Sampler("ddpm", "DDPMScheduler", {"variance_type": "fixed_small", "clip_sample": False}, stochastic=True,
                    about="Ho et al. 2020, ancestral sampling on a respaced schedule"),
        Sampler("ddim", "DDIMScheduler", {"clip_sample": False, "set_alpha_to_one": False}, stochastic=True,
                    takes_eta=True, about="Song et al. 2021, Eq. 12: eta=0 deterministic, eta=1 DDPM-like"),
        Sampler("plms", "PNDMScheduler", {"skip_prk_steps": True},
                    about="Liu et al. 2022 PLMS: pseudo improved-Euler first step, then Adams-Bashforth 2/3/4"),
        Sampler("dpmpp-2m", "DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2},
                    about="Lu et al. 2022, DPM-Solver++(2M): good images in 20-25 steps"),
        Sampler("euler-a", "EulerAncestralDiscreteScheduler", {}, stochastic=True,
                    about="Karras et al. 2022 Euler ancestral"),
        Sampler("unipc", "UniPCMultistepScheduler", {}, about="Zhao et al. 2023 UniPC: few-step predictor-corrector"),
    )
}


def get_sampler(name: str) -> Sampler:
    try:
        return SAMPLERS[name]
    except KeyError:
        raise UserError(f"unknown sampler {name!r}; choose one of {', '.join(SAMPLERS)}") from None
