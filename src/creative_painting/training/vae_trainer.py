"""`train-vae`: a KL autoencoder, L = ||x - D(E(x))||^2 + beta * KL(q(z|x) || N(0, I)) [+ patch-GAN hinge].

Small demos have no pretrained VAE here; this trains one on the collection itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from tqdm import tqdm

from creative_painting.training.config import VaeConfig
from creative_painting.training.data import StepBatches, open_items


def small_vae_config(channels: list[int], latent_channels: int) -> dict[str, Any]:
    return {"block_out_channels": list(channels), "in_channels": 3, "out_channels": 3,
            "down_block_types": ["DownEncoderBlock2D"] * len(channels),
            "up_block_types": ["UpDecoderBlock2D"] * len(channels), "latent_channels": latent_channels,
            "layers_per_block": 1, "norm_num_groups": 8, "scaling_factor": 1.0}


def _discriminator(channels: int = 64) -> torch.nn.Module:
    """A 3-layer PatchGAN (Isola et al.), as in the LDM autoencoder's adversarial term."""
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(3, channels, 4, 2, 1), nn.LeakyReLU(0.2),
                         nn.Conv2d(channels, 2 * channels, 4, 2, 1), nn.GroupNorm(8, 2 * channels), nn.LeakyReLU(0.2),
                         nn.Conv2d(2 * channels, 1, 3, 1, 1))


def train_vae(cfg: VaeConfig, progress: bool = True) -> dict[str, Any]:
    from accelerate import Accelerator
    from diffusers import AutoencoderKL

    from creative_painting.io import atomic_path

    accelerator = Accelerator()
    torch.manual_seed(cfg.seed)
    if cfg.model:
        from creative_painting.models import load_model

        vae = load_model(cfg.model).vae
    else:
        vae = AutoencoderKL(**small_vae_config(cfg.channels, cfg.latent_channels))
    items, _ = open_items(cfg.data)
    batches = StepBatches(items, batch_size=cfg.batch_size, seed=cfg.seed, resolution=cfg.resolution, template=None,
                          caption_dropout=0.0, field_dropout=0.0, length=cfg.max_steps)
    loader = torch.utils.data.DataLoader(batches, batch_size=None, num_workers=cfg.num_workers)
    optimizer = torch.optim.Adam(vae.parameters(), lr=cfg.learning_rate)
    disc = d_opt = None
    if cfg.gan_weight:
        disc = _discriminator()
        d_opt = torch.optim.Adam(disc.parameters(), lr=cfg.learning_rate)
        disc, d_opt = accelerator.prepare(disc, d_opt)
    vae, optimizer = accelerator.prepare(vae, optimizer)
    losses = {}
    bar = tqdm(total=cfg.max_steps, desc="vae", unit="step", disable=not progress)
    for batch in loader:
        if batch["x"] is None:
            continue
        x = batch["x"].to(accelerator.device)
        posterior = accelerator.unwrap_model(vae).encode(x).latent_dist
        recon = accelerator.unwrap_model(vae).decode(posterior.sample()).sample
        loss = F.mse_loss(recon, x) + cfg.kl_weight * posterior.kl().mean() / x[0].numel()
        step = batch["step"] + 1
        if disc is not None and step > cfg.gan_start:
            loss = loss - cfg.gan_weight * disc(recon).mean()
        optimizer.zero_grad(set_to_none=True)
        accelerator.backward(loss)
        optimizer.step()
        if disc is not None and step > cfg.gan_start:  # hinge loss for the discriminator
            d_loss = F.relu(1 - disc(x)).mean() + F.relu(1 + disc(recon.detach())).mean()
            d_opt.zero_grad(set_to_none=True)
            accelerator.backward(d_loss)
            d_opt.step()
        losses[step] = loss.item()
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.4f}")
    bar.close()
    vae = accelerator.unwrap_model(vae)
    _set_scaling_factor(vae, items, cfg, accelerator.device)
    out = Path(cfg.output_dir)
    with atomic_path(out / "diffusion_pytorch_model.safetensors") as tmp:  # a folder AutoencoderKL loads
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in vae.state_dict().items()}, str(tmp))
    vae.save_config(out)
    return {"steps": len(losses), "losses": losses, "vae": vae, "scaling_factor": vae.config.scaling_factor}


def _set_scaling_factor(vae, items, cfg: VaeConfig, device) -> None:
    """SD's 0.18215 makes latents unit-variance; measure ours the same way, on the data."""
    batches = StepBatches(items, batch_size=min(64, len(items)), seed=cfg.seed, resolution=cfg.resolution,
                          template=None, caption_dropout=0.0, field_dropout=0.0, length=1)
    with torch.no_grad():
        latents = vae.encode(batches[0]["x"].to(device)).latent_dist.sample()
    vae.register_to_config(scaling_factor=float(1.0 / latents.std()))
