"""Atomic training checkpoints: accelerate writes into a temporary folder that is renamed when complete,
so a SIGKILL at any moment leaves only whole checkpoints behind."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

_NAME = re.compile(r"^step-(\d+)$")


def checkpoint_dirs(output_dir: Path) -> list[Path]:
    root = output_dir / "checkpoints"
    found = [p for p in root.glob("step-*") if _NAME.match(p.name) and (p / "trainer.json").is_file()]
    return sorted(found, key=lambda p: int(_NAME.match(p.name)[1]))


def latest_checkpoint(output_dir: Path) -> Path | None:
    found = checkpoint_dirs(output_dir)
    return found[-1] if found else None


def save_checkpoint(accelerator, output_dir: Path, step: int, keep: int) -> Path:
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
        (tmp / "trainer.json").write_text(json.dumps({"step": step}))
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        for old in checkpoint_dirs(output_dir)[:-keep] if keep > 0 else []:
            shutil.rmtree(old, ignore_errors=True)
        for stale in root.glob(".tmp-step-*"):  # left by a killed run
            shutil.rmtree(stale, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def checkpoint_step(path: Path) -> int:
    return int(json.loads((path / "trainer.json").read_text())["step"])
