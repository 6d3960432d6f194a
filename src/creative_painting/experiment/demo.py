"""The CPU experiment: can retraining teach an artist to paint a subject that artist never painted?

A synthetic collection in WikiArt layout (artists with their own palette and brushwork, subjects with
their own shape). A Latin-square hold-out removes some artist x subject pairs from training, so that
every held-out pair's artist and subject both appear in training, but never together. Then: a small
VAE (`train-vae`), a base model standing in for Stable Diffusion, and a retraining recipe on "a painting of a {title} by {artist}". Each model paints
every pair; two judges fixed beforehand (`evaluation.judges`) say whose palette and brushwork, and
which subject, each painting shows. Held-out pairs measure what the paper is about; seen pairs are
reported apart.

The base model's world is a choice (`base_captions`). In "laion" (the default) it learns each artist's
style under other words than WikiArt's name, as SD v1 learned painters' styles from LAION: "a tree, in red
and cyan thin sweeping diagonal strokes", "a tree, style of the painter from Arles", or just "a painting of
a tree". In "subject" it learns subjects only, and no text encoder can steer a style it never tied to text.
"""

from __future__ import annotations

import dataclasses
import io
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from creative_painting.experiment.options import BASE_CAPTIONS, RECIPES
from creative_painting.seeds import derive_seed
from creative_painting.training.config import TrainConfig, VaeConfig

if TYPE_CHECKING:  # scikit-learn (2 s to import) only when judges are made: `paint` and `studio` import this module
    from creative_painting.experiment.judges import ArtistJudge, SubjectJudge


@dataclasses.dataclass
class DemoSettings:
    """One seed in about 9 minutes on 2 CPU cores (measured; see README)."""

    artists: int = 6
    subjects: int = 6
    held_out: int = 1  # Latin-square diagonals: pair (a, s) is never trained when (s - a) mod subjects < held_out
    copies: int = 8
    size: int = 32
    vae_channels: tuple[int, ...] = (32, 64, 64)  # 32 px -> 8x8 latents: a U-Net step costs a quarter of 16x16
    vae_steps: int = 300
    vae_path: str | None = None  # a trained VAE folder used as it is, as SD's VAE is; None: train one on the collection
    # (vae_channels, vae_steps and vae_batch_size are that training's: unused with a vae_path)
    base_steps: int = 800
    stage1_steps: int = 500
    stage2_steps: int = 1800  # the other recipes get stage1_steps + stage2_steps: the same budget
    learning_rate: float = 1e-3
    text_encoder_learning_rate: float | None = None  # stage 2's text encoder (None: learning_rate)
    snr_gamma: float = 5.0  # Min-SNR: less weight on fine detail, more on layout and palette
    ema_decay: float = 0.995  # U-Net stages; the painted model is the EMA one
    lora_rank: int = 16
    batch_size: int = 16  # base and recipe; the VAE too, unless vae_batch_size
    vae_batch_size: int | None = None
    latents: bool = False  # base and recipe read latents the VAE encoded once, not pixels encoded again every step
    unet: dict = dataclasses.field(default_factory=dict)  # overrides of tiny_configs()'s U-Net (a smaller one)
    text_encoder: dict = dataclasses.field(default_factory=dict)  # and of its text encoder
    samples: int = 4  # paintings per pair, with the same seeds for every pair and model
    sample_steps: int = 20
    recipe: str = "paper"
    base_captions: str = "laion"  # laion: the base knows styles under other words; subject: it knows none
    seed: int = 0


def held_out_pairs(artists: int, subjects: int, diagonals: int) -> set[tuple[int, int]]:
    """(artist, subject) index pairs left out of training: each artist misses `diagonals` subjects, and
    each subject (when artists == subjects) misses as many artists."""
    return {(a, s) for a in range(artists) for s in range(subjects) if (s - a) % subjects < diagonals}


def _split(files: dict[str, bytes]):
    from PIL import Image

    images = [Image.open(io.BytesIO(data)).convert("RGB") for data in files.values()]
    names = [name.split("/")[1] for name in files]
    return images, [n.split("_")[0] for n in names], [n.split("_", 1)[1].rsplit("-", 1)[0] for n in names]


