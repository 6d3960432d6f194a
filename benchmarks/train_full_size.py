"""Full-size SD v1 retraining on this machine: stages 1 and 2, ours against diffusers' loop, per option set and batch.

The full SD v1 architecture (U-Net 860M, text encoder 123M, VAE 84M parameters) with random weights, saved
as a diffusers folder in fp16 as most SD v1 weights are published, trains on 256 px pixel shards of a
synthetic collection (the VAE encodes every step, as in diffusers' `train_text_to_image.py`). Each row is
one option set at one batch size; ours (`train()`, with its defaults otherwise: accelerate, fused AdamW,
2 loader workers, a checkpoint at the end) and the baseline (`diffusers_loop.py`, the script's loop with the
same options) each run in a fresh process, so peak RSS is per loop. Both leave 2 warm-up steps out of
the timing. Our estimate (`training/memory.py`) is printed beside the measured peaks.

Rows are printed as they finish and written to `--json`, so a long run that is stopped keeps its rows.

    .venv/bin/python benchmarks/train_full_size.py [--steps 3] [--size 256] [--batches 1 2 4] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

from diffusers_loop import LoopSettings, peak_mib, run

BITSANDBYTES = Path(sys.prefix) / "opt" / "bitsandbytes"  # `make install` puts it beside the venv
if BITSANDBYTES.is_dir():
    sys.path.append(str(BITSANDBYTES))  # spawned runs inherit the path

# (stage, name, options, batches): what a user would try, from plain to the 24 GB pick. A run takes minutes
# here (loading, 3 steps, our end-of-run checkpoint of 12 GB), so each option set runs at its telling batches.
OPTION_SETS = [
    (2, "plain", {}, (1,)),  # fp32 AdamW, no checkpointing: 16 GB of weights, gradients and states alone
    (2, "ckpt", {"checkpointing": True}, (1, 4)),
    (2, "ckpt+8bit+bf16+ema", {"checkpointing": True, "precision": "bf16", "adam8bit": True, "ema": True}, (1, 2)),
    (1, "plain", {}, (1, 4)),
    (1, "ckpt+bf16", {"checkpointing": True, "precision": "bf16"}, (1, 4)),
]


def ours(s: LoopSettings, model: str, shards: str, out: str) -> tuple[float, float]:
    from creative_painting.training.config import TrainConfig
    from creative_painting.training.trainer import train

    cfg = TrainConfig(model=model, data=shards, output_dir=out, stage=s.stage,
                      text_encoder_init="scratch" if s.stage == 1 else "pretrained", resolution=s.size,
                      batch_size=s.batch, max_steps=s.steps, learning_rate=1e-5, mixed_precision=s.precision,
                      gradient_checkpointing=s.checkpointing, use_8bit_adam=s.adam8bit,
                      ema_decay=0.9999 if s.ema else 0.0, checkpoint_every=10**9, validate_every=10**9,
                      validation_artists=["x"], validation_prompts=["y"], validation_steps=2, export=False)
    result = train(cfg.validate(), resume=False, progress=False)
    return result["samples_per_second"], peak_mib()


def _in_fresh_process(fn, *args) -> tuple[float, float] | str:
    try:
        with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
            return pool.submit(fn, *args).result()
    except Exception as e:  # a killed process (out of memory) is a row that says so, not a lost table
        return f"failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:120]


def estimate_gb(s: LoopSettings, model: str) -> float:
    from creative_painting.training.config import TrainConfig
    from creative_painting.training.memory import estimate_training

    cfg = TrainConfig(model=model, data="-", output_dir="-", stage=s.stage, resolution=s.size, batch_size=s.batch,
                      mixed_precision=s.precision, gradient_checkpointing=s.checkpointing,
                      use_8bit_adam=s.adam8bit, ema_decay=0.9999 if s.ema else 0.0)
    return estimate_training(cfg).total / 1e9


def _prepare(work: Path, size: int) -> tuple[str, str]:
    from creative_painting.models import build_model, bundled_configs
    from creative_painting.wikiart.shards import ShardSettings, write_shards
    from creative_painting.wikiart.synthetic import SUBJECTS, collection_files, make_artists, write_collection

    model, shards = work / "sd-v1-fp16", work / f"shards-{size}"
    if not (model / "model_index.json").is_file():
        sd = build_model(bundled_configs(), seed=0)
        for part in (sd.unet, sd.text_encoder, sd.vae):
            part.half()
        sd.save_diffusers(model, overwrite=True)
    if not shards.is_dir():
        files = collection_files(make_artists(4), SUBJECTS[:4], per_pair=2, size=size, numbered=False)
        write_collection(files, work / "wikiart")
        write_shards(str(work / "wikiart"), shards, ShardSettings(size=size, min_size=16), workers=0, progress=False)
    return str(model), str(shards)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3, help="steps per run; the first 2 are warm-up")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 2, 4], help="only these of each set's batches")
    parser.add_argument("--stages", type=int, nargs="+", default=[2, 1])
    parser.add_argument("--work", help="folder for the model and shards, kept for the next run (default: temporary)")
    parser.add_argument("--json", help="write the rows here as they finish; rows already there are kept, not rerun")
    args = parser.parse_args()

    import torch

    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU, {torch.get_num_threads()} threads"
    rows = json.loads(Path(args.json).read_text()) if args.json and Path(args.json).is_file() else []
    done = {(row["stage"], row["options"], row["batch"]) for row in rows}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work or tmp)
        work.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        model, shards = _prepare(work, args.size)
        print(f"full-size SD v1 (fp16 diffusers folder), {args.size} px, {args.steps} steps a run "
              f"(2 warm-up), on {device}; prepared in {time.perf_counter() - started:.0f} s", flush=True)
        print("| stage | options | batch | ours s/step | ours samples/s | diffusers samples/s | speed ratio "
              "| ours peak GB | diffusers peak GB | memory ratio | estimate GB |", flush=True)
        print("|---|---|---|---|---|---|---|---|---|---|---|", flush=True)
        for row in rows:  # the estimate as the code gives it now
            row["estimate_gb"] = estimate_gb(LoopSettings(**row["settings"]), model)
            print(_format(row), "(earlier run)", flush=True)
        n = 0
        for stage, name, options, batches in OPTION_SETS:
            if stage not in args.stages:
                continue
            for batch in batches:
                if batch not in args.batches or (stage, name, batch) in done:
                    continue
                s = LoopSettings(stage=stage, batch=batch, steps=args.steps, size=args.size, **options)
                order = [("ours", ours), ("diffusers", run)][:: 1 if n % 2 == 0 else -1]  # alternate who goes first
                n += 1
                result = {}
                for who, fn in order:
                    extra = (str(work / f"run-{stage}-{name}-{batch}"),) if who == "ours" else ()
                    result[who] = _in_fresh_process(fn, s, model, shards, *extra)
                    if extra:
                        import shutil

                        shutil.rmtree(extra[0], ignore_errors=True)
                row = {"stage": stage, "options": name, "batch": batch, "estimate_gb": estimate_gb(s, model),
                       "settings": asdict(s), **{who: r for who, r in result.items()}}
                rows.append(row)
                print(_format(row), flush=True)
                if args.json:
                    Path(args.json).write_text(json.dumps(rows, indent=1))


def _format(row: dict) -> str:
    ours_r, base_r = row["ours"], row["diffusers"]
    cells = [str(row["stage"]), row["options"], str(row["batch"])]
    if isinstance(ours_r, str):
        cells += [ours_r, "", ""]
    else:
        cells += [f"{row['batch'] / ours_r[0]:.1f}", f"{ours_r[0]:.3f}", ""]
    cells[-1] = base_r if isinstance(base_r, str) else f"{base_r[0]:.3f}"
    both = not isinstance(ours_r, str) and not isinstance(base_r, str)
    cells.append(f"{ours_r[0] / base_r[0]:.2f}x" if both else "")
    cells.append("" if isinstance(ours_r, str) else f"{ours_r[1] * 2**20 / 1e9:.1f}")
    cells.append("" if isinstance(base_r, str) else f"{base_r[1] * 2**20 / 1e9:.1f}")
    cells.append(f"{ours_r[1] / base_r[1]:.2f}" if both else "")
    cells.append(f"{row['estimate_gb']:.1f}")
    return "| " + " | ".join(cells) + " |"


if __name__ == "__main__":
    sys.exit(main())
