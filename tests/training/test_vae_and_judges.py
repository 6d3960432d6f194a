import io

import pytest
import torch
from PIL import Image, ImageFilter

from creative_painting.cli.main import main
from creative_painting.experiment.judges import NONE, ArtistJudge, SubjectJudge
from creative_painting.training.config import VaeConfig
from creative_painting.training.data import open_items
from creative_painting.training.vae_trainer import _export, train_vae
from creative_painting.wikiart.synthetic import SUBJECTS, collection_files, make_artists


def _split(files):
    names = [n.split("/")[1] for n in files]
    return ([Image.open(io.BytesIO(b)).convert("RGB") for b in files.values()], [n.split("_")[0] for n in names],
            [n.split("_", 1)[1].rsplit("-", 1)[0] for n in names])


@pytest.fixture(scope="module")
def judged():
    """Judges trained on one rendering of 6 artists x 6 subjects, tested on another (unseen copies)."""
    artists = make_artists(6)
    train_images, train_artists, train_subjects = _split(collection_files(artists, SUBJECTS[:6], per_pair=4, size=32,
                                                                          numbered=False, seed=100))
    test = _split(collection_files(artists, SUBJECTS[:6], per_pair=2, size=32, numbered=False, seed=200))
    return (artists, ArtistJudge(train_images, train_artists, [a.palette for a in artists]),
            SubjectJudge(train_images, train_subjects), test)


def test_judges_recognise_unseen_real_paintings_also_when_smooth(judged):
    artists, artist_judge, subject_judge, (images, artist_labels, subject_labels) = judged
    smooth = [i.filter(ImageFilter.GaussianBlur(1.2)) for i in images]  # as a small model paints
    for batch in (images, smooth):
        assert artist_judge.accuracy(batch, artist_labels) >= 0.95
        assert subject_judge.accuracy(batch, subject_labels) >= 0.9
    slugs = [a.slug for a in artists]
    wrong = [slugs[(slugs.index(label) + 1) % len(slugs)] for label in artist_labels]
    assert artist_judge.accuracy(images, wrong) <= 1 / 6  # another artist's name is not accepted


def test_a_flat_square_of_a_palette_colour_is_nobodys_painting(judged):
    artists, artist_judge, _, _ = judged
    flat = [Image.new("RGB", (32, 32), colour) for a in artists for colour in a.palette]
    assert set(artist_judge.predict(flat)) == {NONE}
    noise = [Image.effect_noise((32, 32), 60).convert("RGB") for _ in range(6)]
    assert artist_judge.accuracy(noise, [a.slug for a in artists]) <= 1 / 6  # grey noise has no palette


def test_the_subject_judge_is_blind_to_palette():
    """Trained without one artist, it still names the subjects of that artist's paintings: shape decides."""
    artists = make_artists(6)
    images, artist_labels, subject_labels = _split(collection_files(artists, SUBJECTS[:6], per_pair=3, size=32,
                                                                    numbered=False, seed=300))
    for left_out in (artists[0].slug, artists[3].slug):
        keep = [i for i, a in enumerate(artist_labels) if a != left_out]
        judge = SubjectJudge([images[i] for i in keep], [subject_labels[i] for i in keep])
        other = [i for i, a in enumerate(artist_labels) if a == left_out]
        assert judge.accuracy([images[i] for i in other], [subject_labels[i] for i in other]) >= 0.8, left_out


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
    again = tmp_path / "again"  # the scaling factor is measured on a seeded sample: exporting again gives the same
    again.mkdir()
    _export(result["vae"], open_items(cfg.data)[0], cfg, again, next(result["vae"].parameters()).device)
    assert AutoencoderKL.from_pretrained(again).config.scaling_factor == result["scaling_factor"]


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


def test_train_vae_resumes_to_the_same_weights(shards, tmp_path):
    def cfg(out, steps):
        return VaeConfig(data=str(shards / "shards"), output_dir=str(tmp_path / out), channels=[16, 32], resolution=32,
                         batch_size=4, max_steps=steps, learning_rate=2e-3, num_workers=0, checkpoint_every=2).validate()

    straight = train_vae(cfg("a", 4), progress=False)
    train_vae(cfg("b", 2), progress=False)
    resumed = train_vae(cfg("b", 4), progress=False)
    assert list(resumed["losses"]) == [3, 4]
    for key, value in straight["vae"].state_dict().items():
        assert torch.allclose(value, resumed["vae"].state_dict()[key], atol=1e-6), key