def make_judges(artists, subjects, s: DemoSettings) -> tuple[ArtistJudge, SubjectJudge]:
    """Trained on a separate rendering of every pair (held-out ones included: a judge knows the truth)."""
    from creative_painting.experiment.judges import ArtistJudge, SubjectJudge
    from creative_painting.wikiart.synthetic import collection_files

    files = collection_files(artists, subjects, per_pair=4, size=s.size, numbered=False,
                             seed=derive_seed(s.seed, "judges") % 10**6)
    images, artist_labels, subject_labels = _split(files)
    return (ArtistJudge(images, artist_labels, [a.palette for a in artists], seed=s.seed),
            SubjectJudge(images, subject_labels))


def wikiart_caption(artists, subjects, a: int, j: int) -> str:
    return f"a painting of a {subjects[j]} by {artists[a].name}"


def own_words_caption(artists, subjects, a: int, j: int) -> str:
    """How the "laion" base model learned to address artist a: its palette and strokes in words."""
    from creative_painting.wikiart.synthetic import style_words

    return f"a painting of a {subjects[j]}, {style_words(artists[a])}"


def base_aliases(artists) -> dict[str, list[str]]:
    """The "laion" world's captions for each artist: style words, a web alias, or nothing."""
    from creative_painting.wikiart.synthetic import style_words, web_alias

    return {a.name: [style_words(a), web_alias(i), ""] for i, a in enumerate(artists)}


def paint_pairs(model_path: str, artists, subjects, s: DemoSettings, *, sampler: str = "ddim", steps: int | None = None,
                eta: float | None = 0.0, caption=wikiart_caption):
    """Every pair x `samples` seeds: (images, pairs, U-Net evaluations, seconds)."""
    from creative_painting.models import load
    from creative_painting.painting import Cell, paint
    from creative_painting.sampling import PRESETS

    model = load(model_path).eval()
    settings = dataclasses.replace(PRESETS["paper"], sampler=sampler, steps=steps or s.sample_steps, eta=eta,
                                   width=s.size, height=s.size)  # the paper's guidance scale; checked once, by `paint`
    pairs = [(a, j) for j in range(len(subjects)) for a in range(len(artists)) for _ in range(s.samples)]
    jobs = [Cell.single(caption(artists, subjects, a, j), seed=derive_seed(s.seed, "paint", k % s.samples))
            for k, (a, j) in enumerate(pairs)]
    calls = [0]
    forward = model.unet.forward

    def counted(x, *args, **kwargs):
        calls[0] += x.shape[0]  # one evaluation per image (guidance doubles the batch)
        return forward(x, *args, **kwargs)

    model.unet.forward = counted
    started = time.perf_counter()
    with torch.no_grad():
        images = paint(model, jobs, settings, batch_size=48)
    return images, pairs, calls[0] / len(jobs), time.perf_counter() - started


def judge(images, pairs, artists, subjects, judges, held_out: set) -> dict[str, dict[str, float]]:
    """Artist, subject and joint (both right) accuracy, for held-out and for seen pairs."""
    artist_judge, subject_judge = judges
    said_artist, said_subject = artist_judge.predict(images), subject_judge.predict(images)
    scores: dict[str, dict[str, list[bool]]] = {"heldout": {}, "seen": {}}
    for (a, j), pa, ps in zip(pairs, said_artist, said_subject, strict=True):
        group = scores["heldout" if (a, j) in held_out else "seen"]
        right_artist, right_subject = pa == artists[a].slug, ps == subjects[j]
        for key, ok in (("artist", right_artist), ("subject", right_subject), ("joint", right_artist and right_subject)):
            group.setdefault(key, []).append(ok)
    return {g: {k: round(sum(v) / len(v), 4) for k, v in kinds.items()} for g, kinds in scores.items()}


