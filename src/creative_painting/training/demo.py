"""The end-to-end proof on a CPU: does retraining teach "by <artist>"?

A synthetic collection in WikiArt layout (artists with their own palette and brushwork, several
subjects) -> a small VAE (`train-vae`) -> a base model pretrained on subject-only captions -> stage 1
(new text encoder, frozen U-Net) and stage 2 (joint) on artist captions. After each, it paints
"a painting of a {subject} by {artist}" for every pair and an attribution classifier, trained on the
collection, says whose palette each painting has. Chance is 1 / artists.
"""

from __future__ import annotations

import dataclasses
import io
import time
from pathlib import Path
from typing import Any

import torch

from creative_painting.evaluation.attribution import AttributionClassifier
from creative_painting.training.config import TrainConfig, VaeConfig


@dataclasses.dataclass
class DemoSettings:
    """Tuned to finish in about 9 minutes on 2 CPU cores (measured; see README)."""

    artists: int = 6
    subjects: int = 5
    copies: int = 8
    size: int = 32
    vae_channels: tuple[int, ...] = (32, 64, 64)  # 32 px -> 8x8 latents: a U-Net step costs a quarter of 16x16
    vae_steps: int = 300
    base_steps: int = 800
    stage1_steps: int = 500
    stage2_steps: int = 1800
    learning_rate: float = 1e-3
    snr_gamma: float = 5.0  # Min-SNR: less weight on fine detail, more on layout and palette
    ema_decay: float = 0.995  # U-Net stages; the painted model is the EMA one
    batch_size: int = 16
    sample_steps: int = 20
    seed: int = 0


def _paint_all(model_path: str, artists, subjects, s: DemoSettings):
    from creative_painting.models import load_model
    from creative_painting.painting import PaintJob, paint
    from creative_painting.sampling import SamplingSettings

    model = load_model(model_path).eval()
    settings = SamplingSettings(sampler="ddim", steps=s.sample_steps, scale=5.0, eta=0.0, width=s.size,
                                height=s.size).validate()
    jobs = [PaintJob(f"a painting of a {subject} by {artist.name}", seed=s.seed + i)
            for i, (subject, artist) in enumerate((sub, a) for sub in subjects for a in artists)]
    with torch.no_grad():
        images = paint(model, jobs, settings, batch_size=30)
    labels = [a.slug for _ in subjects for a in artists]
    return images, labels


def run_demo(out: str | Path, s: DemoSettings | None = None, progress: bool = True) -> dict[str, Any]:
    from PIL import Image

    from creative_painting.io import atomic_path
    from creative_painting.models import build_model, tiny_configs
    from creative_painting.painting import make_grid
    from creative_painting.training.trainer import train
    from creative_painting.training.vae_trainer import train_vae
    from creative_painting.wikiart.shards import ShardSettings, write_shards
    from creative_painting.wikiart.synthetic import SUBJECTS, collection_files, make_artists, write_collection
    from creative_painting.wikiart.synthetic import paint as paint_example

    s = s or DemoSettings()
    out = Path(out)
    started = last = time.perf_counter()
    seconds: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal last
        seconds[name], last = round(time.perf_counter() - last, 1), time.perf_counter()

    artists, subjects = make_artists(s.artists, s.seed), SUBJECTS[: s.subjects]
    files = collection_files(artists, subjects, per_pair=s.copies, size=s.size, numbered=False, seed=s.seed)
    write_collection(files, out / "data" / "wikiart")
    write_shards(str(out / "data" / "wikiart"), out / "data" / "shards", ShardSettings(size=s.size, min_size=16),
                 workers=0, progress=False)
    shards = str(out / "data" / "shards")
    classifier = AttributionClassifier([Image.open(io.BytesIO(b)) for b in files.values()],
                                       [name.split("/")[1].split("_")[0] for name in files])
    lap("data")

    vae = train_vae(VaeConfig(data=shards, output_dir=str(out / "models" / "vae"), channels=list(s.vae_channels),
                              resolution=s.size, batch_size=s.batch_size, max_steps=s.vae_steps, seed=s.seed,
                              num_workers=0), progress=progress)["vae"]
    configs = tiny_configs()
    configs.unet["sample_size"] = s.size // 2 ** (len(s.vae_channels) - 1)
    configs.vae = {k: v for k, v in vae.config.items() if not k.startswith("_")}
    model = build_model(configs, seed=s.seed)
    model.vae.load_state_dict(vae.state_dict())
    init = model.save_single_file(out / "models" / "init.safetensors")
    lap("vae")

    def stage(name: str, model_path: str, stage: int, steps: int, template: str) -> str:
        cfg = TrainConfig(model=model_path, data=shards, output_dir=str(out / "models" / name), stage=stage,
                          text_encoder_init="scratch" if stage == 1 else "pretrained", resolution=s.size,
                          batch_size=s.batch_size, max_steps=steps, learning_rate=s.learning_rate,
                          snr_gamma=s.snr_gamma, ema_decay=s.ema_decay if stage == 2 else 0.0, seed=s.seed,
                          caption_template=template, caption_dropout=0.1, checkpoint_every=steps,
                          keep_checkpoints=1, validate_every=steps, validation_artists=[a.name for a in artists[:3]],
                          validation_prompts=[f"a painting of a {subjects[0]}"], validation_steps=10, num_workers=0)
        path = train(cfg.validate(), resume=True, progress=progress)["exported"]["single_file"]
        lap(name)
        return path

    base = stage("base", str(init), 2, s.base_steps, "a painting of a {title}")
    stage1 = stage("stage1", base, 1, s.stage1_steps, "a painting of a {title} by {artist}")
    stage2 = stage("stage2", stage1, 2, s.stage2_steps, "a painting of a {title} by {artist}")

    def save_grid(images: list[Image.Image], name: str) -> None:
        """Subjects x artists, as `images` are ordered."""
        big = [i.resize((96, 96), Image.Resampling.NEAREST) for i in images]
        grid = make_grid([big[r * len(artists):(r + 1) * len(artists)] for r in range(len(subjects))],
                         col_labels=[a.name for a in artists], row_labels=list(subjects))
        with atomic_path(out / name) as tmp:
            grid.save(tmp, format="PNG")

    save_grid([paint_example(a, subject, s.size, seed=s.seed) for subject in subjects for a in artists],
              "collection.png")  # what the painted grid should look like
    accuracy = {}
    for name, path in (("base", base), ("stage1", stage1), ("stage2", stage2)):
        images, labels = _paint_all(path, artists, subjects, s)
        accuracy[name] = round(classifier.accuracy(images, labels), 4)
        if name == "stage2":
            save_grid(images, "grid.png")
    lap("paint and attribute")
    return {"accuracy": accuracy, "artists": s.artists, "subjects": s.subjects,
            "seconds": round(time.perf_counter() - started, 1), "phases": seconds, "grid": str(out / "grid.png")}
