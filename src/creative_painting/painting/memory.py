"""Will a paint fit in memory? Refuse a size and batch size that would not, before any work.

A paint needs the loaded weights plus the activations of its larger phase:
- sampling: one U-Net call on the guided batch (twice the batch size); its activations grow with the latent
  cells and with the channels of the U-Net's first block (320 in SD v1);
- decoding: one image at a time (`decode_latents`), growing with the pixels and the channels of the VAE's
  first block (128 in SD v1); above `VAE_TILING_PIXELS` one tile at a time, plus the full-size output.
Attention is not quadratic here: PyTorch's scaled-dot-product attention (diffusers' default) runs in blocks.

The constants were measured on the CPU, peak resident memory above the loaded model, with the full SD v1
architecture (fp32 and bf16, 256-1152 px, batch 1-4) and the tiny model; `benchmarks/paint_memory.py`
prints the measured peaks beside this estimate: above every one, by 1.1-1.5x at full size.
On a GPU the same estimate is compared with the free GPU memory; it was not calibrated there.
"""

from __future__ import annotations

from pathlib import Path

import torch

from creative_painting.errors import UserError
from creative_painting.models import StableDiffusion
from creative_painting.sampling import SamplingSettings

OVERHEAD = 256 * 2**20  # the text encoder, latents, allocator and library buffers, seen at every size
UNET_FLOATS = 37  # per latent cell, per guided sample, per channel of the first U-Net block (measured ~36)
VAE_FLOATS = 9  # per pixel, per channel of the first VAE block (measured 7.5-8)
VAE_OUTPUT_BYTES = 200  # per pixel: the 3-channel float copies of the decoded image, the tiles' blending
VAE_TILING_PIXELS = 1024 * 1024  # above this, the VAE decodes in overlapping tiles
CGROUP = Path("/sys/fs/cgroup")  # cgroup v2: a container's memory.max and memory.current


def _element_bytes(module: torch.nn.Module) -> int:
    return torch.finfo(next(module.parameters()).dtype).bits // 8


def sampling_bytes(model: StableDiffusion, settings: SamplingSettings, batch_size: int) -> int:
    """Activations of one U-Net call on `batch_size` images with guidance (a batch of 2 x batch_size)."""
    f = model.vae_scale_factor
    cells = (settings.width // f) * (settings.height // f)
    guided = batch_size * (2 if settings.scale != 1.0 else 1)
    return guided * cells * UNET_FLOATS * model.unet.config.block_out_channels[0] * _element_bytes(model.unet)


def decoding_bytes(model: StableDiffusion, settings: SamplingSettings) -> int:
    """Activations of decoding one image (the decode goes one image at a time, large ones in tiles)."""
    pixels = settings.width * settings.height
    per_pixel = VAE_FLOATS * model.vae.config.block_out_channels[0] * _element_bytes(model.vae)
    if pixels <= VAE_TILING_PIXELS:
        return pixels * (per_pixel + VAE_OUTPUT_BYTES)
    tile = model.vae.tile_sample_min_size ** 2
    return tile * per_pixel + pixels * VAE_OUTPUT_BYTES


def estimate_bytes(model: StableDiffusion, settings: SamplingSettings, batch_size: int) -> int:
    """Memory a paint needs beyond the loaded model, at `batch_size` images per U-Net call."""
    return OVERHEAD + max(sampling_bytes(model, settings, batch_size), decoding_bytes(model, settings))


def free_bytes(device: torch.device) -> int:
    """Memory a paint can still take: free GPU memory (with what torch's cache holds unused), or the
    memory the system can give without swapping, within the container's limit (cgroup v2)."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return free + torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
    import psutil

    free = psutil.virtual_memory().available
    try:
        limit = (CGROUP / "memory.max").read_text().strip()
        if limit != "max":
            free = min(free, int(limit) - int((CGROUP / "memory.current").read_text()))
    except (OSError, ValueError):
        pass
    return free


def _gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB"


def check_memory(model: StableDiffusion, settings: SamplingSettings, batch_size: int, images: int) -> None:
    """Raise a one-line UserError when painting `images` at `batch_size` (at most `images` per U-Net call)
    would not fit, naming a batch size that would."""
    batch_size = min(batch_size, images)
    free = free_bytes(model.device)
    need = estimate_bytes(model, settings, batch_size)
    if need <= free:
        return
    size = f"{settings.width}x{settings.height}"
    one = estimate_bytes(model, settings, 1)
    if one > free:
        raise UserError(f"one {size} image needs about {_gb(one)} of memory beyond "
                        f"the model, but {_gb(free)} is free; paint smaller (SD v1 paints 512x512) and upscale")
    fits = max(b for b in range(1, batch_size) if estimate_bytes(model, settings, b) <= free)
    raise UserError(f"{size} at batch size {batch_size} needs about {_gb(need)} of memory beyond the model, "
                    f"but {_gb(free)} is free; use a batch size of {fits} or less")
