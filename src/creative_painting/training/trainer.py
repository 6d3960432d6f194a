"""Two-stage retraining on accelerate (DDP, FSDP or DeepSpeed come from `accelerate config`).

Stage 1 trains a text encoder from scratch (same tokenizer and architecture) against the frozen
U-Net and VAE; stage 2 fine-tunes text encoder and U-Net jointly (or LoRA on the U-Net). The loss is
the epsilon-prediction MSE of the paper's Eq. 15, with optional Min-SNR-gamma weighting.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from creative_painting.errors import UserError
from creative_painting.files import atomic_write_text, run_lock
from creative_painting.seeds import derive_seed, seeded_init
from creative_painting.training.checkpoints import (
    check_output_dir,
    latest_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from creative_painting.training.config import TrainConfig
from creative_painting.training.data import StepBatches, open_items
from creative_painting.training.loss import diffusion_loss
from creative_painting.training.memory import check_training_memory

log = logging.getLogger(__name__)


def launched_on_cpus() -> bool:
    """Launched by torchrun/accelerate on a machine without GPUs: accelerate needs cpu=True for gloo DDP."""
    return not torch.cuda.is_available() and int(os.environ.get("WORLD_SIZE", "1")) > 1


def _fresh_text_encoder(text_encoder, seed: int):
    """Same architecture, new random weights: the paper's stage 1 learns the text side from scratch."""
    from transformers import CLIPTextModel

    with seeded_init(derive_seed(seed, "text_encoder")):
        return CLIPTextModel(text_encoder.config)


def check_options(cfg: TrainConfig) -> None:
    """An option that cannot run here is a one-line error before anything loads, never a silent fallback
    (a run sized for 8-bit optimizer states would run out of memory hours later)."""
    import importlib.util

    from creative_painting.models.device import mixed_precision_runs_here

    if cfg.use_8bit_adam and importlib.util.find_spec("bitsandbytes") is None:
        raise UserError("use_8bit_adam needs bitsandbytes (pip install bitsandbytes), which is not installed; "
                        "set use_8bit_adam: false for AdamW, whose states take 6 bytes a parameter more")
    if not mixed_precision_runs_here(cfg.mixed_precision):
        raise UserError(f"mixed_precision {cfg.mixed_precision} does not run here: fp16 needs a GPU, bf16 a GPU "
                        "with bf16 or a CPU with native bf16 (avx512_bf16 or AMX); use no"
                        + (" or bf16" if mixed_precision_runs_here("bf16") else ""))


WEIGHT_DTYPES = {"no": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def master_weights(model, cfg: TrainConfig) -> None:
    """Trained weights in fp32 whatever the checkpoint's dtype (most SD v1 files are fp16), as diffusers'
    training scripts keep them; mixed precision runs the forward pass in fp16/bf16 under autocast. Frozen
    weights (the VAE; the U-Net in stage 1) are cast to that precision, as diffusers' scripts cast them:
    under autocast their products run there anyway, and a frozen SD v1 U-Net in bf16 takes 1.7 GB, not 3.4."""
    frozen = WEIGHT_DTYPES[cfg.mixed_precision]
    _cast(model.unet, torch.float32 if cfg.stage == 2 else frozen)
    _cast(model.text_encoder, torch.float32 if cfg.train_text_encoder else frozen)
    _cast(model.vae, frozen)


def _cast(module: torch.nn.Module, dtype: torch.dtype) -> None:
    """nn.Module's own casts: diffusers' `.to(dtype)` warns about fp32 modules that SD v1 does not have."""
    {torch.float32: module.float, torch.bfloat16: module.bfloat16, torch.float16: module.half}[dtype]()


def _optimizer(cfg: TrainConfig, groups: list[dict[str, Any]]) -> torch.optim.Optimizer:
    if cfg.use_8bit_adam:  # check_options made sure it is installed
        import bitsandbytes as bnb

        return bnb.optim.AdamW8bit(groups, weight_decay=cfg.weight_decay)
    # The fused kernel (CPU and CUDA) updates every tensor in one pass: on the tiny demo model the
    # optimizer step takes 3 ms instead of 23 ms. Same update rule, rounding aside; foreach is the
    # multi-tensor kernel, for devices or dtypes the fused one lacks.
    return torch.optim.AdamW(groups, weight_decay=cfg.weight_decay, fused=cfg.adam_kernel == "fused",
                             foreach=cfg.adam_kernel == "foreach")


def _add_lora(unet, rank: int, seed: int):
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=rank, lora_alpha=rank, init_lora_weights="gaussian",
                        target_modules=["to_q", "to_k", "to_v", "to_out.0"])
    with seeded_init(derive_seed(seed, "lora")):
        return get_peft_model(unet, config)


