"""Painting speed on a GPU: eager, CUDA graphs alone, `--compile`, and diffusers' pipeline, in one run.

The full SD v1 architecture with random weights (nothing downloaded), fp16. Every row is end to end: text
encoding, the sampler's steps with guidance and the VAE decode to PIL images, as `paint` does. Ours and
diffusers' `StableDiffusionPipeline` (built from the same components) run in rotated rounds; each row is a
median. `--compile` is what `paint --compile` places: fused QKV, the U-Net and VAE decoder through
torch.compile, and the guided step replayed as a CUDA graph; "graphs" is the last without compilation.

First-image times: from placing the loaded model to the first image, with an empty compile cache in this
process (cold) and, in a fresh process, with the cache this one wrote (warm).

Accuracy: ours (eager) against the pipeline from the same initial latents, bit for bit; graphs alone against
eager, bit for bit; `--compile`'s final latents against eager's, same seed, relative L2.

Rows are skipped, and say so, when less than their cost is left of `--budget` seconds.

    python benchmarks/gpu_speed.py [--budget 300] [--json out.json]
    python benchmarks/gpu_speed.py --device cpu --tiny --size 64 --steps 4 --preset-steps 8   # a rehearsal
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

PROMPT = "urbanization of china by Vincent van Gogh"


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--tiny", action="store_true", help="the tiny model: rehearse the script on a CPU")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument(
        "--preset-steps", type=int, default=200, help="the paper's preset: DDIM eta 1, guidance 5"
    )
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--budget", type=float, default=300.0, help="seconds; rows that would not fit are skipped"
    )
    parser.add_argument("--json", default=None)
    parser.add_argument("--warm-child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def build(args: argparse.Namespace):
    from creative_painting.models import build_model, bundled_configs, tiny_configs

    return build_model(tiny_configs() if args.tiny else bundled_configs(), seed=0)


def placed(model, args: argparse.Namespace, backend: str = "torch"):
    from creative_painting.models import place

    dtype = torch.float16 if args.device.startswith("cuda") else torch.float32
    return place(model, torch.device(args.device), dtype, backend)


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def first_image(args: argparse.Namespace, model, backend: str) -> tuple[object, float]:
    """Place `model` with `backend` and paint one image: the time a user waits for the first picture."""
    from creative_painting.painting import Cell, paint
    from creative_painting.sampling import SamplingSettings

    start = time.perf_counter()
    model = placed(model, args, backend)
    paint(
        model,
        [Cell.single(PROMPT, 0)],
        SamplingSettings("ddim", args.steps, 7.5, 0.0, args.size, args.size),
        batch_size=1,
    )
    sync(args.device)
    return model, time.perf_counter() - start


def warm_child(args: argparse.Namespace) -> None:
    _, seconds = first_image(args, build(args), "compile")
    print(json.dumps({"warm_first_image_s": seconds}))


def main() -> None:
    args = options()
    if args.warm_child:
        return warm_child(args)
    started = time.perf_counter()
    # An empty compile cache: the cold start is cold.
    cache = Path(tempfile.mkdtemp(prefix="gpu-speed-cache-"))
    os.environ.update(
        CREATIVE_PAINTING_CACHE=str(cache),
        TORCHINDUCTOR_CACHE_DIR=str(cache / "inductor"),
        TRITON_CACHE_DIR=str(cache / "triton"),
    )
    torch.backends.cudnn.benchmark = False  # reruns bit-identical
    from diffusers import StableDiffusionPipeline

    from creative_painting.models.graphs import CudaGraphs, recomputed
    from creative_painting.painting import Cell, paint
    from creative_painting.painting import painter as painter_module
    from creative_painting.sampling import SamplingSettings, get_sampler, guided_denoiser, sample

    cuda = args.device.startswith("cuda")
    name = torch.cuda.get_device_name() if cuda else "CPU"
    import diffusers

    print(
        f"{name}; torch {torch.__version__}, diffusers {diffusers.__version__}; "
        f"{'tiny model' if args.tiny else 'full SD v1, random weights'}, {'fp16' if cuda else 'fp32'}",
        flush=True,
    )
    results: dict = {
        "device": name,
        "dtype": "fp16" if cuda else "fp32",
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "rows": {},
        "checks": {},
        "skipped": [],
    }

    def save() -> None:
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2))

    def left() -> float:
        return args.budget - (time.perf_counter() - started)

    built = build(args)
    model, eager_first = first_image(args, copy.deepcopy(built), "torch")
    results["checks"]["eager_first_image_s"] = eager_first
    print(
        f"model built and placed, eager first image {eager_first:.1f} s "
        f"({time.perf_counter() - started:.0f} s in)",
        flush=True,
    )
    pipe = StableDiffusionPipeline(
        vae=model.vae,
        text_encoder=model.text_encoder,
        tokenizer=model.tokenizer,
        unet=model.unet,
        scheduler=get_sampler("ddim").make(model.scheduler_config),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)

    def ours(m, settings, batch):
        cells = [Cell.single(PROMPT, seed) for seed in range(batch)]
        return lambda: paint(m, cells, settings, batch_size=batch)

    def theirs(settings, batch):
        def run():
            generator = [torch.Generator("cpu").manual_seed(seed) for seed in range(batch)]
            pipe(
                [PROMPT] * batch,
                num_inference_steps=settings.steps,
                guidance_scale=settings.scale,
                eta=settings.eta or 0.0,
                height=settings.height,
                width=settings.width,
                generator=generator,
            )

        return run

    rows = {
        "50": (SamplingSettings("ddim", args.steps, 7.5, 0.0, args.size, args.size), 1),
        "preset": (SamplingSettings("ddim", args.preset_steps, 5.0, 1.0, args.size, args.size), 1),
        f"batch{args.batch}": (
            SamplingSettings("ddim", args.steps, 7.5, 0.0, args.size, args.size),
            args.batch,
        ),
    }

    def timed(ways: dict, rounds: int, warmup: bool) -> dict[str, float]:
        """Median seconds of each way, rounds rotated so that drift hits every way alike; a warm-up round
        first (new shapes: cuBLAS's and the allocator's first calls)."""
        times: dict[str, list[float]] = {way: [] for way in ways}
        names = list(ways)
        for r in range(0 if warmup else 1, rounds + 1):
            for way in names[r % len(names) :] + names[: r % len(names)]:
                sync(args.device)
                start = time.perf_counter()
                ways[way]()
                sync(args.device)
                if r:
                    times[way].append(time.perf_counter() - start)
        return {way: statistics.median(t) for way, t in times.items()}

    def measure(row: str, ways: dict, rounds: int, cost: float, warmup: bool = True) -> None:
        if left() < cost:
            results["skipped"].append(
                f"{row}: {', '.join(ways)} ({left():.0f} s left, needs about {cost:.0f})"
            )
            print("skipped", results["skipped"][-1], flush=True)
            return
        for way, seconds in timed(ways, rounds, warmup).items():
            results["rows"].setdefault(row, {})[way] = seconds
            print(f"  {row:10s} {way:10s} {seconds:7.3f} s", flush=True)
        save()

    def section(title: str):
        """Run a part; a failure is reported and the run goes on to the next part."""
        import contextlib
        import traceback

        @contextlib.contextmanager
        def guarded():
            try:
                yield
            except Exception:  # noqa: BLE001 - a benchmark reports what broke and measures the rest
                results.setdefault("errors", []).append(f"{title}: {traceback.format_exc()[-1500:]}")
                print(results["errors"][-1], flush=True)

        return guarded()

    one = eager_first  # about one 50-step image plus placing: the unit of the cost estimates
    batch_row = f"batch{args.batch}"
    preset_cost = one * args.preset_steps / args.steps
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    with section("eager 50"):
        measure(
            "50",
            {"eager": ours(model, *rows["50"]), "diffusers": theirs(*rows["50"])},
            args.rounds,
            cost=2 * (args.rounds + 1) * one,
        )
        if cuda:
            results["checks"]["eager_peak_memory_gib"] = torch.cuda.max_memory_allocated() / 2**30

    # Correctness of the eager path: the pipeline from our initial latents, bit for bit.
    noise = torch.randn(1, 4, args.size // 8, args.size // 8, generator=torch.Generator().manual_seed(0))
    noise = noise.to(model.device, model.dtype)
    cond = painter_module.encode_text(model, [PROMPT])
    uncond = painter_module.encode_text(model, [""])
    spec = get_sampler("ddim")

    def our_latents(denoise):
        with torch.inference_mode():
            return sample(denoise, spec.make(model.scheduler_config), spec, noise, args.steps, eta=0.0)

    eager_latents = our_latents(guided_denoiser(model.unet, cond, uncond, 7.3))
    with section("eager against diffusers"), torch.inference_mode():
        pipe.scheduler = spec.make(model.scheduler_config)
        theirs_latents = pipe(
            prompt_embeds=cond,
            negative_prompt_embeds=uncond,
            latents=noise.clone(),
            num_inference_steps=args.steps,
            guidance_scale=7.3,
            eta=0.0,
            height=args.size,
            width=args.size,
            output_type="latent",
        ).images
        results["checks"]["eager_equals_diffusers_bitwise"] = bool(torch.equal(eager_latents, theirs_latents))
        print(
            "eager == diffusers from the same latents, bit for bit:",
            torch.equal(eager_latents, theirs_latents),
            flush=True,
        )

    # CUDA graphs alone (the eager U-Net): bit for bit, and their speed.
    graphed = copy.copy(model)
    with section("graphs"):
        graphed.graphs = CudaGraphs(None if cuda else recomputed)
        graph_latents = our_latents(guided_denoiser(model.unet, cond, uncond, 7.3, graphed.graphs))
        results["checks"]["graphs_equal_eager_bitwise"] = bool(torch.equal(graph_latents, eager_latents))
        results["checks"]["graphs_rel_error"] = relative(graph_latents, eager_latents)
        print(
            f"graphs == eager, bit for bit: {torch.equal(graph_latents, eager_latents)} "
            f"(relative {results['checks']['graphs_rel_error']:.2e})",
            flush=True,
        )
        measure("50", {"graphs": ours(graphed, *rows["50"])}, args.rounds, cost=(args.rounds + 1) * one)

    # --compile: the cold first image (it compiles here), its rows and accuracy, then a warm first image in a
    # fresh process.
    compiled = None
    with section("compile"):
        if left() < 150:
            raise RuntimeError(f"skipped: {left():.0f} s left")
        compiled, cold = first_image(args, copy.deepcopy(built), "compile")
        results["checks"]["compile_cold_first_image_s"] = cold
        print(f"--compile: cold first image {cold:.1f} s", flush=True)
        measure("50", {"compile": ours(compiled, *rows["50"])}, args.rounds, cost=(args.rounds + 1) * one / 2)
        with torch.inference_mode():
            c_cond, c_uncond = (painter_module.encode_text(compiled, [text]) for text in (PROMPT, ""))
            denoise = guided_denoiser(compiled.unet_runner, c_cond, c_uncond, 7.3, compiled.graphs)
        results["checks"]["compile_rel_error"] = relative(our_latents(denoise), eager_latents)
        print(
            f"--compile's final latents against eager's: relative "
            f"{results['checks']['compile_rel_error']:.2e}",
            flush=True,
        )
        measure("preset", {"compile": ours(compiled, *rows["preset"])}, 3, cost=3 * preset_cost / 2)
        if cuda:
            results["checks"]["compile_peak_memory_gib"] = torch.cuda.max_memory_allocated() / 2**30
    with section("warm first image"):
        if left() < 90:
            raise RuntimeError(f"skipped: {left():.0f} s left")
        child = [
            sys.executable,
            __file__,
            "--warm-child",
            "--device",
            args.device,
            "--size",
            str(args.size),
            "--steps",
            str(args.steps),
        ] + (["--tiny"] if args.tiny else [])
        out = subprocess.run(child, capture_output=True, text=True, timeout=max(left() - 30, 30))
        if out.returncode:
            raise RuntimeError(out.stderr[-1500:])
        warm = json.loads(out.stdout.strip().splitlines()[-1])["warm_first_image_s"]
        results["checks"]["compile_warm_first_image_s"] = warm
        print(f"--compile: warm first image (fresh process) {warm:.1f} s", flush=True)

    # The longer rows, as far as the budget goes.
    with section("preset"):
        measure(
            "preset",
            {"eager": ours(model, *rows["preset"]), "diffusers": theirs(*rows["preset"])},
            2,
            cost=4 * preset_cost,
            warmup=False,
        )
        if graphed.graphs is not None:
            measure(
                "preset",
                {"graphs": ours(graphed, *rows["preset"])},
                2,
                cost=2 * preset_cost / 2,
                warmup=False,
            )
    with section("batch"):
        measure(
            batch_row,
            {"eager": ours(model, *rows[batch_row]), "diffusers": theirs(*rows[batch_row])},
            2,
            cost=6 * one * args.batch / 2,
        )
        if compiled is not None:
            measure(
                batch_row,
                {"compile": ours(compiled, *rows[batch_row])},
                2,
                cost=results["checks"].get("compile_cold_first_image_s", 100) * 0.8 + one * args.batch,
            )
    save()
    report(results, args)


def relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a.float() - b.float()).norm() / b.float().norm()).item()


def report(results: dict, args: argparse.Namespace) -> None:
    ways = ["eager", "graphs", "compile", "diffusers"]
    print(
        f"\n{results['device']}: {args.size}x{args.size}, {results['dtype']}, end to end, median seconds "
        "(batch rows: images/s)"
    )
    print(f"{'row':34s}" + "".join(f"{w:>11s}" for w in ways) + f"{'diffusers/compile':>19s}")
    labels = {
        "50": f"DDIM {args.steps}, guidance 7.5, batch 1",
        "preset": f"paper preset: DDIM {args.preset_steps}, eta 1, g 5",
        f"batch{args.batch}": f"batch {args.batch}, {args.steps} steps (images/s)",
    }
    for row, label in labels.items():
        values = results["rows"].get(row, {})
        if row.startswith("batch"):
            values = {w: args.batch / s for w, s in values.items()}
        cells = "".join(f"{values[w]:11.3f}" if w in values else f"{'-':>11s}" for w in ways)
        ratio = (
            (
                values["diffusers"] / values["compile"]
                if not row.startswith("batch")
                else values["compile"] / values["diffusers"]
            )
            if {"compile", "diffusers"} <= values.keys()
            else None
        )
        print(f"{label:34s}{cells}{(f'{ratio:.2f}x' if ratio else '-'):>19s}")
    for key, value in results["checks"].items():
        print(f"{key}: {value:.3g}" if isinstance(value, float) else f"{key}: {value}")
    for line in results["skipped"]:
        print("skipped:", line)


if __name__ == "__main__":
    main()
