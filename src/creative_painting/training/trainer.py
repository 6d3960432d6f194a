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
from dataclasses import dataclass, field, replace
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


def check_options(cfg: TrainConfig) -> None:
    """An option that cannot run here is a one-line error before anything loads, never a silent fallback
    (a run sized for 8-bit optimizer states would run out of memory hours later)."""
    import importlib.util

    from creative_painting._lazy import unhide
    from creative_painting.models.device import mixed_precision_runs_here

    if cfg.use_8bit_adam:
        unhide("bitsandbytes")  # hidden from other libraries by the command line (`_lazy.hide_optional`)
    if cfg.use_8bit_adam and importlib.util.find_spec("bitsandbytes") is None:
        raise UserError("use_8bit_adam needs bitsandbytes (pip install bitsandbytes), which is not installed; "
                        "set use_8bit_adam: false for AdamW, whose states take 6 bytes a parameter more")
    if not mixed_precision_runs_here(cfg.mixed_precision):
        needs = {"fp16": "a GPU", "bf16": "a GPU with bf16 or a CPU with native bf16 (avx512_bf16 or AMX), where "
                                          "it is not emulated and slower than fp32"}[cfg.mixed_precision]
        raise UserError(f"mixed_precision {cfg.mixed_precision} needs {needs}; use no"
                        + (" or bf16" if mixed_precision_runs_here("bf16") else ""))


