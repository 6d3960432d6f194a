"""Stable Diffusion v1 models: loading from every real format, saving, and tiny test models."""

from creative_painting._lazy import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "bundle": ["LoadReport", "StableDiffusion"],
    "configs": ["DEFAULT_MODEL", "ModelConfigs", "bundled_configs"],
    "loading": ["load_model"],
    "tiny": ["build_model", "make_tiny_model", "tiny_configs", "write_tiny"],
    "tokenizer": ["load_clip_tokenizer"],
})