def trainable_modules(cfg: TrainConfig, model) -> tuple[torch.nn.Module, torch.nn.Module, list[dict[str, Any]]]:
    """Decide the stage once: (text encoder, U-Net, optimizer groups), with `requires_grad` set.

    Stage 1: a text encoder from scratch (or the model's, with `text_encoder_init: pretrained`) trains
    against the frozen U-Net. Stage 2: text encoder and U-Net train jointly, or LoRA adapters on the
    U-Net's attention; `train_text_encoder: false` keeps the text encoder frozen. The VAE is always frozen.
    """
    text_encoder, unet = model.text_encoder, model.unet
    if cfg.stage == 1 and cfg.text_encoder_init == "scratch":
        text_encoder = _fresh_text_encoder(text_encoder, cfg.seed)
    model.vae.requires_grad_(False).eval()
    text_encoder.requires_grad_(cfg.train_text_encoder)
    unet.requires_grad_(cfg.stage == 2 and not cfg.lora_rank)
    if cfg.lora_rank:
        unet = _add_lora(unet, cfg.lora_rank, cfg.seed)
    if cfg.gradient_checkpointing:
        # In stage 1 too: the frozen U-Net's activations are kept for the text encoder's gradient (everything
        # after its first cross-attention depends on the text), and recomputing them is what saves the memory.
        (unet.base_model.model if cfg.lora_rank else unet).enable_gradient_checkpointing()
        if cfg.train_text_encoder:  # transformers 5 renamed it; 5.0 has only the old name
            enable = getattr(text_encoder, "activation_checkpointing_enable", None)
            (enable or text_encoder.gradient_checkpointing_enable)()
    groups = []
    if cfg.train_text_encoder:
        groups.append({"params": [p for p in text_encoder.parameters() if p.requires_grad],
                       "lr": cfg.text_encoder_learning_rate or cfg.learning_rate})
    if cfg.stage == 2:
        groups.append({"params": [p for p in unet.parameters() if p.requires_grad], "lr": cfg.learning_rate})
    return text_encoder, unet, groups


def step_batches(cfg: TrainConfig, items, *, rank: int = 0, world_size: int = 1) -> StepBatches:
    """The micro-batches of this process: what it reads, how captions drop out, how artists are balanced."""
    return StepBatches(items, batch_size=cfg.batch_size, seed=cfg.seed, resolution=cfg.resolution,
                       template=cfg.caption_template, caption_dropout=cfg.caption_dropout,
                       field_dropout=cfg.field_dropout, balance=cfg.balance, rank=rank, world_size=world_size,
                       length=cfg.max_steps * cfg.gradient_accumulation_steps, aliases=cfg.artist_aliases)


def _noise_generator(cfg: TrainConfig, micro_step: int, rank: int) -> torch.Generator:
    """The latent sample, noise and timesteps of one micro-step on one rank: a pure function of the seed."""
    return torch.Generator().manual_seed(derive_seed(cfg.seed, "noise", micro_step, rank))