WEIGHT_DTYPES = {"no": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def weight_dtypes(cfg: TrainConfig) -> dict[str, torch.dtype]:
    """Trained weights in fp32 whatever the checkpoint's dtype (most SD v1 files are fp16), as diffusers'
    training scripts keep them; mixed precision runs the forward pass in fp16/bf16 under autocast. Frozen
    weights (the VAE; the U-Net in stage 1) in that precision, as diffusers' scripts cast them: under
    autocast their products run there anyway, and a frozen SD v1 U-Net in bf16 takes 1.7 GB, not 3.4."""
    frozen = WEIGHT_DTYPES[cfg.mixed_precision]
    return {"unet": torch.float32 if cfg.stage == 2 else frozen,
            "text_encoder": torch.float32 if cfg.train_text_encoder else frozen, "vae": frozen}


def _offloads_ema(cfg: TrainConfig, device: torch.device) -> bool:
    return cfg.ema_offload and device.type == "cuda"


def _optimizer(cfg: TrainConfig, groups: list[dict[str, Any]]) -> torch.optim.Optimizer:
    if cfg.use_8bit_adam:  # check_options made sure it is installed
        import bitsandbytes as bnb

        class AdamW8bit(bnb.optim.AdamW8bit):
            """Frees each gradient once its tensor is updated, the last group (stage 2's U-Net) first. On the CPU
            bitsandbytes updates one tensor at a time through fp32 copies of it and its moments; for the text
            encoder's token embedding (38M values) that is 0.7 GB, which then fits where the U-Net's 3.4 GB of
            gradients were. The full-size step peaks 0.5 GB lower, below diffusers' loop (docs/benchmarks.md)."""

            def step(self, closure=None):
                self.param_groups.reverse()
                try:
                    return super().step(closure)
                finally:
                    self.param_groups.reverse()

            def update_step(self, group, p, gindex, pindex):
                super().update_step(group, p, gindex, pindex)
                p.grad = None

        return AdamW8bit(groups, weight_decay=cfg.weight_decay)
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
    from transformers import CLIPTextModel

    text_encoder, unet = model.text_encoder, model.unet
    if cfg.stage == 1 and cfg.text_encoder_init == "scratch":  # the same architecture, new random weights
        with seeded_init(derive_seed(cfg.seed, "text_encoder")):
            text_encoder = CLIPTextModel(text_encoder.config)
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
    """One training run as a recipe: `setup` once, `micro_step` for every batch, `step_end` after every optimizer
    step (logging, checkpoints, validation grids), `finish` at the end (export)."""

    cfg: TrainConfig
    accelerator: Any
    model: Any  # the loaded StableDiffusion bundle: VAE, tokenizer, noise schedule
    text_encoder: torch.nn.Module  # prepared by accelerate (maybe DDP-wrapped)
    unet: torch.nn.Module  # prepared in stage 2, maybe LoRA-wrapped
    params: list[torch.nn.Parameter]  # what trains, in a fixed order (clipping, EMA)
    ema: Any | None
    out: Path
    optimizer: Any = None
    lr_scheduler: Any = None
    noise_scheduler: Any = None
    trainable: list[torch.nn.Module] = field(default_factory=list)  # prepared: accumulate() skips their syncs
    items: list = field(default_factory=list)
    scaling: float = 0.18215  # the latents' scaling factor (the shards' own, or the VAE's)

    @classmethod
    def setup(cls, cfg: TrainConfig, resume: bool) -> TrainingRun:
        """Checks and data before anything is written or loaded; then the accelerator, what trains (decided
        once, by the stage), the optimizer and the EMA, prepared and on the device."""
        from accelerate import Accelerator
        from accelerate.state import AcceleratorState
        from accelerate.utils import ProjectConfiguration
        from diffusers import DDPMScheduler
        from diffusers.optimization import get_scheduler

        from creative_painting.models import load

        out = Path(cfg.output_dir)
        check_options(cfg)
        check_output_dir(out, cfg, resume)
        if cfg.check_memory:
            check_training_memory(cfg)
        items, manifest = open_items(cfg.data)
        if manifest.get("kind") == "pixels" and manifest.get("size") not in (None, cfg.resolution):
            raise UserError(f"{cfg.data} holds {manifest['size']} px images but resolution is {cfg.resolution}")
        # accelerate keeps one state per process: a second run in it (the demo's stages, a notebook, the tests)
        # with another precision would be refused. Its process group (PartialState) is kept.
        AcceleratorState._reset_state()
        accelerator = Accelerator(mixed_precision=cfg.mixed_precision, cpu=launched_on_cpus(),
                                  gradient_accumulation_steps=cfg.gradient_accumulation_steps, log_with="tensorboard",
                                  project_config=ProjectConfiguration(project_dir=str(out),
                                                                      logging_dir=str(out / "logs")))
        model = load(cfg.model, dtypes=weight_dtypes(cfg))  # frozen parts never pass through fp32
        text_encoder, unet, groups = trainable_modules(cfg, model)
        model = replace(model, text_encoder=text_encoder)  # stage 1 from scratch: the model's own is not kept
        params = [p for g in groups for p in g["params"]]
        optimizer = _optimizer(cfg, groups)
        lr_scheduler = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=cfg.warmup_steps)
        ema = None
        if cfg.ema_decay:
            from diffusers.training_utils import EMAModel

            # foreach: one multi-tensor update, not a Python loop over every tensor (a small model's step: 11 -> 2 ms);
            # saved as safetensors by save_checkpoint, never pickled
            ema = EMAModel(params, decay=cfg.ema_decay, foreach=True)
        optimizer, lr_scheduler = accelerator.prepare(optimizer, lr_scheduler)
        trainable = []
        if cfg.train_text_encoder:
            text_encoder = accelerator.prepare(text_encoder)
            trainable.append(text_encoder)
        if cfg.stage == 2:
            unet = accelerator.prepare(unet)
            trainable.append(unet)
        for module in (text_encoder, unet, model.vae):
            module.to(accelerator.device)
        if ema is not None:
            if _offloads_ema(cfg, accelerator.device):
                ema.pin_memory()  # host to GPU and back at copy speed
            else:
                ema.to(accelerator.device)
        return cls(cfg, accelerator, model, text_encoder, unet, params, ema, out, optimizer, lr_scheduler,
                   DDPMScheduler.from_config(model.scheduler_config), trainable, items,
                   float(manifest.get("scaling_factor") or model.vae.config.scaling_factor))

    def start(self, resume: bool) -> int:
        """Restore the newest whole checkpoint (its step, or 0), then record the config and open the logs."""
        start_step = 0
        checkpoint = latest_checkpoint(self.out) if resume else None
        if checkpoint:
            start_step = load_checkpoint(self.accelerator, checkpoint, self.ema)
            log.warning("resumed from %s (step %d)", checkpoint, start_step)  # stderr: stdout may hold --json
        if self.accelerator.is_main_process:
            atomic_write_text(self.out / "config.json", self.cfg.to_json())
            self.accelerator.init_trackers("train", config={k: v for k, v in json.loads(self.cfg.to_json()).items()
                                                            if isinstance(v, (int, float, str, bool))})
        return start_step

    def batches(self, start_step: int) -> torch.utils.data.DataLoader:
        """The micro-batches from `start_step` on: each a pure function of (seed, step, rank)."""
        cfg, accum = self.cfg, self.cfg.gradient_accumulation_steps
        batches = step_batches(cfg, self.items, rank=self.accelerator.process_index,
                               world_size=self.accelerator.num_processes)
        remaining = torch.utils.data.Subset(batches, range(start_step * accum, cfg.max_steps * accum))
        return torch.utils.data.DataLoader(remaining, batch_size=None, num_workers=cfg.num_workers,
                                           persistent_workers=False, prefetch_factor=2 if cfg.num_workers else None)

    def micro_step(self, batch: dict[str, Any]) -> float:
        """Loss, backward and (at the end of an accumulation) the optimizer step; returns the loss."""
        accelerator = self.accelerator
        with accelerator.accumulate(*self.trainable):
            # autocast over the whole loss (stage 1's frozen U-Net and the VAE are not prepared modules) but not
            # the backward pass and the step: its cache of bf16/fp16 weight copies (2 GB at SD v1 size) is freed
            with accelerator.autocast():
                loss = diffusion_loss(batch, unet=self.unet, text_encoder=self.text_encoder, vae=self.model.vae,
                                      tokenizer=self.model.tokenizer, noise_scheduler=self.noise_scheduler,
                                      scaling_factor=self.scaling, snr_gamma=self.cfg.snr_gamma,
                                      generator=_noise_generator(self.cfg, batch["step"], accelerator.process_index),
                                      device=accelerator.device)
            accelerator.backward(loss)
            if accelerator.sync_gradients:
                accelerator.clip_grad_norm_(self.params, 1.0)
            self.optimizer.step()
            self.lr_scheduler.step()
            self.optimizer.zero_grad(set_to_none=True)
        return loss.detach().float().item()

    def step_end(self, step: int, loss: float, samples_per_second: float | None) -> None:
        """After an optimizer step: the EMA, then logs, checkpoints and validation grids when they are due."""
        cfg = self.cfg
        if self.ema:
            with self._ema_on_device():
                self.ema.step(self.params)
        last = step == cfg.max_steps
        if step % cfg.log_every == 0 or last:
            speed = {"samples_per_second": samples_per_second} if samples_per_second else {}
            self.accelerator.log({"loss": loss, "lr": self.lr_scheduler.get_last_lr()[0], **speed}, step=step)
        if step % cfg.checkpoint_every == 0 or last:
            save_checkpoint(self.accelerator, self.out, step, cfg.keep_checkpoints, self.ema)
        if step % cfg.validate_every == 0 or last:
            _validate(self, self.out / "samples" / f"step-{step:06d}")

    def finish(self) -> dict[str, Any]:
        """Export (the EMA weights, LoRA merged) as a single file and a diffusers folder, and a LoRA run's adapter
        alone as `lora.safetensors` (kohya/A1111 format); DDP ranks' digests."""
        self.optimizer.state.clear()  # the last checkpoint holds the moments; the export needs the room
        accelerator, exported, summary = self.accelerator, {}, {}
        if accelerator.is_main_process and self.cfg.export:
            trained, adapter, source = _trained_model(self)
            exported = {"single_file": str(trained.save_single_file(self.out / "model.safetensors")),
                        "diffusers": str(trained.save_diffusers(self.out / "diffusers", overwrite=True))}
            if adapter:
                exported["lora"], text_part = _export_lora(self.cfg, trained, adapter, self.out / "lora.safetensors",
                                                           source)
                summary = {"lora_text_encoder": text_part} if text_part else {}
        if accelerator.num_processes > 1:  # every rank records what it holds: DDP must keep them identical
            digest = _digest([accelerator.unwrap_model(m) for m in self.trainable])
            atomic_write_text(self.out / "ranks" / f"{accelerator.process_index}.json", json.dumps({"digest": digest}))
        accelerator.wait_for_everyone()
        accelerator.end_training()
        return ({"exported": exported} if exported else {}) | summary

    @contextlib.contextmanager
    def averaged(self):
        """The unwrapped text encoder and U-Net (LoRA layers still injected into the U-Net) with their EMA weights
        swapped in, on the training device; put back afterwards.

        The tensors trade places, nothing is copied: EMAModel's store/copy_to keep a third copy of what trains
        (3.9 GB for SD v1's U-Net and text encoder, the peak of a run that paints validation grids)."""
        text_encoder, unet = (self.accelerator.unwrap_model(m) for m in (self.text_encoder, self.unet))
        with self._ema_on_device():
            self._swap_ema()
            try:
                yield text_encoder, unet.base_model.model if self.cfg.lora_rank else unet
            finally:
                self._swap_ema()

    @contextlib.contextmanager
    def _ema_on_device(self):
        """With `ema_offload` on a GPU the EMA copy lives in host memory (4 bytes a trained parameter less on
        the GPU) and visits the GPU only to be updated or swapped in, as diffusers' `--offload_ema` does. It
        visits when the gradients are freed, so the step's peak stays the larger. On the CPU it stays put."""
        offload = self.ema is not None and _offloads_ema(self.cfg, self.accelerator.device)
        if offload:
            self.ema.to(self.accelerator.device, non_blocking=True)
        try:
            yield
        finally:
            if offload:
                self.ema.to("cpu", non_blocking=True)  # into pinned memory
                torch.cuda.synchronize()  # a checkpoint may read it next

    def _swap_ema(self) -> None:
        if self.ema:
            for param, shadow in zip(self.params, self.ema.shadow_params, strict=True):
                param.data, shadow.data = shadow.data, param.data


