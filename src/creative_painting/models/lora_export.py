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


def lora_targets(model) -> dict[str, dict[str, torch.nn.Module]]:
    """The layers a kohya LoRA for SD v1 adapts: the U-Net's attention blocks (their linear and 1x1 convolution
    layers) and the text encoder's attention and MLP layers, by diffusers' / transformers' module names."""
    def linear(m: torch.nn.Module) -> bool:
        return isinstance(m, torch.nn.Linear) or isinstance(m, torch.nn.Conv2d) and m.kernel_size == (1, 1)

    return {"unet": {n: m for n, m in model.unet.named_modules() if ".attentions." in n and linear(m)},
            "text_encoder": {n: m for n, m in model.text_encoder.named_modules()
                             if ".layers." in n and isinstance(m, torch.nn.Linear)}}


@torch.no_grad()
def extract_lora(base, tuned, rank: int, progress: bool = True, parts: tuple[str, ...] = ("unet", "text_encoder")
                 ) -> tuple[dict[str, torch.Tensor], dict[str, float]]:
    """kohya's extraction: each adapted layer's difference `tuned - base`, cut to its top `rank` singular values
    (up = U S, down = V^T, alpha = rank: scale 1), for the named `parts`. Returns the kohya state dict and what it
    keeps: `kept`, the share of the adapted layers' squared difference the rank keeps; `outside`, the share of
    those parts' whole difference in layers no LoRA adapts (ResNet blocks, norms, embeddings)."""
    from tqdm.auto import tqdm

    peft: dict[str, dict[str, torch.Tensor]] = {"unet": {}, "text_encoder": {}}
    total = kept = inside = 0.0
    targets, tuned_targets = lora_targets(base), lora_targets(tuned)
    layers = [(part, name, module) for part in parts for name, module in targets[part].items()]
    for part, name, module in tqdm(layers, desc="extracting", unit="layer", disable=not progress):
        weight = module.weight.float()
        delta = (tuned_targets[part][name].weight.float() - weight).reshape(weight.shape[0], -1)
        energy = float(delta.square().sum())
        if energy == 0.0:
            continue
        u, s, vh = torch.linalg.svd(delta, full_matrices=False)
        r = min(rank, s.numel())
        inside, kept = inside + energy, kept + float(s[:r].square().sum())
        down, up = vh[:r], u[:, :r] * s[:r]
        if weight.ndim == 4:  # a 1x1 convolution
            down, up = down[:, :, None, None], up[:, :, None, None]
        peft[part][f"{name}.lora_A.weight"], peft[part][f"{name}.lora_B.weight"] = down, up
    for part in parts:
        a, b = getattr(base, part).state_dict(), getattr(tuned, part).state_dict()
        total += sum(float((b[k].float() - a[k].float()).square().sum()) for k in a)
    report = {"rank": rank, "layers": sum(len(p) for p in peft.values()) // 2,
              "kept": kept / inside if inside else 1.0, "outside": 1 - inside / total if total else 0.0}
    return (to_kohya(peft["unet"], peft["text_encoder"]) if report["layers"] else {}), report
