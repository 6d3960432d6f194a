"""`train-vae`: a KL autoencoder, L = ||x - D(E(x))||^2 + beta * KL(q(z|x) || N(0, I)) [+ patch-GAN hinge].

Small demos have no pretrained VAE here; this trains one on the collection itself.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from tqdm import tqdm

from creative_painting.errors import UserError
from creative_painting.seeds import derive_seed, seeded_init
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


class _Autoencoding(torch.nn.Module):
    """The VAE's encode-sample-decode as one forward, so DDP (accelerate) sees and syncs the whole pass."""

    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, x: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        posterior = self.vae.encode(x).latent_dist
        noise = torch.randn(posterior.mean.shape, generator=generator).to(x.device, posterior.mean.dtype)
        recon = self.vae.decode(posterior.mean + posterior.std * noise).sample
        return recon, posterior.kl().mean()


def train_vae(cfg: VaeConfig, progress: bool = True, resume: bool = True) -> dict[str, Any]:
    """Train (or continue training) the autoencoder; resumes from the newest checkpoint in `output_dir`."""
    from accelerate import Accelerator

    from creative_painting.files import check_location, run_lock
    from creative_painting.training.checkpoints import latest_checkpoint, load_checkpoint, save_checkpoint
    from creative_painting.training.trainer import launched_on_cpus

    # 1. Data and the starting VAE, before anything is written.
    out = check_location(cfg.output_dir)
    items, _ = open_items(cfg.data)
    vae = _starting_vae(cfg).to(memory_format=torch.channels_last)  # convolutions about 10 % faster on a CPU
    accelerator = Accelerator(cpu=launched_on_cpus())

    # 2. Optimizers, prepared by accelerate (DDP wraps the whole autoencoding pass).
    autoencoding = _Autoencoding(vae)
    optimizer = torch.optim.Adam(vae.parameters(), lr=cfg.learning_rate)
    disc = d_opt = None
    if cfg.gan_weight:
        with seeded_init(derive_seed(cfg.seed, "discriminator")):
            disc = _discriminator()
        d_opt = torch.optim.Adam(disc.parameters(), lr=cfg.learning_rate)
        disc, d_opt = accelerator.prepare(disc, d_opt)
    autoencoding, optimizer = accelerator.prepare(autoencoding, optimizer)
    rank = accelerator.process_index

    with run_lock(out, enabled=accelerator.is_local_main_process):
        # 3. Resume.
        checkpoint = latest_checkpoint(out) if resume else None
        start = load_checkpoint(accelerator, checkpoint) if checkpoint else 0
        batches = StepBatches(items, batch_size=cfg.batch_size, seed=cfg.seed, resolution=cfg.resolution,
                              template=None, caption_dropout=0.0, field_dropout=0.0, rank=rank,
                              world_size=accelerator.num_processes, length=cfg.max_steps)
        loader = torch.utils.data.DataLoader(torch.utils.data.Subset(batches, range(start, cfg.max_steps)),
                                             batch_size=None, num_workers=cfg.num_workers)
        # 4. Loop: reconstruction + KL (+ hinge GAN after gan_start).
        losses = {}
        bar = tqdm(total=cfg.max_steps, initial=start, desc="vae", unit="step",
                   disable=not progress or not accelerator.is_local_main_process)
        for batch in loader:
            step = batch["step"] + 1
            if batch["x"] is not None:
                losses[step] = _step(batch, step, cfg, accelerator, autoencoding, optimizer, disc, d_opt)
                bar.set_postfix(loss=f"{losses[step]:.4f}")
            bar.update(1)
            if step % cfg.checkpoint_every == 0 or step == cfg.max_steps:
                save_checkpoint(accelerator, out, step, keep=2)
        bar.close()
        if not all(math.isfinite(v) for v in losses.values()):
            raise UserError("VAE training diverged (loss is not finite); lower learning_rate or kl_weight")

        # 5. Export: a folder AutoencoderKL.from_pretrained loads, with a scaling factor measured on the data.
        vae = accelerator.unwrap_model(autoencoding).vae
        if accelerator.is_main_process:
            _export(vae, items, cfg, out, accelerator.device)
        accelerator.wait_for_everyone()
    return {"steps": cfg.max_steps, "losses": losses, "vae": vae, "scaling_factor": vae.config.scaling_factor}


def _starting_vae(cfg: VaeConfig):
    """The model's VAE to continue from, or a small new one built from `channels`."""
    if cfg.model:
        from creative_painting.models import load

        return load(cfg.model).vae
    from diffusers import AutoencoderKL

    with seeded_init(derive_seed(cfg.seed, "vae")):
        return AutoencoderKL(**small_vae_config(cfg.channels, cfg.latent_channels))


def _step(batch, step: int, cfg: VaeConfig, accelerator, autoencoding, optimizer, disc, d_opt) -> float:
    """One batch: reconstruction + KL (+ the hinge GAN after gan_start, then the discriminator's own step)."""
    x = batch["x"].to(accelerator.device)
    noise = torch.Generator().manual_seed(derive_seed(cfg.seed, "vae-noise", step, accelerator.process_index))
    recon, kl = autoencoding(x, noise)
    loss = F.mse_loss(recon, x) + cfg.kl_weight * kl / x[0].numel()
    adversarial = disc is not None and step > cfg.gan_start
    if adversarial:
        loss = loss - cfg.gan_weight * disc(recon).mean()
    optimizer.zero_grad(set_to_none=True)
    accelerator.backward(loss)
    optimizer.step()
    if adversarial:
        d_loss = F.relu(1 - disc(x)).mean() + F.relu(1 + disc(recon.detach())).mean()
        d_opt.zero_grad(set_to_none=True)
        accelerator.backward(d_loss)
        d_opt.step()
    return loss.item()


def _export(vae, items, cfg: VaeConfig, out, device) -> None:
    """The trained VAE as a folder `AutoencoderKL.from_pretrained` loads, its scaling factor measured on the data
    (SD's 0.18215 makes latents unit-variance; ours is measured the same way)."""
    from safetensors.torch import save_file

    from creative_painting.files import atomic_path

    batches = StepBatches(items, batch_size=min(64, len(items)), seed=cfg.seed, resolution=cfg.resolution,
                          template=None, caption_dropout=0.0, field_dropout=0.0, length=1)
    noise = torch.Generator().manual_seed(derive_seed(cfg.seed, "vae-scale"))  # re-exporting gives the same, anywhere
    with torch.no_grad():
        latents = vae.encode(batches[0]["x"].to(device)).latent_dist.sample(generator=noise)
    vae.register_to_config(scaling_factor=float(1.0 / latents.std()))
    with atomic_path(out / "diffusion_pytorch_model.safetensors") as tmp:
        save_file({k: v.contiguous() for k, v in vae.state_dict().items()}, str(tmp))
    vae.save_config(out)
