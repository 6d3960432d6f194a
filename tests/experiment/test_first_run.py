"""The first run (`make demo`, `demo --quick`): no held-out pair reaches any training, its model as `--model demo`
for `paint` and the studio, and (slow) its stated numbers."""

import dataclasses
import json

import pytest
import torch
from PIL import Image

from creative_painting.cli.main import main
from creative_painting.experiment import first_run
from creative_painting.experiment.demo import run_demo
from creative_painting.experiment.first_run import QUICK, installed
from creative_painting.wikiart.synthetic import SUBJECTS

# Every phase in seconds, at the first run's painters, subjects and model: for the checks that are not about accuracy.
PHASES = {"copies": 2, "vae_steps": 4, "vae_batch_size": 4, "base_steps": 3, "stage2_steps": 3, "batch_size": 4,
          "samples": 1, "sample_steps": 2}


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """The installed `--model demo` goes to this test's own cache, never the user's."""
    monkeypatch.setenv("CREATIVE_PAINTING_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_no_held_out_pair_reaches_any_training(tmp_path, monkeypatch):
    """What the base model and stage 2 each read (latents) is every seen pair and no held-out one: a mutant that
    leaks a held-out pair into either fails here. The VAE trains on nothing of the run (it is shipped; next test)."""
    from creative_painting.training import data, trainer, vae_trainer

    opened = []

    def recording(path):
        items, manifest = data.open_items(path)
        opened.append((path, {(item.artwork.artist_slug, item.artwork.title.lower()) for item in items}))
        return items, manifest

    monkeypatch.setattr(trainer, "open_items", recording)
    monkeypatch.setattr(vae_trainer, "open_items", recording)
    result = run_demo(tmp_path / "run", dataclasses.replace(QUICK, **PHASES), progress=False)
    slug = {p["name"]: p["slug"] for p in result["painters"]}
    held = {(slug[artist], subject) for artist, subject in result["held_out"]}
    every = {(p["slug"], subject) for p in result["painters"] for subject in SUBJECTS[: QUICK.subjects]}
    assert len(held) == QUICK.artists and held < every  # one subject held out per painter
    assert [path.split("/")[-1] for path, _ in opened] == ["latents", "latents"]  # base, stage 2 (the VAE ships)
    for _, items in opened:
        assert items == every - held
    assert all(p["paintings"] == PHASES["copies"] * (QUICK.subjects - 1) for p in result["painters"])
    for name, rows in (("grid-stage2.png", 6), ("compare-stage2.png", 12)):  # compare: base and retrained rows
        assert Image.open(tmp_path / "run" / name).height > rows * 96
    # stage 2's text encoder learns at its own, smaller rate (seed 1: 0.71 -> 0.83); the base at the U-Net's
    config = {name: json.loads((tmp_path / "run" / "models" / name / "config.json").read_text())
              for name in ("base", "stage2-alone")}
    assert config["stage2-alone"]["text_encoder_learning_rate"] == QUICK.text_encoder_learning_rate < QUICK.learning_rate
    assert config["base"]["text_encoder_learning_rate"] is None


def test_the_first_run_paints_through_the_shipped_vae_which_never_saw_its_painters(tmp_path):
    """`QUICK` trains no VAE: its model's VAE is the shipped one, weight for weight (a run that trains its own, 41-46
    s of 2 minutes, fails here). That VAE learned from `random_painters`, none of whom has the palette of a
    painter of the experiment at any seed (most of theirs lie within 1-4 RGB units of one: docs/training.md)."""
    from diffusers import AutoencoderKL

    from creative_painting.models import load
    from creative_painting.wikiart.synthetic import make_artists, random_painters

    run_demo(tmp_path / "run", dataclasses.replace(QUICK, **PHASES), progress=False)
    assert not (tmp_path / "run" / "models" / "vae").exists()
    model = load(str(tmp_path / "run" / "models" / "init.safetensors")).vae.state_dict()
    shipped = AutoencoderKL.from_pretrained(first_run.VAE, torch_dtype=torch.float32).state_dict()
    assert model.keys() == shipped.keys() and all(torch.equal(model[k], shipped[k]) for k in shipped)
    # make_artists' painters of any count share palettes exactly (hues i/n); random hues do not
    theirs = {p.palette for p in random_painters(*first_run.VAE_PAINTERS)}
    assert len(theirs) > first_run.VAE_PAINTERS[0] // 2
    assert not theirs & {p.palette for seed in range(20) for p in make_artists(QUICK.artists, seed)}


def test_the_shipped_vae_keeps_what_the_judges_read(tmp_path):
    """Painters it never saw (seed 7's), a fresh rendering of every pair, through the shipped VAE: the judges still
    name the painter and the subject (measured 1.00 and 1.00; scripts/train_first_run_vae.py reports seeds 0-4). An
    untrained VAE of the same shape is judged near chance."""
    from diffusers import AutoencoderKL

    shipped = AutoencoderKL.from_pretrained(first_run.VAE, torch_dtype=torch.float32)
    untrained = AutoencoderKL.from_config(shipped.config)
    scores = first_run.judged_through({"shipped": shipped, "untrained": untrained}, seed=7, render_seed=4242)
    assert min(scores["shipped"]) >= 0.9 and max(scores["untrained"]) <= 0.5, scores


def test_model_demo_is_trained_when_missing_then_paints_with_its_painters(tmp_path, monkeypatch, capsys):
    """`paint --model demo` with nothing installed trains the first-run model (here at PHASES' size), installs
    it, and paints at its 32 px; the studio then offers its painters, not WikiArt's, at that size."""
    from creative_painting.models.choice import ModelChoice
    from creative_painting.studio.service import Studio
    from creative_painting.studio.ui import build_app

    monkeypatch.setattr(first_run, "QUICK", dataclasses.replace(QUICK, **PHASES))
    assert installed() is None
    assert main(["paint", "a boat", "--artist", "Anna Orlova", "--model", "demo", "--steps", "2",
                 "--out", str(tmp_path / "painted"), "--no-progress"]) == 0
    assert "no experiment model yet; training one as `creative-painting demo --quick`" in capsys.readouterr().err
    painted = sorted((tmp_path / "painted" / "images").glob("*.png"))
    assert len(painted) == 1 and Image.open(painted[0]).size == (32, 32)  # the model's size, not the preset's
    model = installed()
    painters = [p["name"] for p in model.painters]
    assert len(painters) == QUICK.artists and painters[0] == "Anna Orlova"
    choice, demo = first_run.resolve(ModelChoice("demo"))
    assert choice.model == str(model.path) and demo.size == 32 and "Anna Orlova never painted a" in demo.note
    assert first_run.resolve(ModelChoice("tiny")) == (ModelChoice("tiny"), None)
    studio = Studio(tmp_path / "studio")
    try:
        studio.artists, studio.size = demo.artists(), demo.size
        app = build_app(studio)
        blocks = {getattr(b, "elem_id", None): b for b in app.blocks.values()}
        assert [value for _, value in blocks["top-artists"].choices] == painters
        assert blocks["width"].value == blocks["height"].value == 32
    finally:
        studio.close()


@pytest.mark.slow  # under 2 minutes: `make test-all` and `scripts/check_claims.py` run it
def test_first_run_beats_the_base_model_on_held_out_pairs(tmp_path, capsys):
    """The README's numbers for seed 0: after retraining, held-out joint accuracy at least 0.8 (measured 1.00), the
    base model's at most 0.2 (0.08), in under 2 minutes on 2 cores (100 s measured; the bound leaves a busy machine
    room). A stage 2 that stops learning names fails it; so does a base model that already knows them. Seeds 1-9 are
    in docs/training.md; this test guards seed 0 only."""
    assert main(["demo", "--quick", "--out", str(tmp_path / "demo"), "--json", "--no-progress"]) == 0
    summary = json.loads(capsys.readouterr().out)
    held = {model: scores["joint"]["mean"] for model, scores in summary["heldout"].items()}
    print(f"\nfirst run: {summary['headline']}; {summary['seconds_per_seed']} s")
    assert summary["seeds"] == [0] and held["stage2"] >= 0.8 and held["base"] <= 0.2, held
    assert summary["seconds_per_seed"][0] <= 140
    assert f"joint accuracy {held['stage2']:.2f} after retraining" in summary["headline"]
    assert [p["name"] for p in installed().painters] == summary["artist_names"]


def test_paint_resolves_model_names_without_importing_the_judges(tiny_dir, tmp_path):
    """`paint` imports this module to resolve `--model demo`; scikit-learn (the judges, 2 s) is for the experiment."""
    import subprocess
    import sys

    run = ("import sys; from creative_painting.cli.main import main; "
           f"code = main(['paint', 'a tree', '--model', {str(tiny_dir / 'tiny.safetensors')!r}, '--steps', '1', "
           f"'--width', '32', '--height', '32', '--no-progress', '--out', {str(tmp_path / 'p')!r}]); "
           "print('RESULT', code, 'sklearn' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", run], capture_output=True, text=True, timeout=300)
    assert done.stdout.strip().splitlines()[-1] == "RESULT 0 False", done.stderr[-2000:]


def test_a_damaged_installed_model_is_one_line_and_kept(cache, tmp_path, capsys):
    home = cache / "demo-model"
    home.mkdir(parents=True)
    (home / "model.safetensors").write_bytes(b"weights")
    (home / "painters.json").write_text("{garbage", encoding="utf-8")
    assert main(["paint", "a boat", "--model", "demo", "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "painters.json is damaged" in err[0] and "demo --quick" in err[0], err
    assert (home / "painters.json").read_text(encoding="utf-8") == "{garbage" and not (tmp_path / "out").exists()
