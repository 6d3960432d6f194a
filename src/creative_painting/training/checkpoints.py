"""Atomic training checkpoints: accelerate writes into a temporary folder that is renamed when complete,
so a SIGKILL at any moment leaves only whole checkpoints behind.

The EMA weights go beside accelerate's files as safetensors: accelerate's own custom-state files are
pickles, which we never load.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from creative_painting.errors import UserError
from creative_painting.files import check_location, follow_umask_tree, is_empty

_NAME = re.compile(r"^step-(\d+)$")
EMA_FILE = "ema.safetensors"
# Settings that change what a checkpoint holds: resuming under other values would load the wrong tensors.
IDENTITY = ("stage", "lora_rank", "text_encoder_init", "train_text_encoder", "model")


def checkpoint_dirs(output_dir: Path) -> list[Path]:
    root = output_dir / "checkpoints"
    found = [p for p in root.glob("step-*") if _NAME.match(p.name) and (p / "trainer.json").is_file()]
    return sorted(found, key=lambda p: int(_NAME.match(p.name)[1]))


def latest_checkpoint(output_dir: Path) -> Path | None:
    found = checkpoint_dirs(output_dir)
    return found[-1] if found else None


def check_output_dir(out: Path, cfg, resume: bool) -> None:
    """Before anything is written: `out` is new, empty, or a run of the same kind (stage, LoRA, model)."""
    check_location(out)  # not a file, not under one, writable
    if is_empty(out):
        return
    try:
        previous = json.loads((out / "config.json").read_text(encoding="utf-8"))
        if not isinstance(previous, dict):
            raise ValueError
    except FileNotFoundError:
        raise UserError(f"output_dir {out} is not empty and holds no training run (no config.json); "
                        "choose a new or empty folder") from None
    except (OSError, ValueError):
        raise UserError(f"output_dir {out}: config.json is not a training config; choose another folder") from None
    if resume and latest_checkpoint(out):
        before = {key: previous.get(key, getattr(type(cfg), key, None)) for key in IDENTITY}  # older runs: defaults
        mismatched = [f"{key} {before[key]!r} there, {getattr(cfg, key)!r} now"
                      for key in IDENTITY if before[key] != getattr(cfg, key)]
        if mismatched:
            raise UserError(f"output_dir {out} holds another run ({'; '.join(mismatched)}); "
                            "choose another folder or pass --no-resume")


def save_checkpoint(accelerator, output_dir: Path, step: int, keep: int, ema=None) -> Path:
    """All processes call this (accelerate's collective save); the main one renames and prunes."""
    root = output_dir / "checkpoints"
    tmp = root / f".tmp-step-{step}"
    final = root / f"step-{step}"
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        if ema is not None:
            from safetensors.torch import save_file

            shadow = {f"{i}": p.detach().contiguous().cpu() for i, p in enumerate(ema.shadow_params)}
            save_file(shadow, str(tmp / EMA_FILE), metadata={"optimization_step": str(ema.optimization_step)})
        (tmp / "trainer.json").write_text(json.dumps({"step": step}))
        follow_umask_tree(tmp)  # safetensors writes 0600
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        for old in checkpoint_dirs(output_dir)[:-keep] if keep > 0 else []:
            shutil.rmtree(old, ignore_errors=True)
        for stale in root.glob(".tmp-step-*"):  # left by a killed run
            shutil.rmtree(stale, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def load_checkpoint(accelerator, path: Path, ema=None) -> int:
    """Restore a checkpoint; returns its step. A damaged one is a one-line error naming it."""
    try:
        step = int(json.loads((path / "trainer.json").read_text(encoding="utf-8"))["step"])
        # accelerate loads weights with safetensors and the optimizer with torch.load(weights_only=True)
        accelerator.load_state(str(path))
        if ema is not None:
            from safetensors.torch import safe_open

            with safe_open(str(path / EMA_FILE), framework="pt") as f:
                shadow = [f.get_tensor(str(i)) for i in range(len(ema.shadow_params))]
                ema.optimization_step = int(f.metadata()["optimization_step"])
            for target, value in zip(ema.shadow_params, shadow, strict=True):
                if target.shape != value.shape:
                    raise ValueError("EMA shapes differ from the model's")
                target.data.copy_(value)
    except Exception as e:  # truncated files, pickles we refuse to run, garbage JSON, missing files
        first = (str(e).strip().splitlines() or [type(e).__name__])[0].split(". ")[0][:160]
        if "Weights only load failed" in first:
            first = "it holds pickled objects, which are never loaded"
        raise UserError(f"cannot resume from {path}: {first}; delete that checkpoint folder "
                        "to resume from an earlier one, or pass --no-resume") from None
    return step
