"""Samplers (DDPM, DDIM, PLMS, DPM++ 2M, Euler ancestral, UniPC), guidance, the loop, presets."""

from creative_painting._lazy import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "guidance": ["Denoiser", "guided_denoiser"],
    "loop": ["sample"],
    "presets": ["PRESETS", "SamplingSettings", "get_preset"],
    "samplers": ["SAMPLERS", "SamplerSpec", "get_sampler"],
})
