"""Pack WikiArt into WebDataset tar shards: resized and centre-cropped images (or VAE latents), caption, metadata.

Entry `i` of the source always goes to shard `i // shard_size`, so a re-run skips the shards that are
already complete (a shard is complete when its `.json` sidecar, written after the tar, exists).
Broken images are reported in the sidecar and skipped; they never stop the run.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps
from tqdm import tqdm

from creative_painting.errors import UserError
from creative_painting.files import atomic_path, atomic_write_text, check_location, is_empty, run_lock
from creative_painting.wikiart.captions import DEFAULT_CAPTION, check_template, make_caption
from creative_painting.wikiart.names import Artwork
from creative_painting.wikiart.validate import BROKEN, PROBLEMS, check_image

MANIFEST = "shards.json"
SETTINGS = ".settings.json"  # what a re-run must match to keep finished shards


@dataclass(frozen=True)
class ShardSettings:
    size: int = 512
    shard_size: int = 1000
    min_size: int = 64
    skip: frozenset[str] = BROKEN
    template: str = DEFAULT_CAPTION
    quality: int = 95
    latents: bool = False  # workers return pixels; the parent encodes them with the VAE

    def validate(self) -> ShardSettings:
        if self.size < 8 or self.size % 8 or self.size > 4096:
            raise UserError(f"--size must be a multiple of 8 in 8..4096, got {self.size}")
        if self.shard_size < 1:
            raise UserError("--shard-size must be at least 1")
        unknown = set(self.skip) - set(PROBLEMS)
        if unknown:
            raise UserError(f"unknown problem kind(s) to skip: {', '.join(sorted(unknown))}; known: {', '.join(PROBLEMS)}")
        check_template(self.template)
        return self

    def identity(self) -> dict[str, Any]:
        """What must match for a re-run to reuse finished shards."""
        return {"size": self.size, "shard_size": self.shard_size, "latents": self.latents}


@dataclass
class ShardTask:
    index: int
    items: list[tuple[int, Artwork, bytes]]  # (entry number, artwork, file bytes)
    weights: dict[str, float] = field(default_factory=dict)  # artist slug -> sampling weight


def _metadata(art: Artwork) -> dict[str, Any]:
    return {"path": art.path, "artist_slug": art.artist_slug, "artist": art.artist, "title": art.title,
            "year": art.year, "style": art.style, "genre": art.genre}


def _prepare(args: tuple[ShardTask, ShardSettings]) -> tuple[int, int, list[dict[str, Any]], list[dict[str, str]]]:
    """Decode, check, resize and centre-crop one shard's images (runs in a worker process): its index, how many
    entries it had, its samples and its problems."""
    task, settings = args
    samples, problems = [], []
    for number, art, data in task.items:
        if "\ufffd" in art.path:  # repaired by sources.utf8_name
            problems.append({"path": art.path, "problem": "bad-name", "detail": "file name is not UTF-8"})
            if "bad-name" in settings.skip:
                continue
        checked = check_image(data, settings.min_size)
        if checked.problem:
            problems.append({"path": art.path, "problem": checked.problem, "detail": checked.detail})
            if checked.image is None or checked.problem in settings.skip:
                continue
        image = ImageOps.fit(checked.image, (settings.size, settings.size), Image.Resampling.LANCZOS)
        meta = _metadata(art)
        if art.artist_slug in task.weights:
            meta["weight"] = task.weights[art.artist_slug]
        sample = {"__key__": f"{number:09d}", "txt": make_caption(art, settings.template), "json": meta}
        if settings.latents:
            sample["pixels"] = np.asarray(image, dtype=np.uint8)
        else:
            buf = io.BytesIO()
            image.save(buf, format="JPEG", quality=settings.quality)
            sample["jpg"] = buf.getvalue()
        samples.append(sample)
    return task.index, len(task.items), samples, problems


def _shard_path(out: Path, index: int, suffix: str) -> Path:
    return out / f"shard-{index:06d}{suffix}"


def _write_tar(path: Path, samples: list[dict[str, Any]]) -> None:
    import webdataset as wds

    with atomic_path(path) as tmp, open(tmp, "wb") as f, wds.TarWriter(f) as writer:
        for sample in samples:
            writer.write(sample)


def _tasks(entries: Iterator, settings: ShardSettings, out: Path, weights: dict[str, float],
           progress: tqdm) -> Iterator[tuple[ShardTask, ShardSettings]]:
    """Group entries into shards; finished shards are skipped without reading their images."""
    numbered = enumerate(entries)
    index = 0
    while chunk := list(islice(numbered, settings.shard_size)):
        if _shard_path(out, index, ".json").exists():
            progress.update(len(chunk))
        else:
            items = [(n, e.artwork, e.read()) for n, e in chunk]
            yield ShardTask(index, items, weights), settings
        index += 1


def write_shards(source: str, out: str | Path, settings: ShardSettings, *, workers: int = 2,
                 latents: Callable[[], Any] | None = None, balance: float | None = None,
                 progress: bool = True) -> dict[str, Any]:
    """Shard `source` into `out`; returns (and writes as `shards.json`) the manifest with every problem.

    `latents` makes a latent encoder (`training.latents.LatentEncoder`), called once the input is checked:
    the data tools need no model code of their own."""
    from creative_painting.parallel import ordered_map
    from creative_painting.wikiart.balance import artist_weights
    from creative_painting.wikiart.sources import iter_images, iter_source

    settings = dataclasses.replace(settings, latents=latents is not None).validate()
    if balance is not None and not (math.isfinite(balance) and balance >= 0):
        raise UserError(f"--balance must be a finite number >= 0, got {balance}")
    if workers < 0:
        raise UserError(f"--workers must be 0 (in this process) or more, got {workers}")
    # Everything that can fail on the user's input fails here, before OUT is touched.
    entries = iter_images(source)
    out = check_location(out)
    _check_previous_shards(out, settings)
    total, weights = None, {}
    if balance is not None:  # one names-only pass: counts per artist
        artists = [a.artist_slug for a in iter_source(source)]
        total = len(artists)
        weights = dict(zip(artists, artist_weights(artists, balance), strict=True))
    encoder = latents() if latents else None

    with run_lock(out):
        atomic_write_text(out / SETTINGS, json.dumps(settings.identity()))
        bar = tqdm(total=total, unit="img", desc="shard", disable=not progress)
        tasks = _tasks(entries, settings, out, weights, bar)
        for index, count, samples, problems in ordered_map(_prepare, tasks, workers):
            if encoder:
                encoder(samples)
            _write_tar(_shard_path(out, index, ".tar"), samples)
            atomic_write_text(_shard_path(out, index, ".json"),
                              json.dumps({"samples": len(samples), "problems": problems}, ensure_ascii=False))
            bar.update(count)
        bar.close()
        return write_manifest(out, settings, encoder.model_choice if encoder else None,
                              encoder.scaling_factor if encoder else None)


def _check_previous_shards(out: Path, settings: ShardSettings) -> None:
    """OUT is new, empty, or shards of ours made with the same settings (then finished shards are kept)."""
    if is_empty(out):
        return
    try:
        previous = json.loads((out / SETTINGS).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{out} is not empty and holds no shards of ours; choose a new or empty folder") from None
    except (OSError, ValueError):
        raise UserError(f"{out / SETTINGS} is damaged; use a new folder") from None
    if previous != settings.identity():
        raise UserError(f"{out} holds shards made with other settings ({json.dumps(previous)}); "
                        "use a new folder or the same --size/--shard-size/--latents")


def write_manifest(out: Path, settings: ShardSettings, model: str | None, scaling_factor: float | None) -> dict:
    shards, problems = [], []
    for sidecar in sorted(out.glob("shard-*.json")):
        info = json.loads(sidecar.read_text())
        shards.append({"tar": sidecar.with_suffix(".tar").name, "samples": info["samples"]})
        problems += info["problems"]
    manifest = {"size": settings.size, "kind": "latents" if settings.latents else "pixels", "model": model,
                "scaling_factor": scaling_factor, "template": settings.template,
                "samples": sum(s["samples"] for s in shards), "shards": shards,
                "skipped": sum(p["problem"] in settings.skip for p in problems), "problems": problems}
    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False))
    return manifest
