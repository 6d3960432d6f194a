"""`figures`: the paper's experiments as resumable batch jobs (tiny model, small size, few steps)."""

import json

import pytest
from PIL import Image

from creative_painting.batch.figures import FIGURE_5_8_ARTISTS, LDM_PROMPTS, PAPER_EXTENSIONS
from creative_painting.cli.main import main


@pytest.mark.slow  # 19 s: `make test-all` and scripts/check_claims.py run it
def test_figures_paints_every_figure_with_the_papers_prompts_and_artists(tiny_dir, tmp_path, capsys):
    lists = tmp_path / "style_train.csv"
    rows = [f"Impressionism/artist-{i:02d}_work-{k}.jpg,0" for i in range(32) for k in range(40 - i)]
    lists.write_text("\n".join(rows) + "\n")
    out = tmp_path / "fig"
    args = ["figures", "--out", str(out), "--wikiart", str(lists), "--model", str(tiny_dir / "tiny.safetensors"),
            "--steps", "1", "--width", "32", "--height", "32", "--batch-size", "32", "--no-progress", "--json"]
    assert main(args) == 0
    done = json.loads(capsys.readouterr().out)
    assert Image.open(done["figure-3"]).size[0] > 500
    assert done["figure-4"]["cells"] == len(LDM_PROMPTS) * 30
    assert done["figures-9-12"]["cells"] == 4 * 30 and done["figures-5-8"]["cells"] == 4 * 4
    manifest = [json.loads(line) for line in (out / "figures-5-8" / "manifest.jsonl").read_text().splitlines()]
    assert {r["artist"] for r in manifest} == set(FIGURE_5_8_ARTISTS)
    assert f"{PAPER_EXTENSIONS[1]} by Claude Monet" in {r["caption"] for r in manifest}
    top = {r["artist"] for r in map(json.loads, (out / "figure-4" / "manifest.jsonl").read_text().splitlines())}
    assert top == {f"Artist {i:02d}" for i in range(30)}  # the 30 with the most paintings
    assert (out / "figures-9-12" / "grid.png").is_file()
    assert main(args) == 0  # a rerun resumes: nothing is painted again
    again = json.loads(capsys.readouterr().out)
    assert all(again[name]["painted"] == 0 for name in ("figure-4", "figures-5-8", "figures-9-12"))


def test_without_wikiart_the_skipped_figures_are_named_with_the_reason(tiny_dir, tmp_path, capsys, caplog):
    args = ["figures", "--out", str(tmp_path / "fig"), "--model", str(tiny_dir / "tiny.safetensors"), "--steps", "1",
            "--width", "32", "--height", "32", "--batch-size", "16", "--no-progress"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "Figures 3, 4 and 9-12 skipped" in caplog.text and "--wikiart" in caplog.text  # a note on stderr
    assert captured.out.startswith("figures-5-8: ") and "skipped" not in captured.out


def test_long_row_labels_stay_beside_their_row():
    import numpy as np

    from creative_painting.painting.grid import make_grid

    cell = Image.new("RGB", (128, 128), "white")
    label = "Haile Gebrselassie triumphed at the Dubai Marathon in January 2008 " * 6  # a long extension
    grid = np.asarray(make_grid([[cell, cell]], ["A", "B"], [label, "short"][:1], min_side=128))
    row_w = int(128 * 0.9)
    ink = (grid[:, : row_w + 4] < 128).any(axis=2)
    assert ink.any(), "the label is drawn"
    assert not ink[:, row_w:].any(), "no letter reaches the first column"
    assert not ink[4 + 128 :, :].any(), "nor runs below its row"