def run_demo(out: str | Path, s: DemoSettings | None = None, progress: bool = True) -> dict[str, Any]:
    """The experiment once: data, VAE, base model, the recipe, then every pair painted and judged."""
    from creative_painting.errors import UserError
    from creative_painting.wikiart.synthetic import SUBJECTS, make_artists
    from creative_painting.wikiart.synthetic import paint as paint_example

    s = s or DemoSettings()
    if s.recipe not in RECIPES:
        raise UserError(f"unknown recipe {s.recipe!r}; choose one of {', '.join(RECIPES)}")
    if s.base_captions not in BASE_CAPTIONS:
        raise UserError(f"unknown base captions {s.base_captions!r}; choose one of {', '.join(BASE_CAPTIONS)}")
    out, clock = Path(out), _Laps(progress)
    artists, subjects = make_artists(s.artists, s.seed), SUBJECTS[: s.subjects]
    held_out = held_out_pairs(len(artists), len(subjects), s.held_out)
    shards = _write_seen_pairs(out, s, artists, subjects, held_out)  # 1. the collection holds only the seen pairs
    judges = make_judges(artists, subjects, s)
    clock.lap("data")
    init = _untrained_model(out, s, shards, progress)  # 2. a VAE for 32 px paintings, an untrained model around it
    if s.latents:
        shards = _write_latents(out, s, str(init))
    clock.lap("vae")
    models = _train_recipe(out, s, shards, str(init), artists, subjects, progress, clock)  # 3. base; 4. recipe
    final = list(models)[-1]
    scores, painted = {}, {}  # 5. every pair painted by every model, and the judges' verdicts
    for name, path in models.items():
        images, pairs, _, _ = paint_pairs(path, artists, subjects, s)
        scores[name] = judge(images, pairs, artists, subjects, judges, held_out)
        painted[name] = images
    own_words = None
    if s.base_captions == "laion":  # the world is as claimed: the base paints a style asked in its own words
        images, pairs, _, _ = paint_pairs(models["base"], artists, subjects, s, caption=own_words_caption)
        own_words = judge(images, pairs, artists, subjects, judges, held_out=set())["seen"]  # every pair
    truth = [paint_example(a, subject, s.size, seed=s.seed) for subject in subjects for a in artists]
    _save_grid(out / "collection.png", {"": [img for img in truth for _ in range(s.samples)]}, artists, subjects,
               held_out, s)
    suffix = "" if s.recipe == "paper" else f"-{s.recipe}"  # recipes may share a folder (benchmarks/demo_heldout.py)
    _save_grid(out / f"grid{suffix}.png", {"": painted[final]}, artists, subjects, held_out, s)
    # What the base model knows against what retraining taught it: the same pairs and seeds, a row of each.
    _save_grid(out / f"compare{suffix}.png", {"base": painted["base"], "retrained": painted[final]}, artists,
               subjects, held_out, s)
    clock.lap("paint and judge")
    return {"recipe": s.recipe, "base_captions": s.base_captions, "base_own_words": own_words, "seed": s.seed,
            "artists": s.artists, "artist_names": [a.name for a in artists], "subjects": s.subjects,
            "held_out_pairs": len(held_out), "final": final, "models": models, "size": s.size,
            "held_out": sorted([artists[a].name, subjects[j]] for a, j in held_out),
            "painters": [{"name": a.name, "slug": a.slug,
                          "paintings": s.copies * sum((i, j) not in held_out for j in range(len(subjects)))}
                         for i, a in enumerate(artists)],
            "chance": {"artist": round(1 / s.artists, 4), "subject": round(1 / s.subjects, 4),
                       "joint": round(1 / (s.artists * s.subjects), 4)},
            "heldout": {k: v["heldout"] for k, v in scores.items()}, "seen": {k: v["seen"] for k, v in scores.items()},
            "seconds": clock.total(), "phases": clock.seconds, "grid": str(out / f"grid{suffix}.png"),
            "compare": str(out / f"compare{suffix}.png")}


