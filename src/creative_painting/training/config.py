"""Training configuration: a YAML or TOML file (read by `config_files.load_settings`), overridden by `key=value`
pairs on the command line."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from creative_painting.config_files import load_settings
from creative_painting.errors import UserError
from creative_painting.seeds import check_seed


@dataclass
class TrainConfig:
    model: str  # hub id, diffusers folder or single file: the starting point
    data: str  # `wikiart shard` output folder, or a WikiArt folder / parquet
    output_dir: str
    stage: int = 2  # 1: new text encoder, U-Net and VAE frozen; 2: text encoder + U-Net jointly
    text_encoder_init: str = "scratch"  # stage 1 default as in the paper; "pretrained" keeps the model's
    train_text_encoder: bool = True  # stage 2: false fine-tunes the U-Net alone (diffusers' train_text_to_image)
    resolution: int = 512
    batch_size: int = 4
    gradient_accumulation_steps: int = 1
    max_steps: int = 1000
    learning_rate: float = 1e-5
    text_encoder_learning_rate: float | None = None  # default: learning_rate
    weight_decay: float = 1e-2
    warmup_steps: int = 0
    seed: int = 0
    mixed_precision: str = "no"  # no, fp16, bf16
    gradient_checkpointing: bool = False
    use_8bit_adam: bool = False  # bitsandbytes' AdamW8bit: 2 bytes of optimizer state a parameter, not 8
    adam_kernel: str = "fused"  # fused (one kernel for all tensors) or foreach (multi-tensor); same update
    ema_decay: float = 0.0  # 0: no EMA; e.g. 0.9999
    ema_offload: bool = False  # EMA copy in host memory, on the GPU only to update (diffusers' --offload_ema)
    snr_gamma: float = 0.0  # 0: plain MSE; 5.0: Min-SNR weighting
    caption_dropout: float = 0.1
    field_dropout: float = 0.0
    caption_template: str | None = None  # default: the WikiArt museum-label template
    artist_aliases: dict[str, list[str]] = field(default_factory=dict)  # artist -> other names, one drawn per caption
    balance: float = 0.0  # artist balancing power (0: as the data is)
    lora_rank: int = 0  # > 0: LoRA on the U-Net attention instead of full fine-tuning (stage 2)
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    validate_every: int = 500
    validation_artists: list[str] = field(default_factory=lambda: ["Vincent van Gogh", "Claude Monet"])
    validation_prompts: list[str] = field(default_factory=lambda: ["a city at night"])
    validation_steps: int = 25
    log_every: int = 10
    num_workers: int = 2
    export: bool = True  # write model.safetensors and diffusers/ at the end
    check_memory: bool = True  # refuse, before loading, a run the memory estimate says will not fit

    def validate(self) -> TrainConfig:
        checks = [
            (self.stage in (1, 2), f"stage must be 1 or 2, got {self.stage}"),
            (self.text_encoder_init in ("scratch", "pretrained"), "text_encoder_init must be scratch or pretrained"),
            (self.resolution >= 8 and self.resolution % 8 == 0, "resolution must be a positive multiple of 8"),
            (self.batch_size >= 1 and self.gradient_accumulation_steps >= 1, "batch sizes must be at least 1"),
            (self.max_steps >= 1, "max_steps must be at least 1"),
            (self.learning_rate > 0, "learning_rate must be positive"),
            (self.mixed_precision in ("no", "fp16", "bf16"), "mixed_precision must be no, fp16 or bf16"),
            (self.adam_kernel in ("fused", "foreach"), "adam_kernel must be fused or foreach"),
            (0 <= self.caption_dropout < 1 and 0 <= self.field_dropout < 1, "dropouts must be in [0, 1)"),
            (0 <= self.ema_decay < 1, "ema_decay must be in [0, 1)"),
            (self.lora_rank == 0 or self.stage == 2, "LoRA applies to the U-Net, so stage 2 only"),
            (self.train_text_encoder or self.stage == 2, "stage 1 trains the text encoder: train_text_encoder must be true"),
            (self.checkpoint_every >= 1 and self.validate_every >= 1, "checkpoint_every/validate_every must be >= 1"),
            (self.num_workers >= 0, "num_workers must be 0 (load in the training process) or more"),
            (self.log_every >= 1 and self.validation_steps >= 1, "log_every and validation_steps must be >= 1"),
            (self.keep_checkpoints >= 0 and self.warmup_steps >= 0, "keep_checkpoints and warmup_steps must be >= 0"),
            (self.weight_decay >= 0 and self.snr_gamma >= 0 and self.balance >= 0, "weight_decay, snr_gamma and "
             "balance must be >= 0"),
            (self.lora_rank >= 0, "lora_rank must be >= 0"),
            (self.text_encoder_learning_rate is None or self.text_encoder_learning_rate > 0,
             "text_encoder_learning_rate must be positive"),
            (bool(self.validation_prompts) and all(p.strip() for p in self.validation_prompts),
             "validation_prompts must hold at least one non-empty prompt"),
        ]
        for ok, message in checks:
            if not ok:
                raise UserError(f"config: {message}")
        check_seed(self.seed, "config: seed")
        return self

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1)


def load_config(path: str | Path | None, overrides: list[str] = (), base: dict[str, Any] | None = None,
                cls: type = TrainConfig):
    """A training (or, with `cls`, VAE training) config from its file and `key=value` overrides."""
    return load_settings(path, overrides, base, cls=cls)


@dataclass
class VaeConfig:
    """KL autoencoder training (the paper's Eq. 16-18): reconstruction + KL (+ optional patch-GAN)."""

    data: str
    output_dir: str
    model: str | None = None  # start from this model's VAE; default: a small VAE built from `channels`
    channels: list[int] = field(default_factory=lambda: [32, 64])  # one 2x downsampling per extra level
    latent_channels: int = 4
    resolution: int = 256
    batch_size: int = 8
    max_steps: int = 1000
    learning_rate: float = 1e-3
    kl_weight: float = 1e-6
    gan_weight: float = 0.0  # > 0 adds a patch-GAN hinge loss after gan_start steps
    gan_start: int = 0
    seed: int = 0
    num_workers: int = 2
    checkpoint_every: int = 500

    def validate(self) -> VaeConfig:
        if not 1 <= len(self.channels) <= 6 or any(not 8 <= c <= 1024 or c % 8 for c in self.channels):
            raise UserError("config: channels must list 1 to 6 widths, each a multiple of 8 in 8..1024")
        if not 1 <= self.latent_channels <= 64:
            raise UserError("config: latent_channels must be in 1..64")
        if self.kl_weight < 0 or self.gan_weight < 0 or self.gan_start < 0:
            raise UserError("config: kl_weight, gan_weight and gan_start must be >= 0")
        if self.resolution < 8 or self.resolution % 2 ** (len(self.channels) - 1):
            raise UserError("config: resolution must be divisible by the VAE's downsampling")
        if self.max_steps < 1 or self.batch_size < 1 or self.learning_rate <= 0 or self.checkpoint_every < 1:
            raise UserError("config: max_steps, batch_size, learning_rate and checkpoint_every must be positive")
        if self.num_workers < 0:
            raise UserError("config: num_workers must be 0 (load in the training process) or more")
        check_seed(self.seed, "config: seed")
        return self