def train(cfg: TrainConfig, *, resume: bool = True, progress: bool = True) -> dict[str, Any]:
    """Run (or continue) training; returns a summary with the losses and where the model went."""
    run = TrainingRun.setup(cfg, resume)
    accelerator = run.accelerator
    with run_lock(run.out, enabled=accelerator.is_local_main_process):
        step = start_step = run.start(resume)
        samples_per_step = cfg.batch_size * cfg.gradient_accumulation_steps * accelerator.num_processes
        losses, window, started = {}, [], time.perf_counter()
        busy, timed, tick = 0.0, 0, time.perf_counter()  # step time without checkpoints and grids; 2 warm-up steps
        bar = tqdm(total=cfg.max_steps, initial=start_step, desc=f"stage {cfg.stage}", unit="step",
                   disable=not progress or not accelerator.is_local_main_process)
        for batch in run.batches(start_step):
            if batch["x"] is None:
                continue  # every image of this micro-batch was broken
            window.append(run.micro_step(batch))
            if not accelerator.sync_gradients:
                continue
            step += 1
            losses[step], window = sum(window) / len(window), []
            if step - start_step > 2:
                busy, timed = busy + time.perf_counter() - tick, timed + 1
            bar.update(1)
            bar.set_postfix(loss=f"{losses[step]:.4f}")
            run.step_end(step, losses[step], samples_per_step * timed / busy if timed else None)
            tick = time.perf_counter()
        bar.close()
        if not math.isfinite(sum(losses.values()) if losses else 0.0):
            raise UserError("training diverged (loss is not finite); lower learning_rate or use bf16 instead of fp16")
        summary = {"steps": step, "losses": losses, "seconds": time.perf_counter() - started,
                   "samples_per_second": samples_per_step * timed / busy if timed else None}
        return summary | run.finish()


