"""The CompVis (LDM) single-file layout of Stable Diffusion v1: reading, and mapping to and from diffusers.

A CompVis checkpoint holds every component under one prefix each:
`model.diffusion_model.*` (U-Net), `first_stage_model.*` (VAE), `cond_stage_model.transformer.*`
(CLIP text encoder). Loading converts with diffusers' own converters; writing uses the inverse
mapping below, which is ours (diffusers ships it only as a script for fixed SD v1 block counts).
The round trip through both is tested to be exact for the tiny and the full-size architectures.
"""

from __future__ import annotations

import pickle
import re
import zipfile
from pathlib import Path
from typing import Any

import torch
from diffusers.loaders.single_file_utils import (
    DIFFUSERS_TO_LDM_MAPPING,
    convert_ldm_clip_checkpoint,
    convert_ldm_unet_checkpoint,
    convert_ldm_vae_checkpoint,
)
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open

from creative_painting.errors import UserError

UNET_PREFIX = "model.diffusion_model."
VAE_PREFIX = "first_stage_model."
TEXT_PREFIX = "cond_stage_model.transformer."
CONFIG_METADATA_KEY = "creative_painting.configs"

# Keys a CompVis checkpoint carries that are not weights of the three models: the training-time
# noise schedule, the VAE's training loss, EMA copies and the text encoder's position-ids buffer.
IGNORED_KEY_PATTERN = re.compile(
    r"^(betas|alphas_cumprod|alphas_cumprod_prev|sqrt_alphas_cumprod|sqrt_one_minus_alphas_cumprod|"
    r"log_one_minus_alphas_cumprod|sqrt_recip_alphas_cumprod|sqrt_recipm1_alphas_cumprod|"
    r"posterior_variance|posterior_log_variance_clipped|posterior_mean_coef1|posterior_mean_coef2|"
    r"logvar|model_ema\..*|first_stage_model\.loss\..*|cond_stage_model\.transformer\..*position_ids)$"
)


# ----------------------------------------------------------------------------------------- reading
def read_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Read a `.safetensors` or `.ckpt` file safely; return (state dict, string metadata).

    `.ckpt` files are zip pickles: they load with `weights_only=True`, which refuses arbitrary code.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"model file not found: {path}")
    try:
        if path.suffix == ".safetensors":
            with safe_open(str(path), framework="pt") as f:
                metadata = dict(f.metadata() or {})
            return load_file(str(path)), metadata
        raw = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except (SafetensorError, RuntimeError, EOFError, OSError, zipfile.BadZipFile, ValueError) as e:
        first_line = (str(e).strip().splitlines() or [type(e).__name__])[0].split(". ")[0][:160]
        raise UserError(f"cannot read checkpoint {path}: corrupt or truncated file ({first_line})") from e
    except pickle.UnpicklingError as e:  # weights_only refuses pickled objects
        raise UserError(f"refusing to load {path}: it holds pickled code, not only tensors") from e
    if not isinstance(raw, dict):
        raise UserError(f"{path} is not a state-dict checkpoint")
    metadata = {CONFIG_METADATA_KEY: raw[CONFIG_METADATA_KEY]} if isinstance(raw.get(CONFIG_METADATA_KEY), str) else {}
    while isinstance(raw.get("state_dict"), dict):
        raw = raw["state_dict"]
    state = {k: v for k, v in raw.items() if isinstance(v, torch.Tensor)}
    return state, metadata


# ----------------------------------------------------------------------------- CompVis -> diffusers
def split_to_diffusers(checkpoint: dict[str, torch.Tensor], unet_config: dict[str, Any], vae_config: dict[str, Any]
                       ) -> dict[str, dict[str, torch.Tensor]]:
    """Split a CompVis state dict into diffusers-named U-Net, VAE and text-encoder state dicts."""
    if any(k.startswith("cond_stage_model.model.") for k in checkpoint):
        raise UserError("this looks like a Stable Diffusion v2 checkpoint (OpenCLIP text encoder); only v1.x is supported")
    if not any(k.startswith(UNET_PREFIX) for k in checkpoint):
        raise UserError(f"no `{UNET_PREFIX}*` keys: not a CompVis Stable Diffusion checkpoint")
    text = {k: v for k, v in convert_ldm_clip_checkpoint(checkpoint).items() if not k.endswith("position_ids")}
    return {
        "unet": convert_ldm_unet_checkpoint(checkpoint, unet_config),
        "vae": convert_ldm_vae_checkpoint(checkpoint, vae_config),
        "text_encoder": text,
    }


# ----------------------------------------------------------------------------- diffusers -> CompVis
_UNET_TOP = dict(DIFFUSERS_TO_LDM_MAPPING["unet"]["layers"])
_VAE_TOP = dict(DIFFUSERS_TO_LDM_MAPPING["vae"])
_UNET_RESNET = {"norm1": "in_layers.0", "conv1": "in_layers.2", "time_emb_proj": "emb_layers.1",
                "norm2": "out_layers.0", "conv2": "out_layers.3", "conv_shortcut": "skip_connection"}
_VAE_ATTENTION = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}


def _rename_head(rest: str, table: dict[str, str]) -> str:
    for new, old in table.items():
        if rest.startswith(new + "."):
            return old + rest[len(new):]
    return rest


