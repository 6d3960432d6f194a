"""Stable Diffusion v1 models: loading from every real format, saving, and tiny test models."""

from typing import TYPE_CHECKING

from creative_painting._lazy import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "bundle": ["LoadReport", "StableDiffusion"],
    "configs": ["DEFAULT_MODEL", "ModelConfigs", "bundled_configs"],
    "device": ["check_backend", "cpu_has_native_bf16", "place", "resolve_device"],
    "loading": ["load", "load_model"],
    "tiny": ["build_model", "make_tiny_model", "tiny_configs", "write_tiny"],
    "tokenizer": ["load_clip_tokenizer"],
})

if TYPE_CHECKING:  # what type checkers and editors see; at run time, names load on first use
    from creative_painting.models.bundle import LoadReport, StableDiffusion
    from creative_painting.models.configs import DEFAULT_MODEL, ModelConfigs, bundled_configs
    from creative_painting.models.device import check_backend, cpu_has_native_bf16, place, resolve_device
    from creative_painting.models.loading import load, load_model
    from creative_painting.models.tiny import build_model, make_tiny_model, tiny_configs, write_tiny
    from creative_painting.models.tokenizer import load_clip_tokenizer
