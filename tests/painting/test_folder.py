"""The one output folder: one grid up to 256 cells, a grid per prompt past that, and one reader of new and old folders."""

import json

from PIL import Image

from creative_painting.painting.folder import cell_file, read_folder, write_views
from creative_painting.painting.manifest import Manifest
from creative_painting.painting.spec import PaintSpec


def _painted(folder, prompts: int, images: int):
    """Cells of a spec, each with a small picture on disk where `cell_file` puts it, recorded in the manifest."""
    spec = PaintSpec(tuple(f"prompt {i}" for i in range(prompts)), ("Claude Monet",), images=images)
    cells = spec.validate(max_images=prompts * images).cells("model")
    for cell in cells:
        _picture(folder, cell)
    Manifest(folder / "manifest.jsonl").append([{"id": c.id, "file": cell_file(c)} for c in cells])
    return cells


def _picture(folder, cell) -> None:
    (folder / cell_file(cell)).parent.mkdir(exist_ok=True)
    Image.new("RGB", (8, 8), (cell.row % 256, 0, 0)).save(folder / cell_file(cell))


def test_up_to_256_cells_one_grid_beyond_a_grid_per_prompt(tmp_path, monkeypatch):
    from creative_painting.painting import folder

    assert folder.MAX_GRID_IMAGES == 256  # paint's and the studio's limit: what one process paints into one grid
    monkeypatch.setattr(folder, "MAX_GRID_IMAGES", 8)  # the rule at 8 cells, as at 256: fewer pictures to draw
    cells = _painted(tmp_path, prompts=4, images=2)  # 8 cells
    (tmp_path / "grids").mkdir()
    (tmp_path / "grids" / "all.png").write_bytes(b"an earlier version's grid of fewer cells")
    grids, sheet = write_views(tmp_path, cells, Manifest(tmp_path / "manifest.jsonl"), thumb=8)
    assert grids == [tmp_path / "grid.png"] and not (tmp_path / "grids").exists()
    assert "8 of 8 cells painted" in sheet.read_text()
    more = _painted(tmp_path, prompts=5, images=2)  # the job grows past one grid
    grids, _ = write_views(tmp_path, more, Manifest(tmp_path / "manifest.jsonl"), thumb=8)
    assert [g.name for g in grids] == [f"prompt-{p:05d}.png" for p in range(5)]
    assert not (tmp_path / "grid.png").exists()  # the stale grid of fewer cells is gone
    assert Image.open(grids[0]).height > 2 * 8  # a prompt's two seeds, one above the other
    (tmp_path / cell_file(more[-1])).unlink()  # a cell not painted yet: its prompt's grid waits, the others are written
    grids, sheet = write_views(tmp_path, more, Manifest(tmp_path / "manifest.jsonl"), thumb=8)
    assert len(grids) == 4 and "9 of 10 cells painted" in sheet.read_text()
    _picture(tmp_path, more[-1])
    assert write_views(tmp_path, more, Manifest(tmp_path / "manifest.jsonl"), one=True)[0] == [tmp_path / "grid.png"]  # a trainer's validation


def test_paint_writes_one_grid_whatever_the_count(tiny_model, tmp_path, monkeypatch):
    """`paint` and the studio stop at 256 cells, a trainer's validation grid may not: its grid.png is always there."""
    from creative_painting.painting import folder
    from creative_painting.painting.session import paint_spec

    monkeypatch.setattr(folder, "MAX_GRID_IMAGES", 1)
    spec = PaintSpec(("a", "b"), steps=1, width=32, height=32).validate()
    result = paint_spec(tiny_model, spec, tmp_path / "out", progress=False)
    assert result.grid.is_file() and not (tmp_path / "out" / "grids").exists()


def test_cell_files_name_the_artist_and_differ_by_id():
    spec = PaintSpec(("a bridge",), ("Claude Monet",), images=2).validate()
    first, second = (cell_file(c) for c in spec.cells("model"))
    assert first.startswith("images/p00000-a000-s00-claude-monet-") and second.startswith("images/p00000-a000-s01-")
    assert first != cell_file(spec.cells("another model")[0])


def test_the_reader_reads_new_folders_old_paint_json_folders_and_nothing_else(tmp_path):
    new, old, broken = tmp_path / "new", tmp_path / "old", tmp_path / "broken"
    for folder in (new, old, broken):
        folder.mkdir()
    (new / "manifest.jsonl").write_text(json.dumps({"id": "a1", "file": "images/x.png", "prompt": "a bridge"}) + "\n")
    (new / "job.json").write_text(json.dumps({"request": {"prompts": ["a bridge"]}, "model": "m", "cells": 1}))
    (old / "paint.json").write_text(json.dumps({"request": {"prompts": ["a tree"]},
                                                "images": [{"file": "00-00-none.png", "prompt": "a tree"}]}))
    (broken / "manifest.jsonl").write_text("{}\n")  # no job.json beside it
    painted = read_folder(new)
    assert [r["file"] for r in painted.records] == ["images/x.png"] and painted.request == {"prompts": ["a bridge"]}
    assert painted.manifest == new / "manifest.jsonl"
    painted = read_folder(old)
    assert [r["file"] for r in painted.records] == ["00-00-none.png"] and painted.manifest == old / "paint.json"
    assert painted.request == {"prompts": ["a tree"]}
    assert read_folder(broken) is None and read_folder(tmp_path / "missing") is None
