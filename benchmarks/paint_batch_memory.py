"""Images per second at batch sizes 1, 4 and 8, and the peak resident memory of a full-size paint, ours
against diffusers' pipeline. Each measurement runs in a fresh process (peak RSS is per process).

- Batch sizes: our `paint()` with `--dtype auto`, guidance 5, DDIM, on the tiny model (64 px, 10 steps)
  and the full SD v1 architecture with random weights (256 px, 2 steps); one warm-up batch first.
- Memory: one full-size image, 256 px, DDIM 2 steps, guidance 5: ours in fp32 and auto against diffusers'
  fp32 `StableDiffusionPipeline`, each the only thing in its process.

    .venv/bin/python benchmarks/paint_batch_memory.py
"""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = r'''
import json, resource, sys, time, torch
from creative_painting.models import build_model, bundled_configs, make_tiny_model, place, resolve_device
from creative_painting.painting import Cell, paint
from creative_painting.sampling import SamplingSettings, get_sampler
what, size, steps, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
cpu = torch.device("cpu")
full = what != "tiny"
model = build_model(bundled_configs(), seed=0) if full else make_tiny_model(seed=0)
dtype = torch.float32 if what in ("fp32", "diffusers") else resolve_device("cpu", "auto")[1]
model = place(model, cpu, dtype)
settings = SamplingSettings("ddim", steps, 5.0, 0.0, size, size)
jobs = [Cell.single("a painting of a harbour by Claude Monet", seed=k) for k in range(batch)]
if what == "diffusers":
    from diffusers import StableDiffusionPipeline
    pipe = StableDiffusionPipeline(vae=model.vae, text_encoder=model.text_encoder, tokenizer=model.tokenizer,
        unet=model.unet, scheduler=get_sampler("ddim").make(model.scheduler_config), safety_checker=None,
        feature_extractor=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    run = lambda: pipe(["a painting of a harbour by Claude Monet"] * batch, num_inference_steps=steps,
                       guidance_scale=5.0, height=size, width=size)
else:
    run = lambda: paint(model, jobs, settings, batch_size=batch)
if what == "tiny" or what == "full":
    run()  # warm-up
start = time.perf_counter()
run()
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "images_per_s": batch / seconds,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''


def measure(*args: object) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, *map(str, args)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    print("| model | batch size | images/s | vs batch 1 |")
    print("|---|---|---|---|")
    for what, size, steps in (("tiny", 64, 10), ("full", 256, 2)):
        base = None
        for batch in (1, 4, 8):
            r = measure(what, size, steps, batch)
            base = base or r["images_per_s"]
            print(f"| {what} ({size} px, {steps} steps) | {batch} | {r['images_per_s']:.3f} | {r['images_per_s'] / base:.2f} |",
                  flush=True)
    print("\n| full-size paint, 256 px, 1 image | peak RSS | vs diffusers |")
    print("|---|---|---|")
    rows = {name: measure(name, 256, 2, 1) for name in ("diffusers", "fp32", "auto")}
    for name, r in rows.items():
        print(f"| {name} | {r['peak_rss_mib']:,.0f} MiB | {r['peak_rss_mib'] / rows['diffusers']['peak_rss_mib']:.2f} |")


if __name__ == "__main__":
    main()
