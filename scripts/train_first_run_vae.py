"""Train the VAE that the first run (`demo --quick`, `make demo`) ships and uses as it is, as SD's VAE is used.

    .venv/bin/python scripts/train_first_run_vae.py [--work /tmp/first-run-vae] [--steps 1000]

It learns once from other painters (`random_painters(*first_run.VAE_PAINTERS)`: random hues, every subject, two
paintings a pair at 32 px), never from the experiment's, whose hues are fixed. It then judges its reconstructions of a
fresh rendering of the experiment's painters for seeds 0-4 (the judges' accuracy on the originals beside them), and
writes its weights in fp16 into the package (`first_run.VAE`). Training resumes from `--work`.
"""

import argparse
import json
import time
from pathlib import Path

import torch
from diffusers import AutoencoderKL

from creative_painting.experiment.demo import DemoSettings
from creative_painting.experiment.first_run import VAE, VAE_PAINTERS, judged_through
from creative_painting.files import atomic_dir, follow_umask_tree
from creative_painting.training.config import VaeConfig
from creative_painting.training.vae_trainer import train_vae
from creative_painting.wikiart.shards import ShardSettings, write_shards
from creative_painting.wikiart.synthetic import SUBJECTS, collection_files, random_painters, write_collection


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/first-run-vae"))
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--no-progress", dest="progress", action="store_false")
    args = parser.parse_args()
    if args.steps < 1:
        parser.error(f"--steps must be 1 or more, got {args.steps}")
    torch.set_num_threads(2)
    settings = DemoSettings()
    if not (args.work / "shards").exists():
        painters = random_painters(*VAE_PAINTERS)
        files = collection_files(painters, SUBJECTS, per_pair=2, size=settings.size, numbered=True, seed=777)
        write_collection(files, args.work / "wikiart")
        write_shards(str(args.work / "wikiart"), args.work / "shards", ShardSettings(size=settings.size, min_size=16),
                     workers=0, progress=False)
    started = time.perf_counter()
    train_vae(VaeConfig(data=str(args.work / "shards"), output_dir=str(args.work / "vae"),
                        channels=list(settings.vae_channels), resolution=settings.size, batch_size=16,
                        max_steps=args.steps, seed=0, num_workers=0), progress=args.progress)
    print(f"trained in {time.perf_counter() - started:.0f} s (0 when resumed at the end)")
    with atomic_dir(VAE) as tmp:
        AutoencoderKL.from_pretrained(args.work / "vae", torch_dtype=torch.float16).save_pretrained(tmp)
        config = json.loads((tmp / "config.json").read_text())
        config.pop("_name_or_path", None)  # the work folder, no business of the package
        (tmp / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        follow_umask_tree(tmp)  # readable by all, as the rest of the package
    shipped = AutoencoderKL.from_pretrained(VAE, torch_dtype=torch.float32)  # as the first run loads it
    print("| seed | artist | subject | artist (originals) |\n|---|---|---|---|")
    for seed in range(5):  # a rendering that no training drew
        judged = judged_through({"shipped": shipped}, seed, render_seed=12345 + seed)
        print(f"| {seed} | {judged['shipped'][0]:.3f} | {judged['shipped'][1]:.3f} | {judged['originals'][0]:.3f} |")
    print(f"wrote {VAE}")


if __name__ == "__main__":
    main()
