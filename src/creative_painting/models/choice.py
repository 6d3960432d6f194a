"""Which model paints, and where: one description for `paint`, `batch` (and each of its Ray or accelerate
workers), the studio and `figures`. The same flags and job keys build it, `validate()` checks it before
anything is claimed or loaded, and `models.load(choice)` loads and places it.

This module imports neither torch nor diffusers: `--help` builds every parser with it.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields

from creative_painting.models.configs import BACKENDS, DEFAULT_MODEL

HELP = {
    "model": "hub id, diffusers folder, .ckpt/.safetensors, or tiny (a tiny random model that paints noise: "
             "to try the tools offline)",
    "config": "diffusers folder whose configs describe a non-SD-v1 single file",
    "device": "auto, cuda, cuda:1, mps or cpu",
    "dtype": "auto (fp16 on GPU; bf16 on a CPU with native bf16, else fp32), fp32, fp16 or bf16",
    "backend": "torch; openvino: the U-Net compiled by OpenVINO for the CPU, converted once per model into "
               "the cache (the fastest CPU path here; pip install '.[openvino]'); or compile (as --compile)",
}


@dataclass(frozen=True)
class ModelChoice:
    model: str = DEFAULT_MODEL
    config: str | None = None  # a diffusers folder whose configs describe a non-SD-v1 single file
    device: str = "auto"
    dtype: str = "auto"
    backend: str = "torch"  # or "openvino" (CPU), or "compile" (torch.compile)

    def validate(self) -> ModelChoice:
        """Cheap checks, before any output is claimed or any weight read: the device, dtype and backend
        exist here."""
        from creative_painting.models.device import check_backend, resolve_device

        device, _ = resolve_device(self.device, self.dtype)
        check_backend(self.backend, device)
        return self


def add_model_flags(parser: argparse.ArgumentParser, *, overrides: str | None = None, model_note: str = "") -> None:
    """--model, --config, --device, --dtype, --backend, with the same words everywhere. `overrides`: the name
    of what they override (a job file): their default is then None, and the file's value stays."""
    for field in fields(ModelChoice):
        default = field.default
        where = f"{overrides} default" if overrides else "default"
        text = HELP[field.name] + (model_note if field.name == "model" else "")
        parser.add_argument(f"--{field.name}", default=None if overrides else default,
                            metavar="{" + ",".join(BACKENDS) + "}" if field.name == "backend" else None,
                            help=text + (f" ({where} {default})" if default else ""))
    parser.add_argument("--compile", dest="backend", action="store_const", const="compile",
                        help="the U-Net through torch.compile: a minute or more to compile once per shape (cached "
                             "on disk for the next process), then faster steps on a GPU; the same as --backend compile")


def model_choice(args: argparse.Namespace, base: ModelChoice | None = None) -> ModelChoice:
    """The choice the flags describe; flags left at None keep `base`'s values."""
    values = {f.name: getattr(args, f.name) for f in fields(ModelChoice) if getattr(args, f.name, None) is not None}
    return ModelChoice(**{**(vars(base) if base else {}), **{k: str(v) for k, v in values.items()}})
