"""Our `paint` loop against diffusers' StableDiffusionPipeline: same model, sampler, steps and seeds.

Prints images/s of each and the ratio (goal: ours no slower than 1.05x). Both run in this process,
interleaved, so machine noise hits them alike. Default: the tiny model on the CPU, which measures
the loop's overhead (tokenizing, guidance, scheduler calls), not U-Net speed.

    .venv/bin/python benchmarks/paint_overhead.py [--model PATH] [--steps 20] [--size 64] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from diffusers import DDIMScheduler, StableDiffusionPipeline

from creative_painting.models import load_model, make_tiny_model, resolve_device
from creative_painting.painting import Cell, paint
from creative_painting.sampling import SamplingSettings, get_sampler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="default: the tiny random model")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--images", type=int, default=4, help="images per timed run")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    device, dtype = resolve_device("auto", "fp32")  # the same eager fp32 model for both: loop overhead only
    model = (load_model(args.model) if args.model else make_tiny_model()).to(device, dtype)
    settings = SamplingSettings("ddim", args.steps, 5.0, 0.0, args.size, args.size)
    scheduler = get_sampler("ddim").make(model.scheduler_config)
    assert isinstance(scheduler, DDIMScheduler)
    pipe = StableDiffusionPipeline(vae=model.vae, text_encoder=model.text_encoder, tokenizer=model.tokenizer,
                                   unet=model.unet, scheduler=scheduler, safety_checker=None,
                                   feature_extractor=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    prompt = "a painting of urbanization of china by Vincent van Gogh"
    jobs = [Cell.single(prompt, seed=i) for i in range(args.images)]

    def ours() -> None:
        paint(model, jobs, settings, batch_size=1)

    def theirs() -> None:
        for i in range(args.images):
            pipe(prompt, num_inference_steps=args.steps, guidance_scale=5.0, eta=0.0, height=args.size,
                 width=args.size, generator=torch.Generator("cpu").manual_seed(i), output_type="pil")

    ours(), theirs()  # warm-up
    times: dict[str, list[float]] = {"ours": [], "diffusers": []}
    for _ in range(args.rounds):
        for name, fn in (("ours", ours), ("diffusers", theirs)):
            start = time.perf_counter()
            fn()
            if device.type == "cuda":
                torch.cuda.synchronize()
            times[name].append(time.perf_counter() - start)

    rate = {name: args.images / statistics.median(ts) for name, ts in times.items()}
    print(f"device {device}, dtype {dtype}, model {model.source}, ddim {args.steps} steps, "
          f"{args.size}x{args.size}, scale 5.0, {args.images} images x {args.rounds} rounds (median)")
    for name in ("diffusers", "ours"):
        print(f"{name:10s} {rate[name]:8.2f} images/s")
    print(f"time ratio ours/diffusers: {rate['diffusers'] / rate['ours']:.3f} (goal <= 1.05)")


if __name__ == "__main__":
    main()
