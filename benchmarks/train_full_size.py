"""Full-size SD v1 retraining on this machine: stages 1 and 2, ours against diffusers' loop, per option set and batch.

The full SD v1 architecture (U-Net 860M, text encoder 123M, VAE 84M parameters) with random weights, saved
as a diffusers folder in fp16 as most SD v1 weights are published, trains on 256 px pixel shards of a
synthetic collection (the VAE encodes every step, as in diffusers' `train_text_to_image.py`). Each row is
one option set at one batch size; ours (`train()`, with its defaults otherwise: accelerate, fused AdamW,
2 loader workers, a checkpoint at the end) and the baseline (`diffusers_loop.py`, the script's loop with the
same options) each run in a fresh process, so peak RSS is per loop. Both leave 2 warm-up steps out of
the timing. Our estimate (`training/memory.py`) is printed beside the measured peaks.

With `--repeats N` each side runs N times, alternating which goes first, and a row shows the medians: one
timed step moves by about 10 % on 2 shared cores, and the peak by about 50 MB. Rows are printed as they
finish and written to `--json`, so a long run that is stopped keeps its rows; rows already there are topped
up to N runs a side. The table ends with a summary: the geometric mean and range of the speed ratios, and
the range of the peak ratios.

    .venv/bin/python benchmarks/train_full_size.py [--steps 3] [--size 256] [--batches 1 2 4] [--repeats 1]
        [--options plain ckpt] [--stages 2 1] [--work folder] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import shutil
import statistics
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

# (stage, name, options): what a user would try, from plain to the 24 GB pick, each at every batch of --batches.
SIDES = ("ours", "diffusers")
OPTION_SETS = [
    (2, "plain", {}),  # fp32 AdamW, no checkpointing: 16 GB of weights, gradients and states alone
    (2, "ckpt", {"checkpointing": True}),
    (2, "ckpt+8bit+bf16+ema", {"checkpointing": True, "precision": "bf16", "adam8bit": True, "ema": True}),
    (1, "plain", {}),
    (1, "ckpt+bf16", {"checkpointing": True, "precision": "bf16"}),
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
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 2, 4],
                        help="every option set at each of these batches")
    parser.add_argument("--stages", type=int, nargs="+", default=[2, 1])
    parser.add_argument("--work", help="folder for the model and shards, kept for the next run (default: temporary)")
    parser.add_argument("--json", help="write the rows here as they finish; rows already there are kept")
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs a side for each row, shown as medians; rows in --json are topped up")
    parser.add_argument("--options", nargs="+", help="only these option sets (default: all)")
    args = parser.parse_args()

    import torch

    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU, {torch.get_num_threads()} threads"
    loaded = json.loads(Path(args.json).read_text()) if args.json and Path(args.json).is_file() else []
    rows = {(row["stage"], row["options"], row["batch"]): row for row in loaded}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work or tmp)
        work.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        model, shards = _prepare(work, args.size)
        print(f"full-size SD v1 (fp16 diffusers folder), {args.size} px, {args.steps} steps a run "
              f"(2 warm-up), on {device}; prepared in {time.perf_counter() - started:.0f} s", flush=True)
        print(HEADER, flush=True)
        print("|---" * (HEADER.count("|") - 1) + "|", flush=True)
        for row in rows.values():  # the estimate as the code gives it now
            row["estimate_gb"] = estimate_gb(LoopSettings(**row["settings"]), model)
            print(_format(row), "(earlier run)", flush=True)
        n = 0
        for stage, name, options in OPTION_SETS:
            if stage not in args.stages or (args.options and name not in args.options):
                continue
            for batch in args.batches:
                s = LoopSettings(stage=stage, batch=batch, steps=args.steps, size=args.size, **options)
                new = {"stage": stage, "options": name, "batch": batch, "settings": asdict(s), "ours": "",
                       "diffusers": ""}
                row = rows.setdefault((stage, name, batch), new)
                s = LoopSettings(**row["settings"])  # a row topped up keeps its settings
                runs = row.setdefault("runs", {who: [row[who]] if row[who] else [] for who in SIDES})
                while not _failed(row) and min(map(len, runs.values())) < args.repeats:
                    order = [("ours", ours), ("diffusers", run)][:: 1 if n % 2 == 0 else -1]  # alternate
                    n += 1
                    for who, fn in order:
                        if len(runs[who]) >= args.repeats:
                            continue
                        folder = str(work / f"run-{stage}-{name}-{batch}")
                        extra = [folder] if who == "ours" else []
                        runs[who].append(_in_fresh_process(fn, s, model, shards, *extra))
                        shutil.rmtree(folder, ignore_errors=True)
                        row[who] = _median(runs[who])
                    row["estimate_gb"] = estimate_gb(s, model)
                    print(_format(row), flush=True)
                    if args.json:
                        Path(args.json).write_text(json.dumps(list(rows.values()), indent=1))
        print(_summary(list(rows.values())), flush=True)


def _median(runs: list) -> list[float] | str:
    """(samples/s, peak MiB), each the median over the runs; a failed run (out of memory) is the answer."""
    failed = [r for r in runs if isinstance(r, str)]
    return failed[0] if failed else [statistics.median(r[i] for r in runs) for i in (0, 1)]


def _failed(row: dict) -> bool:
    return any(isinstance(row[who], str) and row[who] for who in SIDES)


HEADER = ("| stage | options | batch | runs a side | ours s/step | ours samples/s | diffusers samples/s "
          "| ours / diffusers | ours peak GB | diffusers peak GB | peak ratio | our estimate GB |")


def _gb(mib: float) -> str:
    return f"{mib * 2**20 / 1e9:.2f}"


def _peak(row: dict, who: str) -> str:
    """The median peak in GB, and the range of the runs' peaks where there are several."""
    if isinstance(row[who], str):
        return row[who]
    peaks = [r[1] for r in row.get("runs", {}).get(who, []) if not isinstance(r, str)]
    spread = f" ({_gb(min(peaks))}-{_gb(max(peaks))})" if len(peaks) > 1 else ""
    return _gb(row[who][1]) + spread


