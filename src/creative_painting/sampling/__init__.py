"""Samplers (DDPM, DDIM, PLMS, DPM++ 2M, Euler ancestral, UniPC), guidance, the loop, presets."""

from creative_painting.sampling.guidance import Denoiser, guided_denoiser
from creative_painting.sampling.loop import sample
from creative_painting.sampling.presets import PRESETS, SamplingSettings, get_preset
from creative_painting.sampling.samplers import SAMPLERS, SamplerSpec, get_sampler

__all__ = [
    "PRESETS", "SAMPLERS", "Denoiser", "SamplerSpec", "SamplingSettings", "get_preset", "get_sampler",
    "guided_denoiser", "sample",
]
