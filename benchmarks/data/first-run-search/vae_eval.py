"""Train the experiment's VAE alone, then judge its reconstructions of a fresh rendering of every pair (session 17).

    PYTHONPATH=src .venv/bin/python benchmarks/data/first-run-search/vae_eval.py '{"steps": 250, "batch": 16}'

Keys: steps, batch, lr, seed, channels, latent, sched (constant, cosine, linear), warmup, loss (l2, l1), gw (weight of
an L1 loss on image gradients), crop (train on random crops of that side).
"""

import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL
from PIL import Image

from creative_painting.experiment.demo import (
    DemoSettings,
    _split,
    _write_seen_pairs,
    held_out_pairs,
    make_judges,
)
from creative_painting.training.data import StepBatches, open_items
from creative_painting.training.vae_trainer import _Autoencoding, small_vae_config
from creative_painting.wikiart.synthetic import SUBJECTS, collection_files, make_artists


def _pixels(images) -> torch.Tensor:
    return torch.stack([torch.from_numpy(np.asarray(i, dtype=np.uint8).copy()).permute(2, 0, 1).float() / 127.5 - 1
                        for i in images])


def _loss(v: dict, recon: torch.Tensor, x: torch.Tensor, kl: torch.Tensor) -> torch.Tensor:
    loss = (F.l1_loss(recon, x) if v.get("loss") == "l1" else F.mse_loss(recon, x)) + 1e-6 * kl / x[0].numel()
    if v.get("gw"):
        for dim in (-1, -2):
            loss = loss + v["gw"] * F.l1_loss(recon.diff(dim=dim), x.diff(dim=dim))
    return loss


def main() -> None:
    torch.set_num_threads(2)
    v = json.loads(sys.argv[1])
    seed, steps, batch = v.get("seed", 0), v.get("steps", 250), v.get("batch", 16)
    s = DemoSettings(seed=seed)
    out = Path(f"/tmp/vae-eval-data{seed}")
    artists, subjects = make_artists(s.artists, s.seed), SUBJECTS[: s.subjects]
    if not (out / "data" / "shards").exists():
        _write_seen_pairs(out, s, artists, subjects, held_out_pairs(6, 6, 1))
    items, _ = open_items(str(out / "data" / "shards"))
    artist_judge, subject_judge = make_judges(artists, subjects, s)
    images, artist_labels, subject_labels = _split(collection_files(artists, subjects, per_pair=2, size=32,
                                                                    numbered=False, seed=12345 + seed))
    torch.manual_seed(seed)
    vae = AutoencoderKL(**small_vae_config(v.get("channels", [32, 64, 64]), v.get("latent", 4)))
    autoencoding, optimizer = _Autoencoding(vae), torch.optim.Adam(vae.parameters(), lr=v.get("lr", 1e-3))

    def factor(i: int) -> float:
        warmup = v.get("warmup", 0)
        if i < warmup:
            return (i + 1) / warmup
        done = (i - warmup) / max(1, steps - warmup)
        return {"cosine": 0.5 * (1 + math.cos(math.pi * done)), "linear": 1 - done}.get(v.get("sched"), 1.0)

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    batches = StepBatches(items, batch_size=batch, seed=seed, resolution=32, template=None, caption_dropout=0,
                          field_dropout=0)
    started, noise = time.perf_counter(), torch.Generator().manual_seed(0)
    for i in range(steps):
        x = batches[i]["x"]
        if v.get("crop"):
            c = v["crop"]
            top, left = torch.randint(0, 32 - c + 1, (2,), generator=torch.Generator().manual_seed(i)).tolist()
            x = x[..., top : top + c, left : left + c]
        recon, kl = autoencoding(x, noise)
        optimizer.zero_grad()
        _loss(v, recon, x, kl).backward()
        optimizer.step()
        schedule.step()
    seconds = time.perf_counter() - started
    with torch.no_grad():
        x = _pixels(images)
        recon = vae.decode(vae.encode(x).latent_dist.mean).sample
    pictures = [Image.fromarray(((r.clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()) for r in recon]
    print(json.dumps(v), f"train {seconds:.1f}s mse {F.mse_loss(recon, x).item():.4f} artist "
          f"{artist_judge.accuracy(pictures, artist_labels):.3f} subject {subject_judge.accuracy(pictures, subject_labels):.3f}"
          f" | originals artist {artist_judge.accuracy(images, artist_labels):.3f}", flush=True)


if __name__ == "__main__":
    main()
