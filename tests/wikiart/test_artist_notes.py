"""A misspelled WikiArt artist gets a hint, from the command line and a job file; the picture is painted as typed."""

from __future__ import annotations

from creative_painting.cli.main import main
from creative_painting.wikiart.catalog import artist_notes


def test_a_misspelled_artist_is_named_with_the_nearest_wikiart_artist():
    notes = artist_notes(["Vincnet van Gohg", "Claude Monet", "claude monet", "Banksy", "Rembrant", None])
    assert notes == ["'Vincnet van Gohg' is not one of WikiArt's artists; did you mean Vincent van Gogh?",
                     "'Rembrant' is not one of WikiArt's artists; did you mean Rembrandt?"]


def test_paint_and_batch_warn_and_paint_the_name_as_typed(tiny_dir, tmp_path, caplog):
    small = ["--model", str(tiny_dir / "tiny.safetensors"), "--steps", "1", "--width", "32", "--height", "32",
             "--no-progress"]
    assert main(["paint", "a bridge", "--artist", "Vincnet van Gohg", "--out", str(tmp_path / "p"), *small]) == 0
    assert "did you mean Vincent van Gogh?" in caplog.text
    assert "by Vincnet van Gohg" in (tmp_path / "p" / "manifest.jsonl").read_text()
    caplog.clear()
    job = tmp_path / "job.yaml"
    job.write_text("prompts: [a bridge]\nartists: [Pablo Picaso]\n")
    assert main(["batch", str(job), "--out", str(tmp_path / "b"), *small]) == 0
    assert "did you mean Pablo Picasso?" in caplog.text
