import io
import json
import os
import tarfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from creative_painting.cli.main import main
from creative_painting.training.latents import LatentEncoder
from creative_painting.wikiart import iter_source
from creative_painting.wikiart.balance import artist_weights
from creative_painting.wikiart.shards import ShardSettings, write_shards

BROKEN = {"Baroque/rembrandt_woman-standing-with-raised-hands.jpg": "truncated",
          "Realism/ivan-broken_not-an-image-1901.jpg": "unreadable",
          "Realism/ivan-broken_tiny-sketch-1902.jpg": "tiny",
          "Realism/ivan-broken_grey-study-1903.jpg": "grayscale",
          "Realism/ivan-broken_cmyk-print-1904.jpg": "cmyk"}


def top_share(artists, weights=None, k: int = 30) -> float:
    """Percentage of the (weighted) samples that belong to the `k` largest artists: what balancing changes."""
    weights = weights or [1.0] * len(artists)
    mass: Counter[str] = Counter()
    for a, w in zip(artists, weights, strict=True):
        mass[a] += w
    top = [a for a, _ in Counter(artists).most_common(k)]
    return 100 * sum(mass[a] for a in top) / sum(mass.values())


def _tar_samples(folder: Path) -> dict[str, dict[str, bytes]]:
    samples: dict[str, dict[str, bytes]] = {}
    for path in sorted(folder.glob("shard-*.tar")):
        with tarfile.open(path) as tar:
            for m in tar.getmembers():
                key, ext = m.name.split(".", 1)
                samples.setdefault(key, {})[ext] = tar.extractfile(m).read()
    return samples


def test_validate_reports_every_broken_kind(wikiart_tar, capsys):
    assert main(["wikiart", "validate", str(wikiart_tar), "--json", "--no-progress", "--workers", "2"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["images"] == 65
    assert report["counts"] == {"unreadable": 1, "truncated": 1, "tiny": 1, "grayscale": 1, "cmyk": 1, "bad-name": 0}
    assert {p["path"]: p["problem"] for p in report["problems"]} == BROKEN


def test_validate_needs_pixels(tmp_path, capsys):
    (tmp_path / "style_train.csv").write_text("Realism/a-b_c.jpg,0\n")
    assert main(["wikiart", "validate", str(tmp_path / "style_train.csv"), "--no-progress"]) == 2
    assert "names only" in capsys.readouterr().err
    assert main(["wikiart", "shard", str(tmp_path / "style_train.csv"), str(tmp_path / "out"), "--no-progress"]) == 2
    assert "names only" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_shard_skips_broken_files_and_keeps_converted_ones(wikiart_folder, tmp_path, capsys):
    out = tmp_path / "shards"
    assert main(["wikiart", "shard", str(wikiart_folder), str(out), "--size", "64", "--shard-size", "16",
                 "--workers", "2", "--no-progress"]) == 0
    manifest = json.loads((out / "shards.json").read_text())
    assert manifest["samples"] == 62 and manifest["skipped"] == 3 and len(manifest["shards"]) == 5
    assert {p["path"]: p["problem"] for p in manifest["problems"]} == BROKEN
    samples = _tar_samples(out)
    assert len(samples) == 62
    assert "000000000" not in samples  # entry 0 is the truncated Rembrandt; keys stay the entry numbers
    for sample in samples.values():
        with Image.open(io.BytesIO(sample["jpg"])) as image:
            assert image.size == (64, 64) and image.mode == "RGB"
    captions = {json.loads(s["json"])["path"]: s["txt"].decode() for s in samples.values()}
    assert captions["Cubism/clara-berg_sun-1-1886.jpg"] == "Sun 1, a painting by Clara Berg, Cubism, 1886"
    assert "Realism/ivan-broken_grey-study-1903.jpg" in captions  # converted to RGB, not dropped


def test_shard_resumes_only_missing_shards_and_is_worker_independent(wikiart_folder, tmp_path):
    settings = ShardSettings(size=32, shard_size=20)
    first = write_shards(str(wikiart_folder), tmp_path / "a", settings, workers=0, progress=False)
    stamps = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "a").glob("shard-*.tar")}
    (tmp_path / "a" / "shard-000001.json").unlink()  # as if killed while writing shard 1
    (tmp_path / "a" / "shard-000001.tar").unlink()
    again = write_shards(str(wikiart_folder), tmp_path / "a", settings, workers=0, progress=False)
    assert again["samples"] == first["samples"] == 62
    after = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "a").glob("shard-*.tar")}
    assert {k for k in after if after[k] != stamps.get(k)} == {"shard-000001.tar"}
    write_shards(str(wikiart_folder), tmp_path / "b", settings, workers=2, progress=False)
    assert _tar_samples(tmp_path / "a") == _tar_samples(tmp_path / "b")


