"""The experiment at the size of a first run (`make demo`, `demo --quick`), and its model as `--model demo`.

The first-run size keeps what the experiment is for: painters who paint subjects they never painted in
training, against a base model that cannot paint "by {artist}". It gives up what only sharpens the numbers: a
smaller U-Net and text encoder, stage 2 alone (the paper's joint retraining, without stage 1), fewer and larger
batches, latents encoded once, 10 sampling steps. Its VAE is not trained in the run but shipped, trained once on
other painters, as the paper uses SD's VAE as it is. Its text encoder learns at a quarter of the U-Net's rate: the
base's words for subjects stay while the painters' names are learned. Its seconds and accuracies on 2 cores are in
docs/training.md; `tests/experiment/test_first_run.py` guards seed 0's.

Every `demo` run installs the final model of its first seed in the cache (`demo-model/`: the weights and its
painters, replaced in one rename), so that `paint --model demo` and `studio --model demo` paint with the
painters it learned. When none is installed, `demo_model` trains one at the first-run size.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from creative_painting.experiment.demo import DemoSettings

if TYPE_CHECKING:
    from creative_painting.models.choice import ModelChoice
    from creative_painting.wikiart.catalog import RankedArtist

# The VAE the first run uses as it is, as the paper uses SD's: trained once (scripts/train_first_run_vae.py) on
# `random_painters(*VAE_PAINTERS)`, never on the experiment's painters. Training one in the run (250 steps) took
# 41-46 of its 115-132 s, where loading this one takes about 4; a VAE of fewer steps lost the brushwork the judges read.
VAE = Path(__file__).parent / "data" / "first-run-vae"
VAE_PAINTERS = (96, 1234)  # how many, and their seed
# What the size search found (benchmarks/data/first-run-search/): 300 stage-2 steps left one seed of three at 0.46,
# 450 steps 0.62-1.00; with the seconds the shipped VAE saves, 600 steps (seeds 0 and 4: 0.67 -> 0.92 and 0.75 -> 0.83
# on one base) gave 0.67-1.00 over seeds 0-9, 9 of 10 at 0.8 or more (docs/training.md); 10 sampling steps did as
# well as 20.
QUICK = DemoSettings(vae_path=str(VAE), base_steps=200, stage1_steps=0, stage2_steps=600,
                     batch_size=48, learning_rate=2e-3, text_encoder_learning_rate=5e-4, ema_decay=0.99, samples=4,
                     sample_steps=10, recipe="stage2",
                     latents=True, unet={"layers_per_block": 1, "mid_block_type": None},
                     text_encoder={"num_hidden_layers": 1})
DEMO = "demo"  # the --model name
HOME = "demo-model"  # its folder in the cache
QUICK_COMMAND = "creative-painting demo --quick"


def judged_through(vaes: dict[str, Any], seed: int, render_seed: int) -> dict[str, tuple[float, float]]:
    """A fresh rendering of every pair of `seed`'s painters, encoded (the posterior's mean) and decoded by each VAE:
    the share its painter and its subject are judged right after each, and for the pictures themselves
    ("originals"). What a VAE keeps of what the judges read."""
    import torch

    from creative_painting.experiment.demo import _split, make_judges
    from creative_painting.painting.painter import pixels_to_images
    from creative_painting.training.data import image_to_pixels
    from creative_painting.wikiart.synthetic import SUBJECTS, collection_files, make_artists

    s = DemoSettings(seed=seed)
    artists, subjects = make_artists(s.artists, seed), SUBJECTS[: s.subjects]
    artist_judge, subject_judge = make_judges(artists, subjects, s)
    images, painters, titles = _split(collection_files(artists, subjects, per_pair=2, size=s.size, numbered=False,
                                                       seed=render_seed))
    x = torch.stack([image_to_pixels(image) for image in images])
    pictures = {"originals": images}
    with torch.no_grad():
        for name, vae in vaes.items():
            pictures[name] = pixels_to_images(vae.decode(vae.encode(x).latent_dist.mean).sample)
    return {name: (artist_judge.accuracy(p, painters), subject_judge.accuracy(p, titles))
            for name, p in pictures.items()}


@dataclass(frozen=True)
class DemoModel:
    """An installed experiment model: its weights, its painters (name, slug, paintings in training), its size."""

    path: Path
    painters: tuple[dict[str, Any], ...]
    size: int
    held_out: tuple[tuple[str, str], ...]

    def artists(self) -> tuple[RankedArtist, ...]:
        """Its painters as the studio's artist pickers list them."""
        from creative_painting.wikiart.catalog import RankedArtist

        return tuple(RankedArtist(p["name"], p["slug"], p["paintings"]) for p in self.painters)

    @property
    def note(self) -> str:
        held = "; ".join(f"{artist} never painted a {subject}" for artist, subject in self.held_out)
        return (f"--model demo: the CPU experiment's model, whose {len(self.painters)} synthetic painters it learned "
                f"from {self.size} px paintings ({held}). It paints {self.size} x {self.size}.")


def _home() -> Path:
    from creative_painting.cache import cache_dir

    return cache_dir() / HOME


def install(run: dict[str, Any]) -> DemoModel:
    """The run's final model and its painters, as the one `--model demo` paints with from now on."""
    from creative_painting.files import atomic_dir

    info = {"painters": run["painters"], "size": run["size"], "held_out": run["held_out"], "seed": run["seed"],
            "recipe": run["recipe"], "heldout_joint": run["heldout"][run["final"]]["joint"]}
    with atomic_dir(_home()) as staging:
        shutil.copyfile(run["models"][run["final"]], staging / "model.safetensors")
        (staging / "painters.json").write_text(json.dumps(info, indent=1), encoding="utf-8")
    found = installed()
    assert found is not None
    return found


def installed() -> DemoModel | None:
    """The installed model, or None when no `demo` run installed one (or the cache was emptied)."""
    home = _home()
    if not (home / "model.safetensors").is_file() or not (home / "painters.json").is_file():
        return None
    try:
        info = json.loads((home / "painters.json").read_text(encoding="utf-8"))
        return DemoModel(home / "model.safetensors", tuple(info["painters"]), int(info["size"]),
                         tuple((a, s) for a, s in info["held_out"]))
    except (OSError, ValueError, KeyError, TypeError) as e:
        from creative_painting.errors import UserError

        raise UserError(f"--model demo: {home / 'painters.json'} is damaged ({type(e).__name__}); `{QUICK_COMMAND}` "
                        "makes the model again") from None


def demo_model(progress: bool = True) -> DemoModel:
    """The installed model; when there is none, the first-run experiment trains and installs it first."""
    from creative_painting.experiment.demo import run_demo

    found = installed()
    if found is not None:
        return found
    print(f"--model demo: no experiment model yet; training one as `{QUICK_COMMAND}` does (under 2 minutes)",
          file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        return install(run_demo(tmp, QUICK, progress))


def resolve(choice: ModelChoice, progress: bool = True) -> tuple[ModelChoice, DemoModel | None]:
    """`--model demo` as the installed model's file (trained first if missing); any other choice as it is."""
    if choice.model != DEMO or Path(DEMO).exists():  # a folder or file named demo comes first, as for tiny
        return choice, None
    found = demo_model(progress)
    return dataclasses.replace(choice, model=str(found.path)), found
