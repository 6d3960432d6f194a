"""Full-size SD v1 on the CPU: our fast path against diffusers' fp32 StableDiffusionPipeline, in one run.

The real SD v1 architecture with random weights (exactly as slow as the real model), 256x256 (32x32
latents), DDIM with guidance 5, batch 1. Three ways, each round in a rotated order:
- diffusers: `StableDiffusionPipeline`, everything fp32 (the baseline);
- ours fp32: our paint loop, fp32 eager (same work as the baseline);
- ours auto: `--dtype auto`, on a CPU with native bf16 the U-Net in bf16 and channels_last;
- ours openvino: `--backend openvino --dtype auto`, the U-Net compiled by OpenVINO (its one-time
  conversion, into a temporary cache, is timed apart and not in the per-image figure).
Prints seconds per image, the ratios against diffusers (goal <= 0.5), and the relative error of the
final latents of each fast path against fp32.

With `--compile`, a fifth way: `--dtype auto` with `torch.compile` (inductor) on the U-Net, its compile
time measured apart on a warm-up image.

    .venv/bin/python benchmarks/cpu_speed.py [--steps 10] [--size 256] [--rounds 2] [--compile]
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import tempfile
import time

import torch
from diffusers import StableDiffusionPipeline

from creative_painting.models import build_model, bundled_configs, place, resolve_device
from creative_painting.painting import Cell, paint
from creative_painting.painting import painter as painter_module
from creative_painting.sampling import SamplingSettings, get_sampler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile of the bf16 U-Net")
    args = parser.parse_args()
    torch.manual_seed(0)

    cpu = torch.device("cpu")
    _, auto_dtype = resolve_device("cpu", "auto")
    started = time.perf_counter()
    reference = place(build_model(bundled_configs(), seed=0), cpu, torch.float32)
    fast = place(copy.deepcopy(reference), cpu, auto_dtype)
    with tempfile.TemporaryDirectory() as cache:
        os.environ["CREATIVE_PAINTING_CACHE"] = cache
        start = time.perf_counter()
        openvino = place(copy.deepcopy(reference), cpu, auto_dtype, backend="openvino")
        print(f"OpenVINO: U-Net converted and compiled once in {time.perf_counter() - start:.0f} s "
              f"(inner precision {openvino.unet_runner.precision})")
    print(f"full-size SD v1 built in {time.perf_counter() - started:.0f} s; torch threads {torch.get_num_threads()}; "
          f"auto picks {auto_dtype}")
    settings = SamplingSettings("ddim", args.steps, 5.0, 0.0, args.size, args.size)
    pipe = StableDiffusionPipeline(vae=reference.vae, text_encoder=reference.text_encoder,
                                   tokenizer=reference.tokenizer, unet=reference.unet,
                                   scheduler=get_sampler("ddim").make(reference.scheduler_config),
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    prompt = "a painting of urbanization of china by Vincent van Gogh"
    latents: dict[str, torch.Tensor] = {}

    def ours(name, model):
        def run():
            decode = painter_module.decode_latents

            def keep(model_, x):
                latents[name] = x.float().clone()
                return decode(model_, x)

            painter_module.decode_latents = keep
            try:
                paint(model, [Cell.single(prompt, seed=0)], settings, batch_size=1)
            finally:
                painter_module.decode_latents = decode
        return run

    def diffusers():
        pipe(prompt, num_inference_steps=args.steps, guidance_scale=5.0, eta=0.0, height=args.size,
             width=args.size, generator=torch.Generator("cpu").manual_seed(0), output_type="pil")

    ways = [("diffusers fp32", diffusers), ("ours fp32", ours("fp32", reference)),
            (f"ours auto ({str(auto_dtype).removeprefix('torch.')})", ours("auto", fast)),
            (f"ours openvino ({openvino.unet_runner.precision})", ours("openvino", openvino))]
    if args.compile:  # what `paint --compile --dtype auto` places: the bf16 U-Net through torch.compile
        with tempfile.TemporaryDirectory() as cache:
            os.environ.update(CREATIVE_PAINTING_CACHE=cache, TORCHINDUCTOR_CACHE_DIR=f"{cache}/inductor")
            start = time.perf_counter()
            compiled = place(copy.deepcopy(reference), cpu, auto_dtype, backend="compile")
            ours("compiled", compiled)()
        print(f"--compile: first image (compile included) {time.perf_counter() - start:.0f} s")
        ways.append(("ours auto + --compile", ours("compiled", compiled)))
    times: dict[str, list[float]] = {name: [] for name, _ in ways}
    for r in range(args.rounds):
        for name, run in ways[r % len(ways):] + ways[: r % len(ways)]:
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
            print(f"  round {r + 1}: {name:22s} {times[name][-1]:7.1f} s", flush=True)

    base = statistics.median(times["diffusers fp32"])
    print(f"\n{args.size}x{args.size}, DDIM {args.steps} steps, guidance 5, batch 1, {args.rounds} rounds (median)")
    print(f"{'way':24s} {'s/image':>9s} {'vs diffusers':>13s}")
    for name, _ in ways:
        t = statistics.median(times[name])
        print(f"{name:24s} {t:9.1f} {t / base:13.3f}")
    for name in ("auto", "openvino", "compiled")[: 3 if args.compile else 2]:
        error = ((latents[name] - latents["fp32"]).norm() / latents["fp32"].norm()).item()
        print(f"relative error of {name}'s final latents against fp32: {error:.4f}")


if __name__ == "__main__":
    main()
