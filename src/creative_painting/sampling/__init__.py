"""Samplers (DDPM, DDIM, PLMS, DPM++ 2M, Euler ancestral, UniPC), guidance, the loop, presets."""

from typing import TYPE_CHECKING

from creative_painting._lazy import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "guidance": ["Denoiser", "guided_denoiser"],
    "loop": ["sample"],
    "presets": ["PRESETS", "SamplingSettings"],
    "samplers": ["SAMPLERS", "Sampler", "get_sampler"],
})

if TYPE_CHECKING:  # what type checkers and editors see; at run time, names load on first use
    from creative_painting.sampling.guidance import Denoiser, guided_denoiser
    from creative_painting.sampling.loop import sample
    from creative_painting.sampling.presets import PRESETS, SamplingSettings
    from creative_painting.sampling.samplers import SAMPLERS, Sampler, get_sampler
