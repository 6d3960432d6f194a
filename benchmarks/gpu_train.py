"""Training on a GPU, prepared and rehearsed on the CPU, in one run: the full size at 512 px, and `demo`.

1. Full SD v1 (random weights, saved in fp16 as published) at 512 px from cached latents (`wikiart shard
   --latents`): stage 2 with the text encoder frozen, the U-Net alone as MosaicML's anchor trains it (36
   images/s per A100, precomputed latents, 512 px); bf16 autocast over fp32 master weights, fused AdamW, no
   EMA.
   Batches run from the smallest, each in a fresh process, until one does not fit: samples/s after 2 warm-up
   steps, peak allocated GPU memory, and `train`'s estimate beside it (its refusal is off, to find the real
   limit).
2. `creative-painting demo --steps N --json` on the GPU and then, with CUDA_VISIBLE_DEVICES="", on the CPU:
   seconds in all and per phase (vae, base, stages, paint and judge), so the slow phase shows itself.

    python benchmarks/gpu_train.py [--batches 8 16 32 64 128] [--steps 6] [--demo-steps 100]
        [--parts train demo] [--json out.json]
    python benchmarks/gpu_train.py --tiny --size 64 --batches 1 2 --steps 3 --demo-steps 3   # a CPU rehearsal
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

from diffusers_loop import peak_mib

ANCHOR = 36.0  # MosaicML: images/s per A100, U-Net only, precomputed latents, 512 px


def config(model: str, shards: str, out: str, batch: int, steps: int, size: int):
    import torch

    from creative_painting.training.config import TrainConfig

    return TrainConfig(model=model, data=shards, output_dir=out, stage=2, train_text_encoder=False,
                       resolution=size, batch_size=batch, max_steps=steps, learning_rate=1e-5, ema_decay=0.0,
                       check_memory=False, mixed_precision="bf16" if torch.cuda.is_available() else "no",
                       checkpoint_every=10**9, validate_every=10**9, validation_artists=["x"],
                       validation_prompts=["y"], export=False)


def one_batch(model: str, shards: str, out: str, batch: int, steps: int, size: int) -> dict:
    from creative_painting.training.trainer import train

    result = train(config(model, shards, out, batch, steps, size).validate(), resume=False, progress=False)
    return {"samples_per_second": result["samples_per_second"], "peak_mib": peak_mib()}


def prepare(work: Path, tiny: bool, size: int) -> tuple[str, str]:
    """The model as a fp16 diffusers folder, and 16 synthetic paintings' latents, encoded by its VAE."""
    from creative_painting.models import build_model, bundled_configs, tiny_configs
    from creative_painting.training.latents import LatentEncoder
    from creative_painting.wikiart.shards import ShardSettings, write_shards
    from creative_painting.wikiart.synthetic import SUBJECTS, collection_files, make_artists, write_collection

    model, shards = work / "model", work / "latents"
    sd = build_model(tiny_configs() if tiny else bundled_configs(), seed=0)
    for part in (sd.unet, sd.text_encoder, sd.vae):
        part.half()
    sd.save_diffusers(model, overwrite=True)
    write_collection(collection_files(make_artists(4), SUBJECTS[:4], per_pair=1, size=size, numbered=False),
                     work / "wikiart")
    write_shards(str(work / "wikiart"), shards, ShardSettings(size=size, min_size=16), workers=0,
                 progress=False, latents=partial(LatentEncoder, str(model)))
    return str(model), str(shards)


def train_rows(args: argparse.Namespace, work: Path) -> list[dict]:
    from creative_painting.training.memory import estimate_training

    model, shards = prepare(work, args.tiny, args.size)
    rows = []
    for batch in args.batches:
        started = time.perf_counter()
        try:
            with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
                row = pool.submit(one_batch, model, shards, str(work / f"run-{batch}"), batch, args.steps,
                                  args.size).result()
        except Exception as e:  # out of memory ends the search: the batch before it is the largest
            row = {"failed": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:160]}
        shutil.rmtree(work / f"run-{batch}", ignore_errors=True)  # its last checkpoint: 10 GB at full size
        estimate = estimate_training(config(model, shards, "-", batch, args.steps, args.size),
                                     device="cuda" if args.cuda else "cpu")
        row |= {"batch": batch, "seconds": round(time.perf_counter() - started, 1),
                "estimate_gb": round(estimate.total / 1e9, 2)}
        rows.append(row)
        print(json.dumps(row), flush=True)
        if "failed" in row:
            break
    return rows


def demo_rows(args: argparse.Namespace) -> list[dict]:
    cli = [sys.executable, "-c", "from creative_painting.cli.main import main; raise SystemExit(main())"]
    rows = []
    for device, env in (("gpu", {}), ("cpu", {"CUDA_VISIBLE_DEVICES": ""})):
        started = time.perf_counter()
        try:
            done = subprocess.run([*cli, "demo", "--steps", str(args.demo_steps), "--json", "--no-progress"],
                                  env={**os.environ, **env}, capture_output=True, text=True,
                                  timeout=args.demo_timeout)
            if done.returncode == 0:
                row = {"phases": json.loads(done.stdout.strip().splitlines()[-1])["phases_per_seed"][0]}
            else:
                row = {"failed": done.stderr[-300:]}
        except subprocess.TimeoutExpired:
            row = {"failed": f"did not finish in {args.demo_timeout} s"}
        row |= {"device": device, "seconds": round(time.perf_counter() - started, 1)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="the tiny model: rehearse the script on a CPU")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--batches", type=int, nargs="+", default=[8, 16, 32, 64, 128])
    parser.add_argument("--steps", type=int, default=6, help="steps a batch; the first 2 are warm-up")
    parser.add_argument("--demo-steps", type=int, default=100, help="`demo --steps`: base, stages 1 and 2")
    parser.add_argument("--demo-timeout", type=int, default=270)
    parser.add_argument("--parts", nargs="+", choices=["train", "demo"], default=["train", "demo"],
                        help="one at a time fits a 10-minute command")
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args()

    import torch

    args.cuda = torch.cuda.is_available()
    threads = torch.get_num_threads()
    device = torch.cuda.get_device_name() if args.cuda else f"CPU, {threads} threads (a rehearsal)"
    print(f"device: {device}", flush=True)
    train, demo = [], []
    if "train" in args.parts:
        # Checkpoints (10 GB at full size) at memory speed where /dev/shm has room (containers: often 64 MB)
        shm = os.access("/dev/shm", os.W_OK) and shutil.disk_usage("/dev/shm").free > 24e9
        with tempfile.TemporaryDirectory(dir="/dev/shm" if shm else None) as work:
            train = train_rows(args, Path(work))
    done = [r for r in train if "failed" not in r]
    if done:
        best = max(done, key=lambda r: r["samples_per_second"])
        speed = best["samples_per_second"]
        print(f"largest batch {done[-1]['batch']}; best {speed:.1f} samples/s at batch {best['batch']} "
              f"({speed / ANCHOR:.2f}x MosaicML's {ANCHOR:.0f}/s per A100), "
              f"peak {best['peak_mib'] / 1024:.1f} GiB", flush=True)
    if "demo" in args.parts:
        demo = demo_rows(args)
    if demo and all("failed" not in r for r in demo):
        print(f"demo: GPU {demo[0]['seconds']:.0f} s, CPU {demo[1]['seconds']:.0f} s "
              f"(GPU/CPU speed {demo[1]['seconds'] / demo[0]['seconds']:.2f}x)")
    if args.json:
        Path(args.json).write_text(json.dumps({"device": device, "train": train, "demo": demo}, indent=1))


if __name__ == "__main__":
    main()
