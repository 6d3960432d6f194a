"""The memory a paint needs beyond the loaded model: measured peaks against `painting.memory`'s estimate,
which `paint` uses to refuse a size and batch size that would not fit.

Each row runs in a fresh process: the model is built and placed, the peak resident memory is reset
(Linux's /proc/self/clear_refs), then `paint()` paints one DDIM step with guidance 5 (text encoder, one
guided U-Net call, the decode; more steps reuse the same memory). Full SD v1 architecture with random
weights in fp32 and `--dtype auto` (bf16 U-Net), and the tiny model. The estimate should be at least the
measured peak (ratio >= 1) without being wasteful (ratio <= 2).

    .venv/bin/python benchmarks/paint_memory.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r'''
import json, sys, torch
from creative_painting.models import build_model, bundled_configs, make_tiny_model, place
from creative_painting.painting import Cell, paint
from creative_painting.painting.memory import estimate_bytes
from creative_painting.sampling import SamplingSettings
what, dtype, size, batch = sys.argv[1], getattr(torch, sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
model = build_model(bundled_configs(), seed=0) if what == "full" else make_tiny_model(seed=0)
model = place(model, torch.device("cpu"), dtype)
settings = SamplingSettings("ddim", 1, 5.0, 0.0, size, size)
jobs = [Cell.single("a painting of a harbour by Claude Monet", seed=k) for k in range(batch)]

def status(key):
    return next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith(key))

base = status("VmRSS")
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # the peak (VmHWM) starts again from the current RSS
paint(model, jobs, settings, batch_size=batch)
print(json.dumps({"measured": status("VmHWM") - base, "estimate": estimate_bytes(model, settings, batch)}))
'''

ROWS = [  # model, dtype, size, batch
    ("full", "float32", 256, 1), ("full", "float32", 512, 1), ("full", "float32", 512, 2),
    ("full", "float32", 512, 4), ("full", "float32", 768, 1), ("full", "float32", 1152, 1),
    ("full", "bfloat16", 512, 1), ("full", "bfloat16", 512, 4),
    ("tiny", "float32", 512, 1), ("tiny", "float32", 1024, 4), ("tiny", "float32", 2048, 1),
]


def measure(*args: object) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, *map(str, args)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the tiny model and full size at 256 px")
    args = parser.parse_args()
    rows = [r for r in ROWS if not args.quick or r[0] == "tiny" or r[2] == 256]
    print("| model | dtype | size | batch | measured peak | estimate | estimate / measured |")
    print("|---|---|---|---|---|---|---|")
    for what, dtype, size, batch in rows:
        r = measure(what, dtype, size, batch)
        print(f"| {what} | {dtype} | {size} px | {batch} | {r['measured'] / 2**20:,.0f} MiB | "
              f"{r['estimate'] / 2**20:,.0f} MiB | {r['estimate'] / r['measured']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
