"""Do a fused LoRA and an unfused one paint the same picture? On the full-size SD v1 architecture, in fp32 and in
bf16 (`--dtype auto` on a CPU with native bf16), with the rank-32 LoRA of `lora_cost.py`.

Random weights: this measures arithmetic, not pictures anyone would want. Beside each fused-vs-unfused difference
it prints the noise floor of that precision (the bare model in bf16 against fp32) and how far the LoRA moves the
picture, so a difference can be read against both. Grey levels: the largest and the mean absolute difference of
8-bit RGB pixels.

    .venv/bin/python benchmarks/lora_agreement.py [--size 128] [--steps 8] [--rank 32]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from creative_painting.models import build_model, bundled_configs, place  # noqa: E402
from creative_painting.models.adapter_files import Lora  # noqa: E402
from creative_painting.models.adapters import remove_adapters, use_adapters  # noqa: E402
from creative_painting.painting.painter import render  # noqa: E402
from creative_painting.painting.spec import PaintSpec  # noqa: E402
from lora_cost import write_lora  # noqa: E402


def paint(model, request: dict, lora: Lora | None, fuse: bool) -> np.ndarray:
    spec = PaintSpec.check(request)
    use_adapters(model, (lora,) if lora else (), (), fuse=fuse)
    picture = np.asarray(render(model, spec.cells(), spec.settings(), batch_size=1)[0]).astype(int)
    remove_adapters(model)
    return picture


def apart(a: np.ndarray, b: np.ndarray) -> str:
    d = np.abs(a - b)
    return f"max {int(d.max()):3d}, mean {d.mean():.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--rank", type=int, default=32)
    args = parser.parse_args()
    request = {"prompts": ["a lighthouse on a cliff at dusk"], "steps": args.steps, "width": args.size,
               "height": args.size, "eta": 0.0, "seed": 3}
    cpu = torch.device("cpu")
    with tempfile.TemporaryDirectory() as tmp:
        lora = Lora(str(write_lora(Path(tmp), args.rank))).check()
        out = {}
        for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
            model = place(build_model(bundled_configs(), seed=0), cpu, dtype)
            out[name] = {way: paint(model, request, lora if way != "bare" else None, way != "unfused")
                         for way in ("bare", "fused", "unfused")}
            del model
    print(f"full-size SD v1 (random weights), {args.size}x{args.size}, DDIM {args.steps} steps, rank-{args.rank} LoRA; "
          f"picture: pixel std {out['fp32']['bare'].std():.1f}, "
          f"{np.mean((out['fp32']['bare'] == 0) | (out['fp32']['bare'] == 255)):.0%} of values at 0 or 255")
    for name in ("fp32", "bf16"):
        o = out[name]
        print(f"  {name}: fused vs unfused {apart(o['fused'], o['unfused'])} | LoRA vs bare {apart(o['fused'], o['bare'])}")
    print(f"  bf16 vs fp32: bare {apart(out['bf16']['bare'], out['fp32']['bare'])} | "
          f"fused {apart(out['bf16']['fused'], out['fp32']['fused'])} | "
          f"unfused {apart(out['bf16']['unfused'], out['fp32']['unfused'])}")


if __name__ == "__main__":
    main()
