"""Stable Diffusion v1 models: loading from every real format, saving, and tiny test models."""

from creative_painting.models.bundle import LoadReport, StableDiffusion
from creative_painting.models.configs import ModelConfigs, bundled_configs
from creative_painting.models.loading import DEFAULT_MODEL, load_model
from creative_painting.models.tiny import build_model, make_tiny_model, tiny_configs, write_tiny
from creative_painting.models.tokenizer import load_clip_tokenizer

__all__ = [
    "DEFAULT_MODEL", "LoadReport", "ModelConfigs", "StableDiffusion", "build_model", "bundled_configs",
    "load_clip_tokenizer", "load_model", "make_tiny_model", "tiny_configs", "write_tiny",
]