def _digest(modules) -> str:
    import hashlib

    h = hashlib.sha256()
    for module in modules:
        for name, tensor in sorted(module.state_dict().items()):
            h.update(name.encode())
            h.update(tensor.detach().float().cpu().numpy().tobytes())
    return h.hexdigest()


def _trained_model(run: TrainingRun):
    """A StableDiffusion bundle holding the trained (EMA, LoRA-merged) weights, on the CPU, in fp32; a LoRA
    run's adapter weights (peft's names), before the merge; and the source model when it was read again (else None).

    Frozen parts are exported exactly as the source model holds them: under mixed precision they were held
    in bf16/fp16 for training, so they are read from the source again."""
    import copy

    cfg = run.cfg
    with run.averaged() as (text_encoder, _):
        te = copy.deepcopy(text_encoder).float().cpu() if cfg.train_text_encoder else None
        un = copy.deepcopy(run.accelerator.unwrap_model(run.unet)).float().cpu() if cfg.stage == 2 else None
    adapter = {}
    if cfg.lora_rank:
        from peft.utils import get_peft_model_state_dict

        adapter = {k.removeprefix("base_model.model."): v for k, v in get_peft_model_state_dict(un).items()}
        un = un.merge_and_unload()
    source, fresh = run.model, None
    if cfg.mixed_precision != "no":
        from creative_painting.models import load

        source = fresh = load(cfg.model)
    return replace(run.model, unet=source.unet.float().cpu() if un is None else un,
                   text_encoder=source.text_encoder.float().cpu() if te is None else te,
                   vae=source.vae.float().cpu()), adapter, fresh


