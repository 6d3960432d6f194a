"""The CPU demo: a quick pass through every phase, and (slow) the goal itself."""

import json
from pathlib import Path

import pytest
from PIL import Image

from creative_painting.cli.main import main
from creative_painting.training.demo import DemoSettings, run_demo


def test_demo_runs_every_phase_and_keeps_its_outputs(tmp_path):
    settings = DemoSettings(artists=3, subjects=2, copies=2, vae_steps=4, base_steps=3, stage1_steps=3,
                            stage2_steps=3, batch_size=4, sample_steps=2)
    result = run_demo(tmp_path, settings, progress=False)
    assert set(result["accuracy"]) == {"base", "stage1", "stage2"}
    assert all(0.0 <= a <= 1.0 for a in result["accuracy"].values())
    assert list(result["phases"]) == ["data", "vae", "base", "stage1", "stage2", "paint and attribute"]
    assert result["seconds"] >= sum(result["phases"].values()) - 1
    grid = Image.open(tmp_path / "grid.png")
    assert grid.width > 3 * 96 and grid.height > 2 * 96  # artists x subjects, labelled
    for name in ("base", "stage1", "stage2"):
        assert (tmp_path / "models" / name / "model.safetensors").is_file()
    assert (tmp_path / "models" / "stage1" / "samples" / "step-000003" / "grid.png").is_file()
    again = run_demo(tmp_path, settings, progress=False)  # finished stages resume instead of retraining
    assert again["accuracy"] == result["accuracy"]


@pytest.mark.slow
def test_demo_meets_the_goal(capsys):
    """The issue's goal: stage 2 attribution >= 0.9 (chance 1/6), the whole run within 15 minutes on 2 cores."""
    assert main(["demo", "--json", "--no-progress"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["accuracy"]["stage2"] >= 0.9
    assert result["accuracy"]["base"] <= 0.4  # the base model never saw artist names
    assert result["seconds"] <= 15 * 60


def test_demo_cli_reports_accuracy_phases_and_where_the_grid_is(monkeypatch, tmp_path, capsys):
    from creative_painting.training import demo

    seen = {}

    def fake_run(out, settings, progress):
        seen.update(out=out, settings=settings)
        return {"accuracy": {"base": 0.1, "stage1": 0.2, "stage2": 0.95}, "artists": settings.artists, "subjects": 5,
                "seconds": 12.0, "phases": {"data": 1.0, "stage2": 11.0}, "grid": str(Path(out) / "grid.png")}

    monkeypatch.setattr(demo, "run_demo", fake_run)
    assert main(["demo", "--artists", "4", "--steps", "7", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "stage 2 0.95" in text and "chance 0.25" in text and "stage2 11" in text and str(tmp_path) in text
    assert (seen["settings"].base_steps, seen["settings"].stage1_steps, seen["settings"].stage2_steps) == (7, 7, 7)
    assert main(["demo", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["accuracy"]["stage2"] == 0.95 and set(printed) == {"accuracy", "artists", "seconds", "phases"}
    assert main(["demo", "--steps", "0"]) == 2