@dataclass
class TrainingRun:
    """One training run: its settings, the accelerator and the networks every helper needs."""

    cfg: TrainConfig
    accelerator: Any
    model: Any  # the loaded StableDiffusion bundle: VAE, tokenizer, noise schedule
    text_encoder: torch.nn.Module  # prepared by accelerate (maybe DDP-wrapped)
    unet: torch.nn.Module  # prepared in stage 2, maybe LoRA-wrapped
    params: list[torch.nn.Parameter]  # what trains, in a fixed order (clipping, EMA)
    ema: Any | None
    out: Path

    def networks(self) -> tuple[torch.nn.Module, torch.nn.Module]:
        """The unwrapped text encoder and U-Net (LoRA layers still injected into the U-Net)."""
        text_encoder = self.accelerator.unwrap_model(self.text_encoder)
        unet = self.accelerator.unwrap_model(self.unet)
        return text_encoder, unet.base_model.model if self.cfg.lora_rank else unet

    @contextlib.contextmanager
    def averaged(self):
        """The networks with their EMA weights swapped in, on the training device; put back afterwards.

        The tensors trade places, nothing is copied: EMAModel's store/copy_to keep a third copy of what trains
        (3.9 GB for SD v1's U-Net and text encoder, the peak of a run that paints validation grids)."""
        self._swap_ema()
        try:
            yield self.networks()
        finally:
            self._swap_ema()

    def _swap_ema(self) -> None:
        if self.ema:
            for param, shadow in zip(self.params, self.ema.shadow_params, strict=True):
                param.data, shadow.data = shadow.data, param.data


