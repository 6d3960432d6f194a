"""Will a training run fit? Refuse one that would not, before the model loads, naming the options that fit.

A step holds the weights (trained ones in fp32, frozen ones in the mixed-precision dtype), under mixed
precision autocast's low-precision copies of the trained ones (kept for the backward pass), the gradients
and AdamW's two moments of what trains (8 bytes a parameter; bitsandbytes' 8-bit states take 2), the EMA
copy, and the larger of the gradients and the activations, as the backward pass frees the one while it
fills the other, plus the activations of the first blocks, which it reaches last. Loading holds the parts in
their training dtypes and the part being read as stored, counted as the whole model at 4 bytes a parameter
(a bound for fp16 and bf16 files, as SD v1 is published); the peak is the larger of loading and a step.
The activations are those of the larger phase: the U-Net's forward pass kept for the backward one (it
grows with latent cells, the channels of the U-Net's first block and the batch; gradient checkpointing keeps
only the blocks' inputs), or the VAE encoding the batch. Stage 1 keeps the frozen U-Net's
activations too: the text encoder's gradient flows back through them.

`OVERHEAD`, `ACTIVATION_FLOATS` and `TAIL_FLOATS` were calibrated against the peak RSS of the full SD v1
architecture training on this CPU (`benchmarks/train_full_size.py`, 256 px, batch 1-4, both stages, with and
without checkpointing, fp32 and bf16, 8-bit AdamW and EMA; `benchmarks/data/train_full_size.json`): the
estimate is 1.03-1.33x each measured peak (a test keeps it within 1.0-1.5x). On a GPU the same
estimate is compared with free GPU memory; it was not calibrated there.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from dataclasses import dataclass
from pathlib import Path

from creative_painting.errors import UserError
from creative_painting.training.config import TrainConfig

OVERHEAD = 2 * 2**30  # libraries, tokenizer, allocator, the batch and its loader buffers, at every size
# Floats kept per latent cell, per channel of the U-Net's first block, per sample: without and with checkpointing;
# and those of the first blocks, which the backward pass reaches last, beside nearly all the gradients.
ACTIVATION_FLOATS = {False: 500, True: 100}
TAIL_FLOATS = 100
VAE_FLOATS = 9  # per pixel, per channel of the VAE's first block, encoding without gradients
ADAM_BYTES = {False: 8, True: 2}  # per trained parameter: fp32 moments, or bitsandbytes' blockwise 8-bit ones
PRECISION_BYTES = {"no": 4, "fp16": 2, "bf16": 2}


@dataclass(frozen=True)
class TrainingMemory:
    """Bytes a training step needs, by what holds them."""

    weights: int
    casts: int
    gradients: int
    optimizer: int
    ema: int
    activations: int
    tail: int
    loading: int  # the whole model at 4 bytes a parameter: a bound for loading a 16-bit file
    overhead: int = OVERHEAD

    @property
    def total(self) -> int:
        """The peak of loading or of a step. In a step the backward pass frees the activations as it fills the
        gradients, so the larger of the two counts, beside what every step holds and the tail."""
        step = (self.weights + self.casts + self.optimizer + self.ema + max(self.gradients, self.activations)
                + self.tail)
        return self.overhead + max(self.loading, step)


# Where a diffusers folder keeps each part (a CompVis file's key prefixes are compvis_layout's).
FOLDER_FILES = {"unet": "unet/diffusion_pytorch_model.safetensors",
                "vae": "vae/diffusion_pytorch_model.safetensors",
                "text_encoder": "text_encoder/model.safetensors"}
FLOAT_DTYPES = ("F16", "BF16", "F32", "F64")


def parameter_counts(configs, model: str | None = None) -> dict[str, int]:
    """Parameters of each part: from the safetensors headers where `model` is a local safetensors folder or
    file, else from the configs alone (modules built on the meta device, once: the refusal tries several
    option sets on one model). Headers leave nothing behind in a process about to load the model; the meta
    modules leave some 8 MB of Python objects."""
    return _header_counts(model) or dict(_counts(configs.to_json()))


def _header_counts(model: str | None) -> dict[str, int] | None:
    """Floating-point elements per part, from the headers alone (no tensor data is read); None where the
    weights are not in safetensors files laid out as `models.load` reads them (pickles, shards, hub ids)."""
    from safetensors import SafetensorError, safe_open

    from creative_painting.models.compvis_layout import TEXT_PREFIX, UNET_PREFIX, VAE_PREFIX

    prefixes = {UNET_PREFIX: "unet", VAE_PREFIX: "vae", TEXT_PREFIX: "text_encoder"}
    path = Path(model or "")
    files = {part: path / name for part, name in FOLDER_FILES.items()} if path.is_dir() else {None: path}
    if not all(f.suffix == ".safetensors" and f.is_file() for f in files.values()):
        return None
    counts = dict.fromkeys(FOLDER_FILES, 0)
    try:
        for part, file in files.items():
            with safe_open(str(file), framework="pt") as f:
                for key in f.keys():  # noqa: SIM118 - a safe_open handle is not iterable
                    owner = part or next((p for k, p in prefixes.items() if key.startswith(k)), "")
                    tensor = f.get_slice(key)
                    if owner and tensor.get_dtype() in FLOAT_DTYPES:  # not CLIP's integer position ids
                        counts[owner] += math.prod(tensor.get_shape())
    except (OSError, SafetensorError):  # a damaged file: loading it says why
        return None
    return counts if all(counts.values()) else None


@functools.lru_cache(maxsize=4)
def _counts(configs_json: str) -> tuple[tuple[str, int], ...]:
    from accelerate import init_empty_weights

    from creative_painting.models.configs import ModelConfigs

    with init_empty_weights():
        parts = ModelConfigs.from_json(configs_json).networks()
    return tuple((name, sum(p.numel() for p in part.parameters())) for name, part in parts.items())


def estimate_training(cfg: TrainConfig, configs=None, device: str = "cpu") -> TrainingMemory:
    """What one process of `cfg` needs on `device` (`configs`: the model's, read from `cfg.model` when not
    given). An offloaded EMA copy is in host memory, not the GPU's: it visits the GPU for its update after
    the gradients are freed, and it is no larger than they are."""
    if configs is None:
        from creative_painting.models.loading import read_configs

        configs = read_configs(cfg.model)
    counts = parameter_counts(configs, cfg.model)
    trained = (counts["text_encoder"] if cfg.train_text_encoder else 0) + (
        counts["unet"] if cfg.stage == 2 and not cfg.lora_rank else 0)
    low = PRECISION_BYTES[cfg.mixed_precision]
    weights = 4 * trained + low * (sum(counts.values()) - trained)
    per_float = cfg.batch_size * (cfg.resolution // 8) ** 2 * configs.unet["block_out_channels"][0] * low
    unet = per_float * ACTIVATION_FLOATS[cfg.gradient_checkpointing]
    vae = cfg.batch_size * cfg.resolution**2 * configs.vae["block_out_channels"][0] * VAE_FLOATS * low
    casts = low * trained if cfg.mixed_precision != "no" else 0
    ema = 4 * trained if cfg.ema_decay and not (cfg.ema_offload and device == "cuda") else 0
    return TrainingMemory(weights=weights, casts=casts, gradients=4 * trained,
                          optimizer=ADAM_BYTES[cfg.use_8bit_adam] * trained, ema=ema,
                          activations=max(unet, vae), tail=per_float * TAIL_FLOATS, loading=4 * sum(counts.values()))


def _savings(cfg: TrainConfig, device: str) -> list[dict]:
    """Changes that lower the need, cheapest for the result first: none changes what is learned but the
    last ones (no EMA; a smaller batch, made up by accumulation, which changes only the speed)."""
    from creative_painting.models.device import mixed_precision_runs_here

    options = [{"gradient_checkpointing": True}]
    low = next((p for p in ("bf16", "fp16") if mixed_precision_runs_here(p)), None)
    if low and cfg.mixed_precision == "no":
        options.append({"mixed_precision": low})
    options.append({"use_8bit_adam": True})
    if device == "cuda" and cfg.ema_decay:
        options.append({"ema_offload": True})
    options.append({"ema_decay": 0.0})
    for batch in (cfg.batch_size // 2, 1):
        if 1 <= batch < cfg.batch_size:
            options.append({"batch_size": batch,
                            "gradient_accumulation_steps": cfg.gradient_accumulation_steps * cfg.batch_size // batch})
    return options


def _gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB"


def check_training_memory(cfg: TrainConfig) -> None:
    """One line, before the model loads, when `cfg` would not fit in the free memory of its device."""
    import torch

    from creative_painting.models.loading import read_configs
    from creative_painting.painting.memory import free_bytes

    configs = read_configs(cfg.model)
    if configs is None:
        return  # an uncached hub id: loading will say so
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    processes = 1 if device.type == "cuda" else int(os.environ.get("LOCAL_WORLD_SIZE", "1"))  # CPU ranks share RAM
    free = free_bytes(device)
    need = estimate_training(cfg, configs, device.type).total * processes
    if need <= free:
        return
    where = f"stage {cfg.stage} at {cfg.resolution} px, batch {cfg.batch_size}"
    changes: dict = {}
    for option in _savings(cfg, device.type):
        if all(getattr(cfg, k) == v for k, v in option.items()):
            continue
        changes.update(option)
        fitted = estimate_training(dataclasses.replace(cfg, **changes), configs, device.type).total
        fitted *= processes
        if fitted <= free:
            fix = " ".join(f"{k}={str(v).lower()}" for k, v in changes.items())
            raise UserError(f"{where} needs about {_gb(need)} of memory but {_gb(free)} is free; it fits with "
                            f"{fix} (about {_gb(fitted)}), or set check_memory=false to try anyway")
    raise UserError(f"{where} needs about {_gb(need)} of memory but {_gb(free)} is free, more than every memory "
                    "option saves; use lora_rank=16, a smaller resolution, or a larger machine "
                    "(check_memory=false tries anyway)")
