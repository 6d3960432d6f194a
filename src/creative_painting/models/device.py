"""Pick the device and precision: CUDA, then Apple MPS, then CPU; half precision where it is fast.

On a CPU with native bf16 (avx512_bf16 or AMX), `auto` is bf16: the U-Net in bf16 and channels_last,
the text encoder and VAE (once per image) in fp32, the latents and the sampler's arithmetic in fp32.
Measured at full SD v1 size: `benchmarks/cpu_speed.py`, docs/benchmarks.md."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil

import torch

from creative_painting.errors import UserError
from creative_painting.models.configs import BACKENDS

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
        if dev.type == "cpu":
            return dev, torch.bfloat16 if cpu_has_native_bf16() else torch.float32
        return dev, torch.float16
    if dtype not in DTYPES:
        raise UserError(f"unknown dtype {dtype!r}; choose auto, {', '.join(DTYPES)}")
    if dev.type == "cpu" and dtype == "fp16":
        raise UserError("fp16 is not supported on the CPU; use fp32 or bf16")
    return dev, DTYPES[dtype]


def cpu_has_native_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """avx512_bf16 or AMX: bf16 matrix products in hardware (elsewhere bf16 is emulated and slower)."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def mixed_precision_runs_here(precision: str) -> bool:
    """Can training use this autocast precision here: fp16 on a GPU, bf16 on a GPU that has it or a CPU with
    native bf16 (elsewhere emulated, slower than fp32)."""
    if precision == "no":
        return True
    if torch.cuda.is_available():
        return precision == "fp16" or torch.cuda.is_bf16_supported()
    return precision == "bf16" and cpu_has_native_bf16()


def check_backend(backend: str, device: torch.device) -> str:
    """Before any model is loaded: the backend exists, runs on this device and is installed."""
    import importlib.util

    if backend not in BACKENDS:
        raise UserError(f"--backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "openvino" and device.type != "cpu":
        raise UserError(f"--backend openvino runs on the CPU (--device cpu), not {device.type}")
    if backend == "openvino" and importlib.util.find_spec("openvino") is None:
        raise UserError("--backend openvino needs `pip install 'creative-painting[openvino]'`")
    if backend == "compile" and device.type == "cpu" and not any(shutil.which(c) for c in ("g++", "c++", "clang++")):
        raise UserError("--compile on the CPU needs a C++ compiler (g++ or clang++) for torch.compile's kernels")
    return backend


def place(model, device: torch.device, dtype: torch.dtype, backend: str = "torch"):
    """Move a StableDiffusion bundle to `device` in `dtype`, the U-Net channels_last (and, with the `compile`
    backend, run through torch.compile).

    bf16 on the CPU keeps the text encoder and the VAE in fp32: they run once per image, and fp32
    keeps the decoded pixels exact; the U-Net, called every step, is where bf16 pays. With the
    `openvino` backend the bundle stays fp32 and OpenVINO runs the U-Net in `dtype` (bf16 or f32)."""
    if backend == "openvino":  # checked with the device by `ModelChoice.validate`, where the spec came in
        from creative_painting.models.openvino_unet import PRECISIONS, compile_unet

        model.to(device, torch.float32)
        model.unet_runner = compile_unet(model.unet, PRECISIONS[dtype])
        return model
    with quiet_casts():
        if device.type == "cpu" and dtype == torch.bfloat16:
            model.to(device, torch.float32)
            model.unet.to(dtype=torch.bfloat16)
        else:
            model.to(device, dtype)
    model.unet.to(memory_format=torch.channels_last)
    if backend == "compile":
        compile_for(model, device)
    return model


def compile_for(model, device: torch.device) -> None:
    """The `compile` backend. Everywhere: the U-Net through torch.compile (inductor, static shapes). On a GPU
    also its attention's Q, K and V in one matrix product, the VAE decoder compiled in place (keeping its type
    and state-dict keys), and the whole guided step replayed as a CUDA graph per shape (`models/graphs.py`):
    there, launching kernels, not running them, sets the pace.

    torch.compile compiles on the first call, once per shape, into inductor's cache under ours, keyed by
    inductor by graph, shapes and versions: a second process reuses the kernels instead of compiling for a
    minute."""
    from creative_painting.cache import cache_dir
    from creative_painting.models.graphs import CudaGraphs

    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache_dir() / "inductor"))
    if device.type == "cuda":
        model.unet.fuse_qkv_projections()
    model.unet_runner = torch.compile(model.unet, dynamic=False)
    if device.type == "cuda":
        model.vae.decoder.compile(dynamic=False)
        model.graphs = CudaGraphs()


@contextlib.contextmanager
def quiet(*names: str, level: int = logging.CRITICAL, bars: bool = False):
    """The loggers `names` at `level` and, with `bars`, transformers' progress bars off; as they were afterwards."""
    import transformers

    loggers = [logging.getLogger(name) for name in names]
    levels = [log.level for log in loggers]
    shown = bars and transformers.utils.logging.is_progress_bar_enabled()
    if shown:
        transformers.utils.logging.disable_progress_bar()
    for log in loggers:
        log.setLevel(level)
    try:
        yield
    finally:
        for log, before in zip(loggers, levels, strict=True):
            log.setLevel(before)
        if shown:
            transformers.utils.logging.enable_progress_bar()


def quiet_casts():
    """diffusers warns on every dtype cast of a U-Net whose list of modules to keep in fp32 is empty
    ("should be kept in float32: []"); SD v1 has none, so the warning says nothing."""
    return quiet("diffusers.models.modeling_utils", level=logging.ERROR)
