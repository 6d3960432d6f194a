"""The baseline of the training benchmarks: diffusers' `train_text_to_image.py` loop written out in plain PyTorch.

As there: the frozen modules are cast to the mixed-precision dtype and the trained ones kept in fp32, the
forward pass runs under autocast, the optimizer is torch's default AdamW (or bitsandbytes' AdamW8bit with
`use_8bit_adam`), gradient checkpointing is diffusers' and transformers' own, EMA is diffusers' `EMAModel`,
gradients are clipped to norm 1 and `loss.item()` waits for each step. The collection is decoded into memory
beforehand, so the baseline pays nothing for data. Stage 1 trains a new text encoder against the frozen
U-Net, stage 2 the text encoder and U-Net jointly: the same work as ours.
"""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class LoopSettings:
    stage: int
    batch: int
    steps: int
    size: int
    precision: str = "no"  # no, fp16, bf16
    checkpointing: bool = False
    adam8bit: bool = False
    ema: bool = False
    fused: bool = False  # torch's default AdamW as in the script; True gives it the fused kernel ours uses
    warmup: int = 2  # steps left out of the timing, as ours leaves out 2


def peak_mib() -> float:
    """Peak memory of this process: allocated GPU memory, or resident memory on the CPU."""
    import torch

    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(s: LoopSettings, model: str, shards: str) -> tuple[float, float]:
    """Train `s.steps` steps; returns (samples/s over the steps after the warm-up, peak memory in MiB)."""
    import torch
    import torch.nn.functional as F
    from diffusers import DDPMScheduler
    from transformers import CLIPTextModel

    from creative_painting.models import load_model
    from creative_painting.training.data import open_items, to_pixels
    from creative_painting.wikiart.captions import make_caption

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    weight_dtype = {"no": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[s.precision]
    sd = load_model(model)
    unet, vae, text_encoder, tokenizer = sd.unet, sd.vae, sd.text_encoder, sd.tokenizer
    if s.stage == 1:
        text_encoder = CLIPTextModel(text_encoder.config)  # from scratch
    vae.requires_grad_(False).to(device, weight_dtype)
    unet.requires_grad_(s.stage == 2).to(device, torch.float32 if s.stage == 2 else weight_dtype)
    text_encoder.to(device, torch.float32).train()
    unet.train()
    if s.checkpointing:
        unet.enable_gradient_checkpointing()
        text_encoder.gradient_checkpointing_enable()
    params = list(text_encoder.parameters()) + (list(unet.parameters()) if s.stage == 2 else [])
    if s.adam8bit:
        import bitsandbytes as bnb

        optimizer = bnb.optim.AdamW8bit(params, lr=1e-5)
    else:
        optimizer = torch.optim.AdamW(params, lr=1e-5, fused=s.fused or None)
    ema = None
    if s.ema:
        from diffusers.training_utils import EMAModel

        ema = EMAModel(params, decay=0.9999)
    noise_scheduler = DDPMScheduler.from_config(sd.scheduler_config)
    items, _ = open_items(shards)
    pixels = torch.stack([to_pixels(i.read(), s.size) for i in items])
    captions = [make_caption(i.artwork) for i in items]
    generator = torch.Generator().manual_seed(0)
    busy = 0.0
    for step in range(s.steps):
        start = time.perf_counter()
        index = torch.randint(0, len(items), (s.batch,), generator=generator)
        x = pixels[index].to(device, weight_dtype)
        text = [captions[i] if torch.rand(1, generator=generator) > 0.1 else "" for i in index.tolist()]
        with torch.autocast(device.type, dtype=weight_dtype, enabled=s.precision != "no"):
            with torch.no_grad():
                latents = vae.encode(x).latent_dist.sample() * vae.config.scaling_factor
            noise = torch.randn_like(latents)
            t = torch.randint(0, noise_scheduler.config.num_train_timesteps, (s.batch,), device=device)
            noisy = noise_scheduler.add_noise(latents, noise, t)
            ids = tokenizer(text, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                            return_tensors="pt").input_ids.to(device)
            pred = unet(noisy, t, text_encoder(ids)[0], return_dict=False)[0]
            loss = F.mse_loss(pred.float(), noise.float())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if ema:
            ema.step(params)
        loss.item()
        if step >= s.warmup:
            busy += time.perf_counter() - start
    return s.batch * (s.steps - s.warmup) / busy, peak_mib()
