"""Tiny random models with the SD v1 architecture, for exercising code paths offline.

They have the real tokenizer, an 8x VAE (so latents are H/8 x W/8 as in SD) and a cross-attention
U-Net, with ~3M parameters. They paint noise: never use them to claim anything about quality.
"""

from __future__ import annotations

from pathlib import Path

from creative_painting.models.bundle import StableDiffusion
from creative_painting.models.configs import ModelConfigs, bundled_configs, public
from creative_painting.models.tokenizer import load_clip_tokenizer
from creative_painting.seeds import seeded_init


def tiny_configs(width: int = 32) -> ModelConfigs:
    """U-Net (width, 2*width) with one cross-attention level, 4-level VAE, 2-layer CLIP text encoder."""
    return ModelConfigs(
        unet={
            "block_out_channels": [width, 2 * width],
            "layers_per_block": 2,
            "sample_size": 8,
            "in_channels": 4,
            "out_channels": 4,
            "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
            "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"],
            "cross_attention_dim": 32,
            "attention_head_dim": 8,
            "norm_num_groups": 8,
        },
        vae={
            "block_out_channels": [8, 16, 32, 32],
            "in_channels": 3,
            "out_channels": 3,
            "down_block_types": ["DownEncoderBlock2D"] * 4,
            "up_block_types": ["UpDecoderBlock2D"] * 4,
            "latent_channels": 4,
            "layers_per_block": 1,
            "norm_num_groups": 8,
            "sample_size": 64,
            "scaling_factor": 0.18215,
        },
        text_encoder={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_attention_heads": 4,
            "num_hidden_layers": 2,
            "max_position_embeddings": 77,
            "vocab_size": 49408,
            "projection_dim": 32,
            "hidden_act": "quick_gelu",
            "bos_token_id": 49406,
            "eos_token_id": 49407,
            "pad_token_id": 49407,
        },
        scheduler=bundled_configs().scheduler,
    )


def build_model(configs: ModelConfigs, seed: int = 0) -> StableDiffusion:
    """Random-weight model of any architecture given by `configs` (tiny here, full size in tests)."""
    with seeded_init(seed):
        networks = configs.networks()
    return StableDiffusion(**networks, tokenizer=load_clip_tokenizer(), scheduler_config=public(configs.scheduler),
                           source="tiny").eval()


def make_tiny_model(seed: int = 0) -> StableDiffusion:
    return build_model(tiny_configs(), seed)


def write_tiny(folder: str | Path, seed: int = 0, *, overwrite: bool = False) -> dict[str, Path]:
    """Write the tiny model as `diffusers/`, `tiny.safetensors` and `tiny.ckpt` (CompVis layout) under `folder`.

    The folder appears whole; a previous tiny model there is replaced only with `overwrite`."""
    from creative_painting.files import output_dir

    folder = Path(folder)
    names = {"diffusers": "diffusers", "safetensors": "tiny.safetensors", "ckpt": "tiny.ckpt"}
    with output_dir(folder, "tiny-model", overwrite=overwrite) as staging:
        model = make_tiny_model(seed)
        model.save_diffusers(staging / names["diffusers"])
        model.save_single_file(staging / names["safetensors"])
        model.save_single_file(staging / names["ckpt"])
    return {kind: folder / name for kind, name in names.items()}
