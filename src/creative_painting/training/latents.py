"""Latents for training on VAE latents: `wikiart shard --latents MODEL` stores each crop's latent distribution
next to its pixels, so that training skips the VAE encoder."""

from __future__ import annotations

from typing import Any

import numpy as np


class LatentEncoder:
    """Encodes uint8 crops with a model's VAE into the latent distribution's parameters (mean, logvar)."""

    def __init__(self, model_choice: str, device: str = "auto", batch_size: int = 8):
        from creative_painting.models import load
        from creative_painting.models.choice import ModelChoice

        self.model_choice = model_choice
        self.vae = load(ModelChoice(model_choice, device=device, dtype="fp32")).vae.eval()
        self.scaling_factor = float(self.vae.config.scaling_factor)
        self.batch_size = batch_size

    def __call__(self, samples: list[dict[str, Any]]) -> None:
        import torch  # only latent sharding needs it; pixel workers stay torch-free

        for start in range(0, len(samples), self.batch_size):
            batch = samples[start : start + self.batch_size]
            pixels = torch.from_numpy(np.stack([s.pop("pixels") for s in batch]))
            x = pixels.permute(0, 3, 1, 2).float().div(127.5).sub(1).to(self.vae.device)
            with torch.no_grad():
                params = self.vae.encode(x).latent_dist.parameters
            for sample, p in zip(batch, params.to(torch.float16).cpu().numpy(), strict=True):
                sample["latent.npy"] = p
