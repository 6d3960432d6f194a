import io

import torch
from PIL import Image, ImageFilter

from creative_painting.cli.main import main
from creative_painting.evaluation.attribution import AttributionClassifier
from creative_painting.training.config import VaeConfig
from creative_painting.training.vae_trainer import train_vae
from creative_painting.wikiart.synthetic import SUBJECTS, collection_files, make_artists


def test_attribution_classifier_tells_synthetic_artists_apart():
    artists = make_artists(6)
    train = collection_files(artists, SUBJECTS[:5], per_pair=3, size=32, numbered=False, seed=0)
    held_out = collection_files(artists, SUBJECTS[5:8], per_pair=1, size=32, numbered=False, seed=7)

    def split(files):
        return [Image.open(io.BytesIO(b)) for b in files.values()], [n.split("/")[1].split("_")[0] for n in files]

    classifier = AttributionClassifier(*split(train))
    images, labels = split(held_out)  # unseen subjects: the palette, not the shape, must decide
    assert classifier.accuracy(images, labels) >= 0.9
    smooth = [i.convert("RGB").filter(ImageFilter.GaussianBlur(1.2)) for i in images]  # as a small model paints
    assert classifier.accuracy(smooth, labels) >= 0.9
    slugs = [a.slug for a in artists]
    wrong = [slugs[(slugs.index(label) + 1) % len(slugs)] for label in labels]
    assert classifier.accuracy(images, wrong) <= 1 / 6  # another artist's name is not accepted
    noise = [Image.effect_noise((32, 32), 60).convert("RGB") for _ in range(6)]
    assert classifier.accuracy(noise, [a.slug for a in artists]) <= 2 / 6  # gray noise has no palette


def test_train_vae_reduces_reconstruction_loss(shards, tmp_path):
    cfg = VaeConfig(data=str(shards / "shards"), output_dir=str(tmp_path), channels=[16, 32], resolution=32,
                    batch_size=8, max_steps=30, learning_rate=2e-3, num_workers=0).validate()
    result = train_vae(cfg, progress=False)
    losses = list(result["losses"].values())
    assert sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5
    assert 0.1 < result["scaling_factor"] < 100
    from diffusers import AutoencoderKL

    saved = AutoencoderKL.from_pretrained(tmp_path)  # the output folder is a diffusers VAE
    assert saved.config.scaling_factor == result["scaling_factor"]
    assert all(torch.equal(v, result["vae"].state_dict()[k]) for k, v in saved.state_dict().items())


def test_demo_and_train_vae_bad_input(tmp_path, capsys):
    assert main(["demo", "--artists", "1"]) == 2
    assert "--artists" in capsys.readouterr().err
    (tmp_path / "vae.yaml").write_text("data: x\noutput_dir: y\nresolution: 33\nchannels: [8, 16]\n")
    assert main(["train-vae", str(tmp_path / "vae.yaml")]) == 2
    assert "divisible" in capsys.readouterr().err
    (tmp_path / "vae.yaml").write_text(f"data: x\noutput_dir: {tmp_path / 'y'}\nresolution: 32\nchannels: [8, 16]\n"
                                       "num_workers: -1\n")
    assert main(["train-vae", str(tmp_path / "vae.yaml")]) == 2
    err = capsys.readouterr().err
    assert "num_workers must be 0" in err and err.count("\n") == 1 and not (tmp_path / "y").exists()