class _Laps:
    """Seconds per phase of the experiment; with `progress`, a line on stderr as each ends (training has its own
    bars; data, latents, judges and painting have none)."""

    def __init__(self, progress: bool = False) -> None:
        self.started = self.last = time.perf_counter()
        self.seconds: dict[str, float] = {}
        self.progress = progress

    def lap(self, name: str) -> None:
        self.seconds[name], self.last = round(time.perf_counter() - self.last, 1), time.perf_counter()
        if self.progress:
            print(f"demo: {name} done ({self.seconds[name]:.0f} s, {self.total():.0f} s in all)", file=sys.stderr,
                  flush=True)

    def total(self) -> float:
        return round(time.perf_counter() - self.started, 1)


def _write_seen_pairs(out: Path, s: DemoSettings, artists, subjects, held_out: set) -> str:
    """The synthetic collection without the held-out pairs, in WikiArt layout, and its shards."""
    from creative_painting.wikiart.shards import ShardSettings, write_shards
    from creative_painting.wikiart.synthetic import collection_files, write_collection

    files = {}
    for a, artist in enumerate(artists):
        for j, subject in enumerate(subjects):
            if (a, j) not in held_out:
                files.update(collection_files([artist], [subject], per_pair=s.copies, size=s.size, numbered=False,
                                              seed=s.seed))
    write_collection(files, out / "data" / "wikiart")
    write_shards(str(out / "data" / "wikiart"), out / "data" / "shards", ShardSettings(size=s.size, min_size=16),
                 workers=0, progress=False)
    return str(out / "data" / "shards")


def _write_latents(out: Path, s: DemoSettings, model: str) -> str:
    """The same collection as the VAE's latent distributions, encoded once (`wikiart shard --latents`)."""
    from creative_painting.training.latents import LatentEncoder
    from creative_painting.wikiart.shards import ShardSettings, write_shards

    write_shards(str(out / "data" / "wikiart"), out / "data" / "latents", ShardSettings(size=s.size, min_size=16),
                 workers=0, progress=False, latents=lambda: LatentEncoder(model, device="cpu", batch_size=64))
    return str(out / "data" / "latents")