def unet_key_to_compvis(key: str, config: dict[str, Any]) -> str:
    """Name of a diffusers U-Net parameter in the CompVis layout (`input_blocks`, `middle_block`, ...)."""
    if key in _UNET_TOP:
        return _UNET_TOP[key]
    span = config["layers_per_block"] + 1  # resnets per down block, plus the downsampler's slot
    if m := re.match(r"(down|up)_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.+)", key):
        direction, b, kind, i, rest = m[1], int(m[2]), m[3], int(m[4]), m[5]
        slot = "0." + _rename_head(rest, _UNET_RESNET) if kind == "resnets" else "1." + rest
        if direction == "down":  # input_blocks.0 is conv_in
            return f"input_blocks.{1 + b * span + i}.{slot}"
        return f"output_blocks.{b * span + i}.{slot}"
    if m := re.match(r"down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+)", key):
        return f"input_blocks.{(int(m[1]) + 1) * span}.0.op.{m[2]}"
    if m := re.match(r"mid_block\.resnets\.(\d+)\.(.+)", key):
        return f"middle_block.{2 * int(m[1])}.{_rename_head(m[2], _UNET_RESNET)}"
    if m := re.match(r"mid_block\.attentions\.0\.(.+)", key):
        return f"middle_block.1.{m[1]}"
    if m := re.match(r"up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.+)", key):
        b = int(m[1])
        has_attention = config["up_block_types"][b].startswith("CrossAttn")
        return f"output_blocks.{b * span + span - 1}.{2 if has_attention else 1}.conv.{m[2]}"
    raise ValueError(f"no CompVis name for U-Net parameter {key!r}")


def vae_key_to_compvis(key: str, config: dict[str, Any]) -> str:
    """Name of a diffusers VAE parameter in the CompVis layout (`encoder.down.0.block.0`, `mid.attn_1`, ...)."""
    if key in _VAE_TOP:
        return _VAE_TOP[key]
    resnet = {"conv_shortcut": "nin_shortcut"}
    if m := re.match(r"encoder\.down_blocks\.(\d+)\.resnets\.(\d+)\.(.+)", key):
        return f"encoder.down.{m[1]}.block.{m[2]}.{_rename_head(m[3], resnet)}"
    if m := re.match(r"encoder\.down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+)", key):
        return f"encoder.down.{m[1]}.downsample.conv.{m[2]}"
    if m := re.match(r"(encoder|decoder)\.mid_block\.resnets\.(\d+)\.(.+)", key):
        return f"{m[1]}.mid.block_{int(m[2]) + 1}.{_rename_head(m[3], resnet)}"
    if m := re.match(r"(encoder|decoder)\.mid_block\.attentions\.0\.(.+)", key):
        return f"{m[1]}.mid.attn_1.{_rename_head(m[2], _VAE_ATTENTION)}"
    last = len(config["up_block_types"]) - 1  # CompVis numbers decoder levels from the bottom
    if m := re.match(r"decoder\.up_blocks\.(\d+)\.resnets\.(\d+)\.(.+)", key):
        return f"decoder.up.{last - int(m[1])}.block.{m[2]}.{_rename_head(m[3], resnet)}"
    if m := re.match(r"decoder\.up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.+)", key):
        return f"decoder.up.{last - int(m[1])}.upsample.conv.{m[2]}"
    raise ValueError(f"no CompVis name for VAE parameter {key!r}")


def compvis_name(component: str, key: str, unet_config: dict[str, Any], vae_config: dict[str, Any]) -> str:
    """Full CompVis key of a diffusers-named parameter of `component` ("unet", "vae" or "text_encoder")."""
    if component == "unet":
        return UNET_PREFIX + unet_key_to_compvis(key, unet_config)
    if component == "vae":
        return VAE_PREFIX + vae_key_to_compvis(key, vae_config)
    return TEXT_PREFIX + with_text_model_prefix(key)


def with_text_model_prefix(key: str) -> str:
    """CLIP text keys as SD v1 files and the hub store them: under `text_model.`.

    transformers 5's `CLIPTextModel` names its own parameters without that level.
    """
    return key if key.startswith("text_model.") else f"text_model.{key}"


def match_text_keys(state: dict[str, torch.Tensor], model_keys: set[str]) -> dict[str, torch.Tensor]:
    """Text-encoder keys in the form the installed transformers' model uses, from either form (checkpoints
    written with transformers < 4.31 lack the `text_model.` level)."""
    if any(k.startswith("text_model.") for k in model_keys):
        return {with_text_model_prefix(k): v for k, v in state.items()}
    return {k.removeprefix("text_model."): v for k, v in state.items()}


def merge_to_compvis(
    components: dict[str, dict[str, torch.Tensor]], unet_config: dict[str, Any], vae_config: dict[str, Any]
) -> dict[str, torch.Tensor]:
    """One CompVis state dict from diffusers-named {"unet", "vae", "text_encoder"} state dicts.

    The inverse of `split_to_diffusers`.
    """
    out: dict[str, torch.Tensor] = {}
    for component, state in components.items():
        for key, value in state.items():
            if key.endswith("position_ids"):
                continue
            name = compvis_name(component, key, unet_config, vae_config)
            if ".mid.attn_1." in name and value.ndim == 2:
                value = value[:, :, None, None]  # CompVis uses 1x1 convolutions where diffusers uses linears
            out[name] = value
    return out
