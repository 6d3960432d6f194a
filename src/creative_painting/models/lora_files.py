"""LoRA files in the kohya/A1111 format: written from peft's adapters (a `lora_rank` run), or extracted from a
full fine-tune by SVD of its weight differences, as kohya's `extract_lora_from_models.py` does."""

from __future__ import annotations

from pathlib import Path

import torch
from diffusers.utils import convert_state_dict_to_kohya
from safetensors.torch import save_file

from creative_painting.files import atomic_path


def to_kohya(unet: dict[str, torch.Tensor], text_encoder: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """peft state dicts (`get_peft_model_state_dict`) as kohya's keys, which A1111, ComfyUI, Fooocus and InvokeAI
    read: `lora_unet_<diffusers module>` and, for SD v1's one text encoder, `lora_te_text_model_<module>` (diffusers'
    converter writes SDXL's `lora_te1_`)."""
    peft = {f"unet.{k}": v for k, v in unet.items()} | {f"text_encoder.{k}": v for k, v in (text_encoder or {}).items()}
    kohya = convert_state_dict_to_kohya(peft)
    return {_sd1_text_key(k): v.detach().contiguous().cpu() for k, v in kohya.items()}


def _sd1_text_key(key: str) -> str:
    if not key.startswith("lora_te1_"):
        return key
    module = key.removeprefix("lora_te1_")
    return "lora_te_" + (module if module.startswith("text_model_") else "text_model_" + module)


def save_kohya(state: dict[str, torch.Tensor], path: str | Path, *, rank: int, alpha: float) -> Path:
    """One `.safetensors` with kohya's metadata (what A1111 shows of a LoRA), written atomically."""
    path = Path(path)
    metadata = {"ss_network_module": "networks.lora", "ss_network_dim": str(rank), "ss_network_alpha": f"{alpha:g}",
                "ss_base_model_version": "sd_v1", "ss_v2": "False"}
    with atomic_path(path) as tmp:
        save_file({k: v.float().contiguous() for k, v in state.items()}, str(tmp), metadata=metadata)
    return path
