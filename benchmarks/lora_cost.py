"""What one rank-32 LoRA costs on the full-size SD v1 architecture on this CPU: to load, and per U-Net step,
fused (the default) and unfused, against the bare model measured in the same run.

The real SD v1 architecture with random weights (exactly as slow as the real model); the LoRA adapts what kohya's
SD v1 LoRAs adapt (the U-Net's attention blocks and the text encoder's attention and MLP layers), written in the
kohya/A1111 format. A step is one guided U-Net call (batch 2: conditional and unconditional) at --size pixels.
Three models side by side (bare, fused, unfused), their steps interleaved in a rotated order, so the machine's
noise falls on all three alike; each figure is the median of its rounds. Loading is timed on one model, a LoRA
applied and removed in turn (what a studio request with another LoRA costs). Goals (issue 41): fused at most 5 %
slower per step, loading at most 2 s.

    .venv/bin/python benchmarks/lora_cost.py [--size 256] [--rounds 5] [--rank 32] [--dtype fp32|bf16]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from peft import LoraConfig, inject_adapter_in_model
from peft.utils import get_peft_model_state_dict

from creative_painting.models import build_model, bundled_configs, place
from creative_painting.models.adapter_files import Lora
from creative_painting.models.adapters import remove_adapters, use_adapters
from creative_painting.models.lora_export import save_kohya, to_kohya

UNET = ["to_q", "to_k", "to_v", "to_out.0", "proj_in", "proj_out", "ff.net.0.proj", "ff.net.2"]
TEXT = ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"]


def write_lora(folder: Path, rank: int) -> Path:
    """A random rank-`rank` LoRA for the full-size model, written by peft's state dict and our kohya writer."""
    donor, g = build_model(bundled_configs(), seed=1), torch.Generator().manual_seed(0)
    parts = {}
    for name, module, targets in (("unet", donor.unet, UNET), ("text", donor.text_encoder, TEXT)):
        inject_adapter_in_model(LoraConfig(r=rank, lora_alpha=rank, target_modules=targets), module)
        parts[name] = {k: torch.randn(v.shape, generator=g) * 0.01 for k, v in get_peft_model_state_dict(module).items()}
    return save_kohya(to_kohya(parts["unet"], parts["text"]), folder / "style.safetensors", rank=rank, alpha=rank)


@torch.inference_mode()
def step_seconds(model, size: int) -> float:
    latents = torch.randn(2, 4, size // 8, size // 8, dtype=model.unet.dtype)
    text = torch.randn(2, 77, 768, dtype=model.unet.dtype)
    start = time.perf_counter()
    model.unet(latents, torch.tensor([500]), text)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rank", type=int, default=32)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's)")
    parser.add_argument("--dtype", choices=("fp32", "bf16"), default="fp32",
                        help="the U-Net's (bf16: `--dtype auto` on a CPU with native bf16, placed as `paint` places it)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[args.dtype]
    models = {way: place(build_model(bundled_configs(), seed=0), torch.device("cpu"), dtype)
              for way in ("bare", "fused", "unfused")}
    with tempfile.TemporaryDirectory() as tmp:
        path = write_lora(Path(tmp), args.rank)
        lora, file_mb = Lora(str(path)).check(), path.stat().st_size / 2**20
        loads = {"fused": [], "fused, no backup": [], "unfused": []}
        for _ in range(args.rounds):  # load and remove, one model: the cost of a studio request that changes LoRA
            for way in loads:
                # `paint` and `batch` fuse without a backup (they never remove it): timed on the unfused way's
                # model, whose weights then keep the LoRA (shapes, and so times, are the same) until it is reset.
                model = models["unfused" if way == "fused, no backup" else "bare"]
                start = time.perf_counter()
                use_adapters(model, (lora,), (), fuse=way != "unfused", restorable=way != "fused, no backup")
                loads[way].append(time.perf_counter() - start)
                if way == "fused, no backup":
                    model.adapters = None
                else:
                    remove_adapters(model)
        for way in ("fused", "unfused"):
            use_adapters(models[way], (lora,), (), fuse=way == "fused")
        times = {way: [] for way in models}
        for way in models:
            step_seconds(models[way], args.size)  # warm-up
        for r in range(args.rounds):  # three models side by side, steps interleaved in a rotated order
            ways = list(models)[r % 3:] + list(models)[: r % 3]
            for way in ways:
                times[way].append(step_seconds(models[way], args.size))
        backup_mb = sum(t.numel() * t.element_size() for _, t in models["fused"].adapters.backups) / 2**20
    bare = statistics.median(times["bare"])
    print(f"full-size SD v1, {args.dtype} U-Net, {args.size}x{args.size}, rank-{args.rank} LoRA ({file_mb:.0f} MB "
          f"file), {torch.get_num_threads()} threads, {args.rounds} rounds")
    for way in times:
        t = statistics.median(times[way])
        print(f"  {way:8s} {t:6.2f} s/step  ratio to bare {t / bare:.3f}   (rounds: "
              + " ".join(f"{x:.2f}" for x in times[way]) + ")")
    for way, seconds in loads.items():
        print(f"  load {way:16s} median {statistics.median(seconds):.2f} s (rounds: "
              + " ".join(f"{x:.2f}" for x in seconds) + ")")
    print(f"  fused: {backup_mb:,.0f} MB of weights backed up (what removing the LoRA restores)")


if __name__ == "__main__":
    main()
