"""Batch jobs: cells and ids, any split gives the same pixels, reruns and SIGKILL never repaint or double-record."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from creative_painting.batch import BatchJob, run_batch
from creative_painting.cli.main import main
from creative_painting.errors import UserError
from creative_painting.painting.folder import cell_file
from creative_painting.painting.manifest import Manifest
from tests.batch.helpers import kill_when_recorded


def _job(tiny_dir, **overrides):
    values = {"prompts": ["a harbour", "a city"], "artists": ["Claude Monet", "Vincent van Gogh"], "images": 2,
              "model": str(tiny_dir / "tiny.safetensors"), "steps": 2, "width": 32, "height": 32, "batch_size": 3}
    return BatchJob(**{**values, **overrides})


def _pixels(folder):
    return {p.name: np.asarray(Image.open(p)) for p in sorted((folder / "images").glob("*.png"))}


def test_cells_are_prompt_x_artist_x_seed_with_ids_that_change_with_any_setting(tiny_dir):
    cells = _job(tiny_dir).cells()
    assert len(cells) == 8 and len({c.id for c in cells}) == 8 and len({cell_file(c) for c in cells}) == 8
    assert [c.seed for c in cells[:2]] == [0, 1] and cells[0].caption == "a painting of a harbour by Claude Monet"
    assert [c.id for c in _job(tiny_dir).cells()] == [c.id for c in cells]  # stable
    for change in ({"steps": 3}, {"model": "other.safetensors"}, {"scale": 4.0}, {"negative": "dark"}, {"seed": 5}):
        assert not {c.id for c in _job(tiny_dir, **change).cells()} & {c.id for c in cells}, change


def test_any_split_into_batches_gives_the_same_pixels(tiny_dir, tmp_path):
    one = run_batch(_job(tiny_dir, batch_size=1), tmp_path / "one", progress=False)
    five = run_batch(_job(tiny_dir, batch_size=5), tmp_path / "five", progress=False)
    assert one["painted"] == five["painted"] == 8
    a, b = _pixels(tmp_path / "one"), _pixels(tmp_path / "five")
    assert a.keys() == b.keys() and len(a) == 8
    assert all(np.abs(a[k].astype(int) - b[k].astype(int)).max() <= 1 for k in a)  # batched matmuls may round


def test_a_rerun_paints_nothing_and_a_changed_setting_paints_only_new_cells(tiny_dir, tmp_path):
    out = tmp_path / "job"
    first = run_batch(_job(tiny_dir), out, progress=False)
    mtimes = {p: p.stat().st_mtime_ns for p in (out / "images").iterdir()}
    again = run_batch(_job(tiny_dir), out, progress=False)
    assert (first["painted"], again["painted"], again["skipped"]) == (8, 0, 8)
    assert {p: p.stat().st_mtime_ns for p in (out / "images").iterdir()} == mtimes
    more = run_batch(_job(tiny_dir, images=3), out, progress=False)  # 4 new cells (seed 2), 8 kept
    assert (more["painted"], more["skipped"]) == (4, 8)
    lines = (out / "manifest.jsonl").read_text().splitlines()
    assert len(lines) == len({json.loads(line)["id"] for line in lines}) == 12
    page = (out / "index.html").read_text()
    assert "12 of 12 cells painted" in page and page.count("<img ") == 12
    assert (out / "grid.png").is_file() and not (out / "grids").exists()  # 12 cells: one grid


def test_a_folder_of_an_older_version_resumes_by_its_recorded_files(tiny_dir, tmp_path):
    """Pictures recorded under an older name (before the artist was in it) are found by their record, not their name."""
    out = tmp_path / "job"
    job = _job(tiny_dir, prompts=["a harbour"], artists=["Claude Monet"], images=2)
    run_batch(job, out, progress=False)
    lines = []
    for line in (out / "manifest.jsonl").read_text().splitlines():
        record = json.loads(line)
        old = f"images/{Path(record['file']).name[:15]}-{record['id'][:10]}.png"  # p00000-a000-s00-ID.png
        (out / record["file"]).rename(out / old)
        lines.append(json.dumps({**record, "file": old}))
    (out / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    (out / "grid.png").unlink()
    again = run_batch(job, out, progress=False)
    assert (again["painted"], again["skipped"]) == (0, 2) and (out / "grid.png").is_file()
    assert "2 of 2 cells painted" in (out / "index.html").read_text()


def test_a_torn_manifest_line_is_painted_again_never_recorded_twice(tiny_dir, tmp_path):
    out = tmp_path / "job"
    run_batch(_job(tiny_dir), out, progress=False)
    lines = (out / "manifest.jsonl").read_text().splitlines(keepends=True)
    (out / "manifest.jsonl").write_text("".join(lines[:-1]) + lines[-1][:30])  # a kill mid-write
    again = run_batch(_job(tiny_dir), out, progress=False)
    assert again["painted"] == 1
    ids = list(Manifest(out / "manifest.jsonl").done)
    assert len(ids) == 8


def test_sigkill_then_rerun_finishes_without_repainting(tiny_dir, tmp_path):
    out = tmp_path / "job"
    cmd = [sys.executable, "-m", "creative_painting.cli.main", "batch", "--out", str(out), "--model",
           str(tiny_dir / "tiny.safetensors"), "--steps", "8", "--width", "64", "--height", "64", "--seeds", "12",
           "--batch-size", "2", "--prompt", "a harbour", "--prompt", "a city", "--no-progress"]
    manifest = out / "manifest.jsonl"
    before = kill_when_recorded(cmd, manifest, 4)
    assert 4 <= len(before) < 24
    mtimes = {f: (out / f).stat().st_mtime_ns for f in before}
    assert main(cmd[3:] + ["--json"]) == 0
    lines = manifest.read_text().splitlines()
    ids = [json.loads(line)["id"] for line in lines if line.endswith("}")]
    assert len(ids) == len(set(ids)) == 24
    assert {f: (out / f).stat().st_mtime_ns for f in before} == mtimes  # finished cells were not repainted
    assert len(list((out / "images").glob("*.png"))) == 24 and not list((out / "images").glob(".*"))


@pytest.mark.slow  # 17 s (two accelerate processes): `make test-all` and check_claims run it; the suite stays under 8 min
def test_two_launched_processes_split_the_cells_and_match_one_process(tiny_dir, tmp_path, capsys):
    """`torchrun --nproc_per_node 2` (what `accelerate launch` runs): each process paints half of the missing
    cells into its own manifest file; together they equal a one-process run, each cell recorded once."""
    import os
    import subprocess

    out = tmp_path / "two"
    job = ["batch", "--out", str(out), "--model", str(tiny_dir / "tiny.safetensors"), "--steps", "2", "--width", "32",
           "--height", "32", "--seeds", "3", "--prompt", "a harbour", "--prompt", "a city", "--artist", "Claude Monet",
           "--no-progress", "--json"]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29519",
           "-m", "creative_painting.cli.main", *job]
    result = subprocess.run(cmd, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    summaries = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(summaries) == 1 and summaries[0]["processes"] == 2  # the main process reports for both
    parts = [out / "manifest.jsonl", out / "manifest.rank-1.jsonl"]
    ids = [[json.loads(line)["id"] for line in p.read_text().splitlines()] for p in parts]
    assert len(ids[0]) == len(ids[1]) == 3 and not set(ids[0]) & set(ids[1])  # 6 cells, split, none twice
    assert Manifest(out / "manifest.jsonl").finished(out) == set(ids[0]) | set(ids[1])
    assert (out / "index.html").is_file() and "6 of 6 cells painted" in (out / "index.html").read_text()
    assert main([*job[:2], str(tmp_path / "one"), *job[3:]]) == 0
    a, b = _pixels(out), _pixels(tmp_path / "one")
    assert a.keys() == b.keys() and all(np.abs(a[k].astype(int) - b[k].astype(int)).max() <= 1 for k in a)
    capsys.readouterr()
    assert main(job) == 0  # a rerun in one process reads both manifest files: nothing is left to paint
    rerun = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (rerun["painted"], rerun["skipped"]) == (0, 6)


def test_prompts_from_a_tsv_column_and_the_wikiart_top_artists(tiny_dir, tmp_path):
    (tmp_path / "parti.tsv").write_text("Prompt\tCategory\na red bus\tVehicles\na cat on a mat\tAnimals\n")
    lists = tmp_path / "style_train.csv"
    lists.write_text("Impressionism/claude-monet_a.jpg,0\nImpressionism/claude-monet_b.jpg,0\n"
                     "Post_Impressionism/vincent-van-gogh_c.jpg,1\nBaroque/rembrandt_d.jpg,2\n"
                     "Baroque/rembrandt_e.jpg,2\nBaroque/rembrandt_f.jpg,2\n")
    job = _job(tiny_dir, prompts=[], prompts_file=str(tmp_path / "parti.tsv"), artists=["top:2"], wikiart=str(lists),
               images=1)
    assert job.prompt_list() == ["a red bus", "a cat on a mat"]
    assert job.artist_list() == ["Rembrandt", "Claude Monet"]
    assert len(job.cells()) == 4


@pytest.mark.parametrize(("overrides", "message"), [
    ({"prompts": []}, "no prompts"), ({"images": 0}, r"images must be"),
    ({"prompts_file": "/no/such.txt"}, "file not found"), ({"steps": 0}, "steps must be"),
    ({"seed": 2**64 - 1}, r"seed \+ images - 1"),
])
def test_bad_jobs_are_refused_before_anything_is_written(tiny_dir, tmp_path, overrides, message):
    with pytest.raises(UserError, match=message):
        run_batch(_job(tiny_dir, **overrides), tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_a_folder_holds_one_job_another_is_refused_or_replaces_it_with_overwrite(tiny_dir, tmp_path, capsys):
    out = tmp_path / "job"
    run_batch(_job(tiny_dir), out, progress=False)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    other = _job(tiny_dir, prompts=["a harbour"], artists=["Claude Monet"], images=1, seed=5)  # no cell in common
    with pytest.raises(UserError, match="holds another batch job.*--overwrite"):
        run_batch(other, out, progress=False)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    replaced = run_batch(other, out, progress=False, overwrite=True)
    assert (replaced["painted"], replaced["skipped"], replaced["cells"]) == (1, 0, 1)
    assert len(list((out / "images").glob("*.png"))) == 1 and len((out / "manifest.jsonl").read_text().splitlines()) == 1
    assert (out / "grid.png").read_bytes() != before[Path("grid.png")]  # the new job's grid, not the old one
    assert "1 of 1 cells painted" in (out / "index.html").read_text()
    assert json.loads((out / "job.json").read_text())["job"]["seed"] == 5
    # The first job again: refused without --overwrite, from the command line too (one line, exit 2).
    assert main(["batch", "--out", str(out), "--prompt", "a harbour", "--model", str(tiny_dir / "tiny.safetensors"),
                 "--steps", "2", "--width", "32", "--height", "32", "--no-progress"]) == 2
    assert "holds another batch job" in capsys.readouterr().err


def test_a_lora_job_records_its_file_resumes_and_another_weight_is_another_job(tiny_dir, tmp_path, capsys):
    from tests.painting.adapter_files import write_lora

    lora = write_lora(tmp_path / "lora", "kohya")
    bare = run_batch(_job(tiny_dir, images=1), tmp_path / "bare", progress=False)
    flags = ["batch", "--out", str(tmp_path / "styled"), "--prompt", "a harbour", "--prompt", "a city",
             "--artist", "Claude Monet", "--artist", "Vincent van Gogh", "--model", str(tiny_dir / "tiny.safetensors"),
             "--steps", "2", "--width", "32", "--height", "32", "--batch-size", "3", "--no-progress", "--json"]
    assert main([*flags, "--lora", f"{lora}:0.8"]) == 0
    assert json.loads(capsys.readouterr().out)["painted"] == bare["painted"] == 4
    lines = [json.loads(line) for line in (tmp_path / "styled" / "manifest.jsonl").read_text().splitlines()]
    assert {line["loras"][0]["weight"] for line in lines} == {0.8} and lines[0]["loras"][0]["name"] == "style.safetensors"
    a, b = _pixels(tmp_path / "bare"), _pixels(tmp_path / "styled")
    assert not a.keys() & b.keys()  # other ids, other files
    assert all(np.abs(x.astype(int) - y.astype(int)).max() > 20 for x, y in zip(a.values(), b.values(), strict=True))
    assert main([*flags, "--lora", f"{lora}:0.8"]) == 0 and json.loads(capsys.readouterr().out)["painted"] == 0
    assert main([*flags, "--lora", f"{lora}:0.5"]) == 2
    assert "--overwrite" in capsys.readouterr().err


def test_a_job_files_former_seeds_key_and_flag_are_still_its_images(tmp_path, capsys):
    """`images` is the count's one name; job files and `batch --seeds` written before still read the same."""
    from creative_painting.config_files import load_settings

    today, former = tmp_path / "today.yaml", tmp_path / "former.yaml"
    today.write_text("prompts: [a harbour]\nimages: 3\n")
    former.write_text("prompts: [a harbour]\nseeds: 3\n")
    assert load_settings(today, cls=BatchJob).images == load_settings(former, cls=BatchJob).images == 3
    assert load_settings(former, ["images=2"], cls=BatchJob).images == 2  # a flag overrides the file's former key
    both = tmp_path / "both.yaml"
    both.write_text("prompts: [a harbour]\nseeds: 3\nimages: 2\n")
    with pytest.raises(UserError, match="give images or seeds .its former name., not both"):
        load_settings(both, cls=BatchJob)
    assert main(["batch", str(both), "--out", str(tmp_path / "out")]) == 2
    assert "not both" in capsys.readouterr().err and not (tmp_path / "out").exists()
