"""Our stage-2 training loop against a plain diffusers-style loop: same tiny model, data, batch, precision.

The baseline is the loop of diffusers' `train_text_to_image.py` written out in plain PyTorch, with
the collection decoded into memory beforehand (so it pays nothing for data) and torch's default
AdamW, as there. A second baseline uses the fused AdamW that ours uses, so the ratio against it is
the cost of the rest of ours. Ours is `train()` with its defaults (accelerate, fused AdamW,
step-addressed batches read from the shards by 2 loader workers, checkpoint and grid at the end,
which its samples/s leaves out, as it leaves out 2 warm-up steps). Each run is its own process, so
peak memory (RSS on the CPU, allocated memory on a GPU; loader workers apart) is per loop. Prints
samples/s, peak memory and the ratios (goal: ours / baseline >= 1.0).

    .venv/bin/python benchmarks/train_throughput.py [--steps 40] [--batch 8] [--size 64] [--width 32] [--rounds 6]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import statistics
import tempfile
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

from diffusers_loop import peak_mib


def _worker_peak_mib() -> float:
    """Peak RSS of the largest finished loader worker. Forked, so most of it is pages shared with the loop."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


Result = tuple[float, float, float]  # samples/s, peak memory of the loop, of its largest loader worker (MiB)


def ours(args, model: str, shards: str, out: str) -> Result:
    from creative_painting.training.config import TrainConfig
    from creative_painting.training.trainer import train

    cfg = TrainConfig(model=model, data=shards, output_dir=out, stage=2, text_encoder_init="pretrained",
                      resolution=args.size, batch_size=args.batch, max_steps=args.steps, learning_rate=1e-4,
                      mixed_precision=args.precision, caption_dropout=0.1, checkpoint_every=10**9,
                      validate_every=10**9, validation_artists=["x"], validation_prompts=["y"], validation_steps=2,
                      num_workers=args.workers, export=False)
    result = train(cfg.validate(), resume=False, progress=False)
    return result["samples_per_second"], peak_mib(), _worker_peak_mib()


def baseline(args, model: str, shards: str, out: str, fused: bool = False) -> Result:
    """diffusers' train_text_to_image.py loop (`diffusers_loop.py`): torch's default AdamW as there, or with
    `fused=True` the fused AdamW that ours uses, which isolates the cost of everything else ours does."""
    from diffusers_loop import LoopSettings, run

    settings = LoopSettings(stage=2, batch=args.batch, steps=args.steps, size=args.size, precision=args.precision,
                            fused=fused)
    return (*run(settings, model, shards), 0.0)


LOOPS = {"baseline": baseline, "baseline, fused AdamW": partial(baseline, fused=True), "ours": ours}


def _run(name: str, args, model: str, shards: str, out: str) -> Result:
    """One loop in a fresh process (its own peak memory); a crash there is raised here, not waited on."""
    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(LOOPS[name], args, model, shards, out).result()


def main() -> None:
    from creative_painting.training.config import TrainConfig

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--width", type=int, default=32, help="U-Net width of the tiny model")
    parser.add_argument("--precision", default="no", choices=("no", "fp16", "bf16"))
    parser.add_argument("--workers", type=int, default=TrainConfig.num_workers,
                        help="data loader workers of our loop (default: the trainer's)")
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()

    from creative_painting.models import build_model, tiny_configs
    from creative_painting.wikiart.shards import ShardSettings, write_shards
    from creative_painting.wikiart.synthetic import SUBJECTS, collection_files, make_artists, write_collection

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = collection_files(make_artists(6), SUBJECTS[:5], per_pair=4, size=args.size, numbered=False)
        write_collection(files, root / "wikiart")
        write_shards(str(root / "wikiart"), root / "shards", ShardSettings(size=args.size, min_size=16), workers=0,
                     progress=False)
        configs = tiny_configs(args.width)
        configs.unet["sample_size"] = args.size // 8
        model = str(build_model(configs).save_single_file(root / "tiny.safetensors"))
        runs: dict[str, list[Result]] = {name: [] for name in LOOPS}
        names = list(LOOPS)
        for r in range(args.rounds):  # interleaved, each loop first in turn: machine noise hits all alike
            for name in names[r % len(names):] + names[: r % len(names)]:
                runs[name].append(_run(name, args, model, str(root / "shards"), str(root / f"{name}-{r}")))

    speed = {name: statistics.median(r[0] for r in results) for name, results in runs.items()}
    memory = {name: max(r[1] for r in results) for name, results in runs.items()}
    print(f"stage-2 step, tiny U-Net width {args.width}, {args.size} px, batch {args.batch}, precision {args.precision}, "
          f"{args.steps} steps x {args.rounds} rounds (median, min-max), our loop with {args.workers} loader workers")
    for name, results in runs.items():
        low, high = min(r[0] for r in results), max(r[0] for r in results)
        workers = max(r[2] for r in results)
        print(f"  {name:22s}: {speed[name]:6.1f} ({low:.1f}-{high:.1f}) samples/s   peak memory {memory[name]:6.1f} MiB"
              + (f" (+ {workers:.0f} MiB per loader worker, forked: mostly shared)" if workers else ""))
    for name in ("baseline", "baseline, fused AdamW"):
        print(f"  ratio ours / {name}: {speed['ours'] / speed[name]:.3f} (speed), "
              f"{memory['ours'] / memory[name]:.3f} (memory)")


if __name__ == "__main__":
    main()
