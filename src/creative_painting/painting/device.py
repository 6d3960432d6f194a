"""Pick the device and precision: CUDA, then Apple MPS, then CPU; half precision where it is fast."""

from __future__ import annotations

import torch

from creative_painting.errors import UserError

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def resolve_device(device: str = "auto", dtype: str = "auto") -> tuple[torch.device, torch.dtype]:
    if device == "auto":
        if torch.cuda.is_available():
            device = "cuda"
        elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            device = "mps"
        else:
            device = "cpu"
    try:
        dev = torch.device(device)
    except RuntimeError as e:
        raise UserError(f"unknown device {device!r}") from e
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda asked for, but no CUDA GPU is available")
    if dtype == "auto":
        return dev, torch.float32 if dev.type == "cpu" else torch.float16
    if dtype not in DTYPES:
        raise UserError(f"unknown dtype {dtype!r}; choose auto, {', '.join(DTYPES)}")
    if dev.type == "cpu" and dtype == "fp16":
        raise UserError("fp16 is not supported on the CPU; use fp32 or bf16")
    return dev, DTYPES[dtype]
