"""The training objective: the paper's Eq. 15, with optional Min-SNR-gamma weighting (Hang et al. 2023)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F


def min_snr_weights(noise_scheduler, timesteps: torch.Tensor, gamma: float) -> torch.Tensor:
    """Per-sample loss weights `min(SNR(t), gamma) / SNR(t)` (epsilon prediction), at most 1.

    For v-prediction the target already carries a factor SNR + 1, so the weight is divided by it:
    `min(SNR, gamma) / (SNR + 1)`. SNR(t) = alpha_bar_t / (1 - alpha_bar_t).
    """
    from diffusers.training_utils import compute_snr

    snr = compute_snr(noise_scheduler, timesteps)
    weights = torch.minimum(snr, torch.full_like(snr, gamma)) / snr
    if noise_scheduler.config.prediction_type == "v_prediction":
        weights = weights * snr / (snr + 1)
    return weights


def diffusion_loss(batch: dict[str, Any], *, unet, text_encoder, vae, tokenizer, noise_scheduler,
                   scaling_factor: float, snr_gamma: float, generator: torch.Generator,
                   device: torch.device) -> torch.Tensor:
    """Eq. 15: || eps - eps_theta(z_t, t, tau(y)) ||^2 with z from the (frozen) VAE."""
    x = batch["x"].to(device)
    with torch.no_grad():
        if batch["kind"] == "latent":  # stored mean and logvar of the VAE posterior
            mean, logvar = x.chunk(2, dim=1)
            eps = torch.randn(mean.shape, generator=generator).to(device)
            latents = (mean + torch.exp(0.5 * logvar.clamp(-30, 20)) * eps) * scaling_factor
        else:
            posterior = vae.encode(x.to(vae.dtype)).latent_dist
            eps = torch.randn(posterior.mean.shape, generator=generator).to(device, posterior.mean.dtype)
            latents = (posterior.mean + posterior.std * eps).float() * scaling_factor
    noise = torch.randn(latents.shape, generator=generator).to(device)
    timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (latents.shape[0],),
                              generator=generator).to(device)
    noisy = noise_scheduler.add_noise(latents, noise, timesteps)
    ids = tokenizer(batch["captions"], padding="max_length", max_length=tokenizer.model_max_length,
                    truncation=True, return_tensors="pt").input_ids.to(device)
    hidden = text_encoder(ids)[0]
    pred = unet(noisy, timesteps, hidden, return_dict=False)[0]
    if noise_scheduler.config.prediction_type == "v_prediction":
        target = noise_scheduler.get_velocity(latents, noise, timesteps)
    else:
        target = noise
    per_sample = F.mse_loss(pred.float(), target.float(), reduction="none").mean(dim=(1, 2, 3))
    if snr_gamma:
        per_sample = per_sample * min_snr_weights(noise_scheduler, timesteps, snr_gamma)
    return per_sample.mean()