def train(cfg: TrainConfig, *, resume: bool = True, progress: bool = True) -> dict[str, Any]:
    """Run (or continue) training; returns a summary with the losses and where the model went."""
    from accelerate import Accelerator
    from accelerate.utils import ProjectConfiguration
    from diffusers import DDPMScheduler
    from diffusers.optimization import get_scheduler

    from creative_painting.models import load_model

    # 1. Data: opened (and its problems reported) before anything is written.
    out = Path(cfg.output_dir)
    check_options(cfg)
    check_output_dir(out, cfg, resume)
    if cfg.check_memory:
        check_training_memory(cfg)
    items, manifest = open_items(cfg.data)
    if manifest.get("kind") == "pixels" and manifest.get("size") not in (None, cfg.resolution):
        raise UserError(f"{cfg.data} holds {manifest['size']} px images but resolution is {cfg.resolution}")
    from accelerate.state import AcceleratorState

    # accelerate keeps one state per process: a second run in it (the demo's stages, a notebook, the tests) with
    # another precision would be refused. Its process group (PartialState) is kept.
    AcceleratorState._reset_state()
    accelerator = Accelerator(mixed_precision=cfg.mixed_precision, cpu=launched_on_cpus(),
                              gradient_accumulation_steps=cfg.gradient_accumulation_steps, log_with="tensorboard",
                              project_config=ProjectConfiguration(project_dir=str(out), logging_dir=str(out / "logs")))

    # 2. What trains: decided once, by the stage.
    model = load_model(cfg.model)
    master_weights(model, cfg)
    text_encoder, unet, groups = trainable_modules(cfg, model)
    model = replace(model, text_encoder=text_encoder)  # stage 1 from scratch: the model's own is not kept
    params = [p for g in groups for p in g["params"]]

    # 3. Optimizer, EMA, prepare.
    optimizer = _optimizer(cfg, groups)
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=cfg.warmup_steps)
    noise_scheduler = DDPMScheduler.from_config(model.scheduler_config)
    ema = None
    if cfg.ema_decay:
        from diffusers.training_utils import EMAModel

        ema = EMAModel(params, decay=cfg.ema_decay)  # saved as safetensors by save_checkpoint, never pickled
    optimizer, lr_scheduler = accelerator.prepare(optimizer, lr_scheduler)
    trainable = []  # prepared (DDP-wrapped where launched so): accumulate() skips their gradient syncs
    if cfg.train_text_encoder:
        text_encoder = accelerator.prepare(text_encoder)
        trainable.append(text_encoder)
    if cfg.stage == 2:
        unet = accelerator.prepare(unet)
        trainable.append(unet)
    device = accelerator.device
    text_encoder.to(device)
    unet.to(device)
    model.vae.to(device)
    if ema:
        ema.to(device)
    run = TrainingRun(cfg, accelerator, model, text_encoder, unet, params, ema, out)

    with run_lock(out, enabled=accelerator.is_local_main_process):
        # 4. Resume from the newest whole checkpoint.
        start_step = 0
        checkpoint = latest_checkpoint(out) if resume else None
        if checkpoint:
            start_step = load_checkpoint(accelerator, checkpoint, ema)
            log.warning("resumed from %s (step %d)", checkpoint, start_step)  # stderr: stdout may hold --json
        if accelerator.is_main_process:
            atomic_write_text(out / "config.json", cfg.to_json())
            accelerator.init_trackers("train", config={k: v for k, v in json.loads(cfg.to_json()).items()
                                                       if isinstance(v, (int, float, str, bool))})

        # 5. Loop: the batch and the noise of every step are pure functions of (seed, step).
        accum = cfg.gradient_accumulation_steps
        samples_per_step = cfg.batch_size * accum * accelerator.num_processes
        batches = step_batches(cfg, items, rank=accelerator.process_index, world_size=accelerator.num_processes)
        remaining = torch.utils.data.Subset(batches, range(start_step * accum, cfg.max_steps * accum))
        loader = torch.utils.data.DataLoader(remaining, batch_size=None, num_workers=cfg.num_workers,
                                             persistent_workers=False, prefetch_factor=2 if cfg.num_workers else None)
        scaling = float(manifest.get("scaling_factor") or model.vae.config.scaling_factor)
        step, losses, window, started = start_step, {}, [], time.perf_counter()
        busy, timed, tick = 0.0, 0, time.perf_counter()  # step time without checkpoints and grids; 2 warm-up steps
        bar = tqdm(total=cfg.max_steps, initial=start_step, desc=f"stage {cfg.stage}", unit="step",
                   disable=not progress or not accelerator.is_local_main_process)
        for batch in loader:
            if batch["x"] is None:
                continue  # every image of this micro-batch was broken
            with accelerator.accumulate(*trainable):
                # autocast over the whole loss (stage 1's frozen U-Net and the VAE are not prepared modules) but
                # not the backward pass and the step: its cache of bf16/fp16 weight copies (2 GB at SD v1 size)
                # is freed on leaving it
                with accelerator.autocast():
                    loss = diffusion_loss(batch, unet=unet, text_encoder=text_encoder, vae=model.vae,
                                          tokenizer=model.tokenizer, noise_scheduler=noise_scheduler,
                                          scaling_factor=scaling, snr_gamma=cfg.snr_gamma,
                                          generator=_noise_generator(cfg, batch["step"], accelerator.process_index),
                                          device=device)
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    accelerator.clip_grad_norm_(params, 1.0)
                optimizer.step()
                lr_scheduler.step()
                optimizer.zero_grad(set_to_none=True)
            window.append(loss.detach().float().item())
            if not accelerator.sync_gradients:
                continue
            step += 1
            if ema:
                ema.step(params)
            step_loss = sum(window) / len(window)
            window = []
            losses[step] = step_loss
            if step - start_step > 2:
                busy, timed = busy + time.perf_counter() - tick, timed + 1
            bar.update(1)
            bar.set_postfix(loss=f"{step_loss:.4f}")
            if step % cfg.log_every == 0 or step == cfg.max_steps:
                speed = {"samples_per_second": samples_per_step * timed / busy} if timed else {}
                accelerator.log({"loss": step_loss, "lr": lr_scheduler.get_last_lr()[0], **speed}, step=step)
            if step % cfg.checkpoint_every == 0 or step == cfg.max_steps:
                save_checkpoint(accelerator, out, step, cfg.keep_checkpoints, ema)
            if step % cfg.validate_every == 0 or step == cfg.max_steps:
                _validate(run, out / "samples" / f"step-{step:06d}")
            tick = time.perf_counter()
        bar.close()
        if not math.isfinite(sum(losses.values()) if losses else 0.0):
            raise UserError("training diverged (loss is not finite); lower learning_rate or use bf16 instead of fp16")

        # 6. Export: the EMA weights, LoRA merged, as a single file and a diffusers folder.
        summary = {"steps": step, "losses": losses, "seconds": time.perf_counter() - started,
                   "samples_per_second": samples_per_step * timed / busy if timed else None}
        optimizer.state.clear()  # the last checkpoint holds the moments; the export needs the room
        if accelerator.is_main_process and cfg.export:
            trained = _trained_model(run)
            summary["exported"] = {"single_file": str(trained.save_single_file(out / "model.safetensors")),
                                   "diffusers": str(trained.save_diffusers(out / "diffusers", overwrite=True))}
        if accelerator.num_processes > 1:  # every rank records what it holds: DDP must keep them identical
            digest = _digest([accelerator.unwrap_model(m) for m in trainable])
            atomic_write_text(out / "ranks" / f"{accelerator.process_index}.json", json.dumps({"digest": digest}))
        accelerator.wait_for_everyone()
        accelerator.end_training()
    return summary