def _export_lora(cfg: TrainConfig, trained, adapter: dict, path: Path, source=None) -> tuple[str, dict[str, float]]:
    """A LoRA run's adapter as kohya's `lora.safetensors` (trained with alpha = rank). A text encoder trained in
    full beside it (stage 2's default) goes into the same file as its rank-`lora_rank` part, cut by SVD as
    `models extract-lora` cuts it, or the file would paint with the base model's text encoder; what that part
    keeps is returned, since a LoRA holds no embeddings or norms (`train_text_encoder: false` exports exactly).
    `source`: the model the run started from, where the export read it already."""
    from creative_painting.models import load
    from creative_painting.models.lora_export import extract_lora, save_kohya, to_kohya

    state, text_part = to_kohya(adapter), {}
    if cfg.train_text_encoder:
        text, report = extract_lora(source or load(cfg.model), trained, cfg.lora_rank, progress=False,
                                    parts=("text_encoder",))
        state |= text
        text_part = {"kept": report["kept"], "outside": report["outside"]}
    return str(save_kohya(state, path, rank=cfg.lora_rank, alpha=cfg.lora_rank)), text_part


def _validate(run: TrainingRun, folder: Path) -> None:
    """The fixed-seed grid (`folder/grid.png`) of validation artists x prompts, painted on the training device
    with the EMA weights: steps compare by eye."""
    if not run.accelerator.is_main_process:
        return
    from creative_painting.painting.memory import check_memory
    from creative_painting.painting.session import paint_spec
    from creative_painting.painting.spec import PaintSpec

    cfg = run.cfg  # the paper's preset (DDIM, its guidance scale), deterministic
    spec = PaintSpec(tuple(cfg.validation_prompts), tuple(cfg.validation_artists), steps=cfg.validation_steps,
                     eta=0.0, width=cfg.resolution, height=cfg.resolution, seed=cfg.seed)
    spec.validate(max_images=spec.count())
    with run.averaged() as (text_encoder, unet):
        modes = [(m, m.training) for m in (text_encoder, unet)]
        for m, _ in modes:
            m.eval()
        try:
            live = replace(run.model, unet=unet, text_encoder=text_encoder)
            check_memory(live, spec.settings(), spec.batch_size, spec.count())
            with run.accelerator.autocast():  # frozen parts may be held in bf16/fp16, trained ones in fp32
                paint_spec(live, spec, folder, progress=False, overwrite=True)
        finally:
            for m, training in modes:
                m.train(training)
