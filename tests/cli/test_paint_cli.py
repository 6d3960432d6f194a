"""The acceptance commands, and bad input: one line on stderr, exit code 2, no traceback."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from creative_painting.cli.main import main
from creative_painting.painting import read_png_metadata
from creative_painting.painting.folder import read_folder

PROMPT = "a painting of urbanization of china"
ARTISTS = ["--artist", "Vincent van Gogh", "--artist", "Claude Monet"]
SMALL = ["--steps", "4", "--width", "64", "--height", "64", "--no-progress"]


@pytest.mark.parametrize("fmt", ["tiny.safetensors", "tiny.ckpt", "diffusers"])
def test_acceptance_paint_from_every_format(tiny_dir, tmp_path, fmt, capsys):
    out = tmp_path / "O"
    assert main(["paint", PROMPT, *ARTISTS, "--model", str(tiny_dir / fmt), *SMALL, "--out", str(out)]) == 0
    records = read_folder(out).records
    assert [r["file"] for r in records] == sorted(f"images/{p.name}" for p in (out / "images").iterdir())
    assert records[0]["file"].startswith("images/p00000-a000-s00-vincent-van-gogh-") and len(records) == 2
    assert sorted(p.name for p in out.iterdir()) == [".creative-painting.json", "grid.png", "images", "index.html",
                                                      "job.json", "manifest.jsonl"]
    meta = read_png_metadata(out / records[0]["file"])
    for key in ("prompt", "caption", "artist", "seed", "sampler", "steps", "scale", "width", "height", "model"):
        assert meta[key] is not None, key
    assert meta["artist"] == "Vincent van Gogh" and meta["model"] == str(tiny_dir / fmt)
    assert Image.open(out / "grid.png").width > 2 * 64
    assert [r["artist"] for r in records] == ["Vincent van Gogh", "Claude Monet"]
    assert json.loads((out / "job.json").read_text())["request"]["artists"] == ["Vincent van Gogh", "Claude Monet"]


def test_all_formats_paint_the_same_pixels(tiny_dir, tmp_path):
    images = []
    for fmt in ("tiny.safetensors", "tiny.ckpt", "diffusers"):
        main(["paint", PROMPT, "--model", str(tiny_dir / fmt), *SMALL, "--out", str(tmp_path / fmt)])
        images.append(np.asarray(Image.open(tmp_path / fmt / read_folder(tmp_path / fmt).records[0]["file"])))
    assert all(np.array_equal(images[0], other) for other in images[1:])


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "/no/such.ckpt"], "model file not found"),
    (["--sampler", "heun"], "sampler must be one of ddpm, ddim, plms, dpmpp-2m, euler-a, unipc, got 'heun'"),
    (["--width", "65"], "width must be a positive multiple of 8, got 65"),
    (["--steps", "0"], "steps must be at least 1"),
    (["--sampler", "plms", "--eta", "1"], "ddim only"),
    (["--preset", "best"], "preset must be one of paper, fast, got 'best'"),
    (["--steps", "many"], "steps must be an integer, got 'many'"),
])
def test_bad_input_is_one_line_and_exit_2(tiny_dir, args, message, capsys):
    argv = ["paint", PROMPT, "--model", str(tiny_dir / "tiny.ckpt"), *args, "--no-progress"]
    with pytest.raises(SystemExit) if "invalid" in message else _no_exit():
        code = main(argv)
        assert code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_corrupt_and_truncated_checkpoints(tiny_dir, tmp_path, capsys):
    for name, data in (("cut.safetensors", (tiny_dir / "tiny.safetensors").read_bytes()[:4096]),
                       ("cut.ckpt", (tiny_dir / "tiny.ckpt").read_bytes()[:4096]),
                       ("junk.ckpt", b"not a checkpoint at all")):
        (tmp_path / name).write_bytes(data)
        assert main(["paint", PROMPT, "--model", str(tmp_path / name), "--no-progress"]) == 2
        err = capsys.readouterr().err.strip()
        assert "corrupt or truncated" in err and len(err.splitlines()) == 1


def test_empty_prompt_in_a_real_process(tiny_dir):
    """A subprocess: proves no traceback reaches the terminal, whatever pytest would catch."""
    run = subprocess.run([sys.executable, "-m", "creative_painting.cli.main", "paint", "  ",
                          "--model", str(tiny_dir / "tiny.ckpt")], capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.strip() == "creative-painting paint: error: prompt must not be empty"


def test_make_tiny_writes_every_format(tmp_path, capsys):
    assert main(["models", "make-tiny", str(tmp_path / "T")]) == 0
    assert {p.name for p in (tmp_path / "T").iterdir()} == {"diffusers", "tiny.safetensors", "tiny.ckpt", ".creative-painting.json"}
    assert (tmp_path / "T" / "diffusers" / "model_index.json").is_file()


def test_inspect_and_convert(tiny_dir, tmp_path, capsys):
    assert main(["models", "inspect", str(tiny_dir / "tiny.ckpt")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["unused_keys"] == [] and report["vae_scale_factor"] == 8
    assert main(["models", "convert", str(tiny_dir / "diffusers"), str(tmp_path / "x.safetensors")]) == 0
    assert (tmp_path / "x.safetensors").stat().st_size == (tiny_dir / "tiny.safetensors").stat().st_size


class _no_exit:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_painting_again_needs_overwrite_and_then_replaces_the_whole_output(tiny_dir, tmp_path, capsys):
    out = tmp_path / "O"
    model = ["--model", str(tiny_dir / "tiny.safetensors"), *SMALL, "--out", str(out)]
    assert main(["paint", "a harbour", "a city", *ARTISTS, *model]) == 0
    first = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert main(["paint", "a tree", *model]) == 2
    assert "pass --overwrite" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == first  # refused: nothing touched
    assert main(["paint", "a tree", *model, "--overwrite"]) == 0
    records = read_folder(out).records
    pngs = {str(p.relative_to(out)) for p in out.rglob("*.png")} - {"grid.png"}
    assert pngs == {r["file"] for r in records} and len(pngs) == 1  # no PNG left from the first run
    assert records[0]["prompt"] == "a tree"


def test_convert_replaces_only_its_own_previous_output(tiny_dir, tmp_path, capsys):
    target = tmp_path / "conv"
    assert main(["models", "convert", str(tiny_dir / "tiny.safetensors"), str(target)]) == 0
    assert main(["models", "convert", str(tiny_dir / "tiny.ckpt"), str(target)]) == 2
    assert main(["models", "convert", str(tiny_dir / "tiny.ckpt"), str(target), "--overwrite"]) == 0
    (target / "notes.txt").write_text("mine")  # the user adds a file: the folder is no longer only ours
    assert main(["models", "convert", str(tiny_dir / "tiny.ckpt"), str(target), "--overwrite"]) == 2
    assert "did not write (notes.txt" in capsys.readouterr().err
    assert (target / "notes.txt").read_text() == "mine" and (target / "unet" / "config.json").is_file()
