"""LoRA and embedding files for the tiny model, in every format, written by diffusers' and peft's own writers."""

from __future__ import annotations

from pathlib import Path

import torch
from diffusers.loaders import StableDiffusionLoraLoaderMixin
from peft import LoraConfig, inject_adapter_in_model
from peft.utils import get_peft_model_state_dict
from safetensors.torch import save_file

from creative_painting.models.lora_export import save_kohya, to_kohya
from creative_painting.models.tiny import make_tiny_model

UNET_TARGETS = ["to_q", "to_k", "to_v", "to_out.0", "proj_in", "proj_out", "ff.net.0.proj", "ff.net.2"]
TEXT_TARGETS = ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"]


def lora_layers(rank: int = 4, alpha: float = 2.0, seed: int = 1, text: bool = True):
    """peft state dicts of a random LoRA for the tiny model's U-Net (and text encoder): both A and B drawn, so
    it changes the picture (peft starts B at zero)."""
    model = make_tiny_model()
    generator = torch.Generator().manual_seed(seed)
    parts = {"unet": (model.unet, UNET_TARGETS)} | ({"text_encoder": (model.text_encoder, TEXT_TARGETS)} if text else {})
    out = {}
    for name, (module, targets) in parts.items():
        module = inject_adapter_in_model(LoraConfig(r=rank, lora_alpha=alpha, target_modules=targets), module)
        state = get_peft_model_state_dict(module)
        out[name] = {k: torch.randn(v.shape, generator=generator) * 0.3 for k, v in state.items()}
    return out


def write_lora(folder: Path, fmt: str, **kwargs) -> Path:
    """`kohya` (A1111's keys, alpha per layer), `diffusers` (pytorch_lora_weights.safetensors, peft keys) or
    `diffusers-bin` (the same, pickled tensors)."""
    layers = lora_layers(**kwargs)
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "kohya":
        rank = kwargs.get("rank", 4)
        state = to_kohya(layers["unet"], layers.get("text_encoder"))
        alpha = kwargs.get("alpha", 2.0)
        state = {k: (torch.tensor(float(alpha)) if k.endswith(".alpha") else v) for k, v in state.items()}
        return save_kohya(state, folder / "style.safetensors", rank=rank, alpha=alpha)
    safe = fmt == "diffusers"
    StableDiffusionLoraLoaderMixin.save_lora_weights(folder, unet_lora_layers=layers["unet"],
                                                     text_encoder_lora_layers=layers.get("text_encoder"),
                                                     safe_serialization=safe)
    return folder / ("pytorch_lora_weights.safetensors" if safe else "pytorch_lora_weights.bin")


def write_embedding(folder: Path, fmt: str, vectors: int = 2, width: int = 32, seed: int = 2) -> Path:
    """`a1111-pt` (string_to_param, as A1111 writes), `a1111-safetensors` (emb_params) or `diffusers`
    (learned_embeds.safetensors: one token, one tensor)."""
    folder.mkdir(parents=True, exist_ok=True)
    emb = torch.randn(vectors, width, generator=torch.Generator().manual_seed(seed))
    if fmt == "a1111-pt":
        path = folder / "inkwash.pt"
        torch.save({"string_to_token": {"*": 265}, "string_to_param": {"*": emb}, "name": "inkwash", "step": 500,
                    "sd_checkpoint": "abc", "sd_checkpoint_name": "v1-5"}, path)
    elif fmt == "a1111-safetensors":
        path = folder / "inkwash.safetensors"
        save_file({"emb_params": emb}, path)
    else:
        path = folder / "learned_embeds.safetensors"
        save_file({"<inkwash>": emb[0]}, path)
    return path
