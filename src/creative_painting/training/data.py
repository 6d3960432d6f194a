"""Training data with random access, so that the batch of step k is a pure function of (seed, k).

That is what makes `--resume` exact: no sampler state to save, every process and every restart
computes the same batches. Sources: `wikiart shard` folders (pixels or latent shards), WikiArt
folders, uncompressed WikiArt tars and parquet files; tars are read by member offset. A compressed
tar has no random access, so it is sharded once first. Broken images are skipped.
"""

from __future__ import annotations

import io
import json
import random
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps

from creative_painting.errors import UserError
from creative_painting.wikiart.captions import DEFAULT_CAPTION, make_caption
from creative_painting.wikiart.names import Artwork
from creative_painting.wikiart.sources import OffsetReader, compressed_tars, iter_images
from creative_painting.wikiart.validate import check_image


@dataclass(frozen=True)
class Item:
    artwork: Artwork
    read: Callable[[], bytes]
    kind: str  # "image" (encoded picture) or "latent" (npy of mean and logvar)
    weight: float = 1.0


def _artwork(meta: dict[str, Any]) -> Artwork:
    return Artwork(path=meta["path"], style_folder=meta.get("style_folder") or meta.get("style") or "",
                   artist_slug=meta["artist_slug"], title=meta.get("title") or "", year=meta.get("year"),
                   genre=meta.get("genre"))


def shard_items(folder: Path) -> tuple[list[Item], dict[str, Any]]:
    manifest = json.loads((folder / "shards.json").read_text())
    items = []
    for shard in manifest["shards"]:
        path = folder / shard["tar"]
        members: dict[str, dict[str, tarfile.TarInfo]] = {}
        with tarfile.open(path) as tar:
            for m in tar.getmembers():
                key, ext = m.name.split(".", 1)
                members.setdefault(key, {})[ext] = m
            for key in sorted(members):
                parts = members[key]
                meta = json.loads(tar.extractfile(parts["json"]).read())
                payload = parts.get("latent.npy") or parts.get("jpg")
                items.append(Item(_artwork(meta), OffsetReader(path, payload.offset_data, payload.size),
                                  "latent" if "latent.npy" in parts else "image", float(meta.get("weight", 1.0))))
    return items, manifest


def open_items(data: str) -> tuple[list[Item], dict[str, Any]]:
    """Items of a shard folder (with its manifest) or of a WikiArt folder/parquet (pixels)."""
    path = Path(data)
    if (path / "shards.json").is_file():
        items, manifest = shard_items(path)
        if not items:
            raise UserError(f"{data} holds no samples (see the problems listed in its shards.json)")
        return items, manifest
    if packed := compressed_tars(data):
        raise UserError(f"{packed[0]} is compressed, so it has no random access: run "
                        f"`creative-painting wikiart shard {data} OUT` once and train on OUT (or use an uncompressed tar)")

    items = [Item(e.artwork, e.read, "image") for e in iter_images(data)]
    if not items:
        raise UserError(f"no images in {data}")
    return items, {"kind": "pixels"}


def to_pixels(data: bytes, resolution: int) -> torch.Tensor | None:
    """[-1, 1] CHW tensor, centre-cropped; None for a broken image (unreadable, truncated, tiny)."""
    image = check_image(data, min_size=8, classify=False).image
    if image is None:
        return None
    if image.size != (resolution, resolution):  # shards are stored at the training size: nothing to do
        image = ImageOps.fit(image, (resolution, resolution), Image.Resampling.LANCZOS)
    return image_to_pixels(image)


def image_to_pixels(image: Image.Image) -> torch.Tensor:
    """An RGB picture as the VAE reads it: a [-1, 1] CHW tensor."""
    return torch.from_numpy(np.asarray(image, dtype=np.uint8).copy()).permute(2, 0, 1).float().div(127.5).sub(1)


class StepBatches(torch.utils.data.Dataset):
    """Item k is the micro-batch of micro-step k for this process: indices, pixels/latents, captions."""

    def __init__(self, items: list[Item], *, batch_size: int, seed: int, resolution: int, template: str | None,
                 caption_dropout: float, field_dropout: float, balance: float = 0.0, rank: int = 0,
                 world_size: int = 1, length: int = 10**9, aliases: dict[str, list[str]] | None = None):
        self.items, self.batch_size, self.seed, self.resolution = items, batch_size, seed, resolution
        self.template, self.caption_dropout, self.field_dropout = template or DEFAULT_CAPTION, caption_dropout, field_dropout
        self.rank, self.world_size, self.length, self.aliases = rank, world_size, length, aliases
        self.weights, self._order = None, None
        if balance:
            from creative_painting.wikiart.balance import artist_weights

            self.weights = torch.tensor(artist_weights([i.artwork.artist_slug for i in items], balance))

    def __len__(self) -> int:
        return self.length

    def indices(self, step: int) -> list[int]:
        """This process's slice of the global batch (all processes) of `step`."""
        global_batch, mine = self.batch_size * self.world_size, self.rank * self.batch_size
        if self.weights is not None:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + step)
            batch = torch.multinomial(self.weights, global_batch, replacement=True, generator=g).tolist()
            return batch[mine : mine + self.batch_size]
        n, start = len(self.items), step * global_batch + mine
        return [self._permutation(p // n)[p % n] for p in range(start, start + self.batch_size)]

    def _permutation(self, epoch: int) -> list[int]:
        """The order of `epoch`, drawn once per epoch (a permutation of WikiArt's 81k items takes 3 ms)."""
        if self._order is None or self._order[0] != epoch:
            g = torch.Generator().manual_seed(self.seed * 7919 + epoch)
            self._order = (epoch, torch.randperm(len(self.items), generator=g).tolist())
        return self._order[1]

    def __getitem__(self, step: int) -> dict[str, Any]:
        rng = random.Random(f"{self.seed}/{step}/{self.rank}")
        tensors, captions, kinds = [], [], set()
        for index in self.indices(step):
            item = self.items[index]
            if item.kind == "latent":
                tensor = torch.from_numpy(np.load(io.BytesIO(item.read())).astype(np.float32))
            else:
                tensor = to_pixels(item.read(), self.resolution)
                if tensor is None:
                    continue  # broken image: skipped, the run goes on
            tensors.append(tensor)
            kinds.add(item.kind)
            captions.append(make_caption(item.artwork, self.template, rng=rng, caption_dropout=self.caption_dropout,
                                         field_dropout=self.field_dropout, aliases=self.aliases))
        return {"step": step, "kind": kinds.pop() if kinds else "image",
                "x": torch.stack(tensors) if tensors else None, "captions": captions}