def test_shard_refuses_to_mix_settings(wikiart_folder, tmp_path, capsys):
    args = ["wikiart", "shard", str(wikiart_folder), str(tmp_path), "--shard-size", "100", "--no-progress"]
    assert main([*args, "--size", "32", "--workers", "0"]) == 0
    capsys.readouterr()
    assert main([*args, "--size", "64", "--workers", "0"]) == 2
    assert "other settings" in capsys.readouterr().err
    assert main(["wikiart", "shard", str(wikiart_folder), str(tmp_path / "x"), "--size", "30"]) == 2
    assert main(["wikiart", "shard", str(wikiart_folder), str(tmp_path / "x"), "--skip", "blurry"]) == 2


def test_shard_latents_with_a_tiny_vae(wikiart_tar, tiny_dir, tmp_path):
    manifest = write_shards(str(wikiart_tar), tmp_path, ShardSettings(size=32, shard_size=64), workers=0,
                            latents=lambda: LatentEncoder(str(tiny_dir / "tiny.safetensors")), progress=False)
    assert manifest["kind"] == "latents" and manifest["scaling_factor"] == pytest.approx(0.18215)
    samples = _tar_samples(tmp_path)
    assert "jpg" not in next(iter(samples.values()))
    latent = np.load(io.BytesIO(next(iter(samples.values()))["latent.npy"]))
    assert latent.shape == (8, 4, 4) and latent.dtype == np.float16  # mean and logvar, 32 px / 8


def test_balance_weights_even_out_artists(wikiart_folder, tmp_path):
    artists = ["a"] * 90 + ["b"] * 10
    flat = artist_weights(artists, power=1.0)
    assert sum(flat) == pytest.approx(100) and top_share(artists, flat, k=1) == pytest.approx(50)
    assert top_share(artists, artist_weights(artists, 0.0), k=1) == pytest.approx(90)
    write_shards(str(wikiart_folder), tmp_path, ShardSettings(size=32, shard_size=100), workers=0, balance=1.0,
                 progress=False)
    weights = {json.loads(s["json"])["artist_slug"]: json.loads(s["json"])["weight"] for s in _tar_samples(tmp_path).values()}
    assert weights["ivan-broken"] == pytest.approx(2.5 * weights["clara-berg"])  # 4 paintings versus 10


def test_balance_on_real_wikiart(real_lists):
    artists = [a.artist_slug for a in iter_source(f"{real_lists / 'style_train.csv'},{real_lists / 'style_val.csv'}")]
    assert top_share(artists) == pytest.approx(27.62, abs=0.05)  # val repeats a few train paths
    assert top_share(artists, artist_weights(artists, 1.0)) == pytest.approx(100 * 30 / 1119, abs=0.01)
    assert 5 < top_share(artists, artist_weights(artists, 0.5)) < 15


def test_a_failed_latent_shard_run_leaves_nothing(wikiart_folder, tmp_path, capsys):
    out = tmp_path / "latents"
    assert main(["wikiart", "shard", str(wikiart_folder), str(out), "--latents", str(tmp_path / "no-model"),
                 "--no-progress"]) == 2
    assert "not found" in capsys.readouterr().err
    assert not out.exists()


def test_a_file_name_that_is_not_utf8_is_recorded_and_sharding_goes_on(tmp_path, synthetic_files, capsys):
    from creative_painting.wikiart.synthetic import write_collection

    root = write_collection(dict(list(synthetic_files.items())[:6]), tmp_path / "wa")
    good = next(p for p in root.rglob("*.jpg"))
    bad = os.path.join(os.fsencode(good.parent), b"claude-monet_caf\xe9-1870.jpg")
    with open(bad, "wb") as f:
        f.write(good.read_bytes())
    out = tmp_path / "shards"
    assert main(["wikiart", "shard", str(root), str(out), "--size", "32", "--shard-size", "2", "--workers", "0",
                 "--no-progress"]) == 0
    manifest = json.loads((out / "shards.json").read_text())
    assert manifest["samples"] == 7
    assert [p["problem"] for p in manifest["problems"] if "\ufffd" in p["path"]] == ["bad-name"]
