"""`batch --ray` on a local Ray cluster (2 CPUs): the same files as one process, a dying actor retried,
every cell recorded exactly once."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from creative_painting.batch import BatchJob, run_batch
from creative_painting.batch.executors import CRASH_ONCE
from tests.batch.helpers import kill_when_recorded

ray = pytest.importorskip("ray")  # installed by `make test` (the cluster extra)


@pytest.fixture(scope="module")
def local_cluster(tmp_path_factory):
    """Workers inherit the environment at start: the fault-injection marker is set before the cluster."""
    marker = tmp_path_factory.mktemp("fault") / "crashed"
    saved = os.environ.get(CRASH_ONCE)
    os.environ[CRASH_ONCE] = str(marker)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield marker
    ray.shutdown()
    os.environ.pop(CRASH_ONCE) if saved is None else os.environ.__setitem__(CRASH_ONCE, saved)


def _job(tiny_dir):
    return BatchJob(prompts=["a harbour", "a city", "a field"], artists=["Claude Monet", "Vincent van Gogh"], images=4,
                    model=str(tiny_dir / "tiny.safetensors"), steps=2, width=32, height=32, batch_size=3)


def _images(folder):
    return {p.name: np.asarray(Image.open(p)) for p in sorted((folder / "images").glob("*.png"))}


def test_ray_paints_the_same_files_as_one_process_and_survives_a_dying_actor(local_cluster, tiny_dir, tmp_path):
    here = run_batch(_job(tiny_dir), tmp_path / "here", progress=False)
    there = run_batch(_job(tiny_dir), tmp_path / "ray", progress=False, ray="", actors=2, threads=1)
    assert local_cluster.exists(), "an actor died once (the first batch it was given) and Ray retried its work"
    assert here["painted"] == there["painted"] == 24
    a, b = _images(tmp_path / "here"), _images(tmp_path / "ray")
    assert a.keys() == b.keys() and all(np.abs(a[k].astype(int) - b[k].astype(int)).max() <= 1 for k in a)
    ids = [json.loads(line)["id"] for line in (tmp_path / "ray" / "manifest.jsonl").read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 24  # retried batches are never recorded twice
    assert run_batch(_job(tiny_dir), tmp_path / "ray", progress=False, ray="", actors=2)["painted"] == 0


@pytest.mark.slow  # 8 s: `make test-all`; the test above checks Ray's pixels in the default dtype
def test_ray_paints_identical_pixels_in_fp32(local_cluster, tiny_dir, tmp_path):
    """docs/batch.md: fp32 paints identical pixels on Ray; a bf16 U-Net (`--dtype auto` on a CPU with native bf16)
    sums in another order with another thread count, so its pixels may differ by one grey level (the test
    above, in the default dtype)."""
    import dataclasses

    job = dataclasses.replace(_job(tiny_dir), prompts=["a harbour"], images=2, dtype="fp32")
    run_batch(job, tmp_path / "here", progress=False)
    run_batch(job, tmp_path / "ray", progress=False, ray="", actors=2, threads=1)
    a, b = _images(tmp_path / "here"), _images(tmp_path / "ray")
    assert a.keys() == b.keys() and len(a) == 4
    assert all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.slow  # 19 s; resuming is also tested without Ray
def test_a_killed_ray_driver_is_resumed_without_repainting(local_cluster, tiny_dir, tmp_path):
    """The driver (a separate process on the same cluster) is SIGKILLed mid-job; a rerun finishes the job."""
    import sys

    out = tmp_path / "job"
    address = ray.get_runtime_context().gcs_address
    cmd = [sys.executable, "-m", "creative_painting.cli.main", "batch", "--out", str(out), "--ray", address,
           "--actors", "1", "--model", str(tiny_dir / "tiny.safetensors"), "--steps", "8", "--width", "64",
           "--height", "64", "--seeds", "10", "--batch-size", "2", "--prompt", "a harbour", "--prompt", "a city",
           "--no-progress"]
    manifest = out / "manifest.jsonl"
    before = kill_when_recorded(cmd, manifest, 4)
    assert 4 <= len(before) < 20
    mtimes = {f: (out / f).stat().st_mtime_ns for f in before}
    job = BatchJob(prompts=["a harbour", "a city"], images=10, model=str(tiny_dir / "tiny.safetensors"), steps=8,
                   width=64, height=64, batch_size=2)
    again = run_batch(job, out, progress=False, ray="", actors=2)
    assert again["painted"] == 20 - len(before)
    ids = [json.loads(line)["id"] for line in manifest.read_text().splitlines() if line.endswith("}")]
    assert len(ids) == len(set(ids)) == 20
    assert {f: (out / f).stat().st_mtime_ns for f in before} == mtimes


@pytest.mark.slow  # 10 s: `make test-all` and check_claims; the refusal itself is tested without Ray
def test_a_batch_too_big_for_a_workers_memory_is_one_line_from_the_driver(local_cluster, tiny_dir, tmp_path):
    from creative_painting.errors import UserError

    # 200 images of 2048x2048 in one fp32 batch: about 124 GB beyond the model, on any worker.
    job = BatchJob(prompts=["a harbour", "a city"], images=100, model=str(tiny_dir / "tiny.safetensors"), steps=1,
                   width=2048, height=2048, batch_size=200, dtype="fp32")
    with pytest.raises(UserError, match="a Ray worker refused the job: 2048x2048 at batch size 200 needs about "
                                        r"\d+\.\d GB of memory .* use a batch size of \d+ or less"):
        run_batch(job, tmp_path / "job", progress=False, ray="", actors=1)
    assert not (tmp_path / "job" / "images").exists() or not any((tmp_path / "job" / "images").iterdir())


@pytest.mark.slow  # 14 s: `make test-all`; LoRA painting itself is tested without Ray
def test_ray_workers_paint_with_the_jobs_lora_as_one_process_does(local_cluster, tiny_dir, tmp_path):
    import dataclasses

    from tests.painting.adapter_files import write_lora

    lora = write_lora(tmp_path / "lora", "kohya")
    job = dataclasses.replace(_job(tiny_dir), prompts=["a harbour"], images=2, lora=(f"{lora}:0.8",))
    run_batch(job, tmp_path / "here", progress=False)
    run_batch(job, tmp_path / "ray", progress=False, ray="", actors=2, threads=1)
    bare = run_batch(dataclasses.replace(job, lora=()), tmp_path / "bare", progress=False)
    a, b = _images(tmp_path / "here"), _images(tmp_path / "ray")
    assert a.keys() == b.keys() and len(a) == bare["painted"] == 4
    assert all(np.abs(a[k].astype(int) - b[k].astype(int)).max() <= 1 for k in a)
    assert not a.keys() & _images(tmp_path / "bare").keys()