def _digest(modules) -> str:
    import hashlib

    h = hashlib.sha256()
    for module in modules:
        for name, tensor in sorted(module.state_dict().items()):
            h.update(name.encode())
            h.update(tensor.detach().float().cpu().numpy().tobytes())
    return h.hexdigest()


def _trained_model(run: TrainingRun):
    """A StableDiffusion bundle holding the trained (EMA, LoRA-merged) weights, on the CPU, in fp32.

    Frozen parts are exported exactly as the source model holds them: under mixed precision they were held
    in bf16/fp16 for training, so they are read from the source again."""
    import copy

    cfg = run.cfg
    with run.averaged() as (text_encoder, _):
        te = copy.deepcopy(text_encoder).float().cpu() if cfg.train_text_encoder else None
        un = copy.deepcopy(run.accelerator.unwrap_model(run.unet)).float().cpu() if cfg.stage == 2 else None
    if cfg.lora_rank:
        un = un.merge_and_unload()
    source = run.model
    if cfg.mixed_precision != "no":
        from creative_painting.models import load_model

        source = load_model(cfg.model)
    return replace(run.model, unet=source.unet.float().cpu() if un is None else un,
                   text_encoder=source.text_encoder.float().cpu() if te is None else te, vae=source.vae.float().cpu())


def _validate(run: TrainingRun, folder: Path) -> None:
    """The fixed-seed grid (`folder/grid.png`) of validation artists x prompts, painted on the training device
    with the EMA weights: steps compare by eye."""
    if not run.accelerator.is_main_process:
        return
    from creative_painting.painting.captions import build_cells
    from creative_painting.painting.session import paint_grid
    from creative_painting.sampling.presets import SamplingSettings

    cfg = run.cfg
    cells = build_cells(cfg.validation_prompts, cfg.validation_artists)
    settings = SamplingSettings(sampler="ddim", steps=cfg.validation_steps, scale=5.0, eta=0.0,
                                width=cfg.resolution, height=cfg.resolution).validate()
    with run.averaged() as (text_encoder, unet):
        modes = [(m, m.training) for m in (text_encoder, unet)]
        for m, _ in modes:
            m.eval()
        try:
            live = replace(run.model, unet=unet, text_encoder=text_encoder)
            with run.accelerator.autocast():  # frozen parts may be held in bf16/fp16, trained ones in fp32
                paint_grid(live, cells, settings, folder, seed=cfg.seed, progress=False, overwrite=True)
        finally:
            for m, training in modes:
                m.train(training)