def _untrained_model(out: Path, s: DemoSettings, shards: str, progress: bool) -> Path:
    """The VAE (`vae_path`'s, as it is, or one trained for the collection's 32 px paintings), and an untrained tiny
    model around it."""
    from creative_painting.models import build_model, tiny_configs
    from creative_painting.models.configs import public
    from creative_painting.training.vae_trainer import train_vae

    if s.vae_path:
        from diffusers import AutoencoderKL

        vae = AutoencoderKL.from_pretrained(s.vae_path, torch_dtype=torch.float32)
    else:
        vae = train_vae(VaeConfig(data=shards, output_dir=str(out / "models" / "vae"), channels=list(s.vae_channels),
                                  resolution=s.size, batch_size=s.vae_batch_size or s.batch_size,
                                  max_steps=s.vae_steps, seed=s.seed, num_workers=0), progress=progress)["vae"]
    configs = tiny_configs()
    configs.unet.update(s.unet, sample_size=s.size // 2 ** (len(vae.config.block_out_channels) - 1))
    configs.text_encoder.update(s.text_encoder)
    configs.vae = public(vae.config)
    model = build_model(configs, seed=s.seed)
    model.vae.load_state_dict(vae.state_dict())
    return model.save_single_file(out / "models" / "init.safetensors")


def _train_recipe(out: Path, s: DemoSettings, shards: str, init: str, artists, subjects, progress: bool,
                  clock: _Laps) -> dict[str, str]:
    """The base model (it knows subjects, and with `laion` the styles under other words), then the recipe that
    teaches "by {artist}", which the base never read. Returns every model by name, the final one last."""
    from creative_painting.training.trainer import train

    def stage(name: str, model_path: str, steps: int, template: str, **options) -> str:
        cfg = TrainConfig(model=model_path, data=shards, output_dir=str(out / "models" / name), resolution=s.size,
                          batch_size=s.batch_size, max_steps=steps, learning_rate=s.learning_rate,
                          snr_gamma=s.snr_gamma, seed=s.seed, caption_template=template, caption_dropout=0.1,
                          checkpoint_every=steps, keep_checkpoints=1, validate_every=steps,
                          validation_artists=[a.name for a in artists[:3]],
                          validation_prompts=[f"a painting of a {subjects[0]}"], validation_steps=10, num_workers=0,
                          **options)
        path = train(cfg.validate(), resume=True, progress=progress)["exported"]["single_file"]
        clock.lap(name)
        return path

    by_artist = "a painting of a {title} by {artist}"
    if s.base_captions == "laion":
        base = stage("base", init, s.base_steps, "a painting of a {title}[, {artist}]", ema_decay=s.ema_decay,
                     artist_aliases=base_aliases(artists))
    else:
        base = stage("base", init, s.base_steps, "a painting of a {title}", ema_decay=s.ema_decay)
    models = {"base": base}
    budget = s.stage1_steps + s.stage2_steps
    if s.recipe == "paper":
        models["stage1"] = stage("stage1", models["base"], s.stage1_steps, by_artist, stage=1)
        models["stage2"] = stage("stage2", models["stage1"], s.stage2_steps, by_artist, ema_decay=s.ema_decay,
                                 text_encoder_learning_rate=s.text_encoder_learning_rate)
    elif s.recipe == "stage2":
        models["stage2"] = stage("stage2-alone", models["base"], budget, by_artist, ema_decay=s.ema_decay,
                                 text_encoder_learning_rate=s.text_encoder_learning_rate)
    elif s.recipe == "unet":
        models["unet"] = stage("unet-only", models["base"], budget, by_artist, ema_decay=s.ema_decay,
                               train_text_encoder=False)
    else:
        models["lora"] = stage("lora", models["base"], budget, by_artist, ema_decay=s.ema_decay,
                               train_text_encoder=False, lora_rank=s.lora_rank)
    return models


def _save_grid(path: Path, painted: dict[str, list], artists, subjects, held_out: set, s: DemoSettings) -> None:
    """Subjects x artists (first sample of each pair); held-out pairs framed in red. With several models, a row
    per model for each subject ("tree · base" above "tree · retrained"), so a painter's two paintings of a
    subject sit one above the other."""
    from PIL import Image, ImageDraw

    from creative_painting.files import atomic_path
    from creative_painting.painting import make_grid

    cells, labels = [], []
    for j, subject in enumerate(subjects):
        for name, images in painted.items():
            row = []
            for a in range(len(artists)):
                cell = images[(j * len(artists) + a) * s.samples].resize((96, 96), Image.Resampling.NEAREST)
                if (a, j) in held_out:
                    ImageDraw.Draw(cell).rectangle((0, 0, 95, 95), outline=(220, 0, 0), width=3)
                row.append(cell)
            cells.append(row)
            labels.append(f"{subject} · {name}" if name else subject)
    grid = make_grid(cells, col_labels=[a.name for a in artists], row_labels=labels, min_side=0)
    with atomic_path(path) as tmp:
        grid.save(tmp, format="PNG")


def run_seeds(out: str | Path, s: DemoSettings, seeds: int, progress: bool = True) -> dict[str, Any]:
    """The experiment once per seed (`out/seed-K`); mean and minimum of every held-out and seen score."""
    runs = [run_demo(Path(out) / f"seed-{k}", dataclasses.replace(s, seed=s.seed + k), progress) for k in range(seeds)]
    summary: dict[str, Any] = {"recipe": s.recipe, "base_captions": s.base_captions,
                               "seeds": [r["seed"] for r in runs], "final": runs[0]["final"],
                               "chance": runs[0]["chance"], "runs": runs,
                               "seconds_per_seed": [r["seconds"] for r in runs],
                               "phases_per_seed": [r["phases"] for r in runs]}
    for group in ("heldout", "seen"):
        summary[group] = {
            model: {kind: {"mean": round(statistics.mean(r[group][model][kind] for r in runs), 4),
                           "min": round(min(r[group][model][kind] for r in runs), 4)}
                    for kind in ("artist", "subject", "joint")}
            for model in runs[0][group]}
    if runs[0]["base_own_words"]:
        summary["base_own_words"] = {kind: round(statistics.mean(r["base_own_words"][kind] for r in runs), 4)
                                     for kind in ("artist", "subject", "joint")}
    return summary