def _format(row: dict) -> str:
    """A row as docs/benchmarks.md shows it: medians over the runs, a failed run's message in its place."""
    ours_r, base_r = row["ours"], row["diffusers"]
    both = not isinstance(ours_r, str) and not isinstance(base_r, str)
    runs = min((len(r) for r in row["runs"].values()), default=1) if "runs" in row else 1
    estimate = f"{row['estimate_gb']:.1f}"
    if not isinstance(ours_r, str):
        estimate += f" ({row['estimate_gb'] * 1e9 / (ours_r[1] * 2**20):.2f}x)"  # against our measured peak
    cells = [str(row["stage"]), row["options"], str(row["batch"]), str(runs),
             "" if isinstance(ours_r, str) else f"{row['batch'] / ours_r[0]:.1f}",
             ours_r if isinstance(ours_r, str) else f"{ours_r[0]:.3f}",
             base_r if isinstance(base_r, str) else f"{base_r[0]:.3f}",
             f"{ours_r[0] / base_r[0]:.2f}x" if both else "", _peak(row, "ours"), _peak(row, "diffusers"),
             f"{ours_r[1] / base_r[1]:.3f}" if both else "",
             estimate]
    return "| " + " | ".join(cells) + " |"


def _summary(rows: list[dict]) -> str:
    """Ours against the loop, over the rows where both ran: speed ratios' geometric mean and range, peaks'."""
    done = [r for r in rows if not isinstance(r["ours"], str) and not isinstance(r["diffusers"], str)]
    if not done:
        return "no row where both ran"
    speed = [r["ours"][0] / r["diffusers"][0] for r in done]
    peak = [r["ours"][1] / r["diffusers"][1] for r in done]
    mean = statistics.geometric_mean(speed)
    return (f"{len(done)} rows: speed ours / diffusers geometric mean {mean:.2f}x "
            f"({min(speed):.2f}x-{max(speed):.2f}x); peak ratio {min(peak):.3f}-{max(peak):.3f}, "
            f"ours above the loop in {sum(p > 1 for p in peak)} rows")


if __name__ == "__main__":
    sys.exit(main())
