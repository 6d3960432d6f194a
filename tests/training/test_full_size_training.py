"""The full SD v1 architecture retrains here: stage 1, then stage 2 from its export, a SIGKILL after a
checkpoint, an exact resume, and an export that `paint` loads and paints from (issue 28, part 1).

Random weights saved in fp16 as a diffusers folder (as most SD v1 weights are published), 256 px shards of
a synthetic collection, batch 1, gradient checkpointing, bf16 where the CPU has it: about 17 GB and 10
minutes on 2 cores, and up to 40 GB of disk (a checkpoint with AdamW's moments is 12 GB). `make test-all`
runs it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
import yaml

from creative_painting.cli.main import main
from creative_painting.models import build_model, bundled_configs, load_model
from creative_painting.models.device import cpu_has_native_bf16

pytestmark = pytest.mark.slow
TRAIN = [sys.executable, "-m", "creative_painting.cli.main", "train"]


@pytest.fixture(scope="module")
def full_size(tmp_path_factory):
    from creative_painting.wikiart.shards import ShardSettings, write_shards
    from creative_painting.wikiart.synthetic import SUBJECTS, collection_files, make_artists, write_collection

    root = tmp_path_factory.mktemp("full-size")
    sd = build_model(bundled_configs(), seed=0)
    for part in (sd.unet, sd.text_encoder, sd.vae):
        part.half()
    sd.save_diffusers(root / "sd-v1-fp16")
    del sd
    files = collection_files(make_artists(2), SUBJECTS[:2], per_pair=2, size=256)
    write_collection(files, root / "wikiart")
    write_shards(str(root / "wikiart"), root / "shards", ShardSettings(size=256, min_size=16), workers=0,
                 progress=False)
    return root


def _config(root, name: str, **settings):
    data = {"data": str(root / "shards"), "output_dir": str(root / name), "resolution": 256, "batch_size": 1,
            "learning_rate": 1e-5, "gradient_checkpointing": True, "num_workers": 0, "validate_every": 100,
            "validation_steps": 2, "validation_artists": ["x"], "keep_checkpoints": 1,
            "mixed_precision": "bf16" if cpu_has_native_bf16() else "no", **settings}
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _train(config, log) -> dict:
    """`creative-painting train CONFIG --json` in its own process: each run gives its memory back, so the next
    one's estimate sees it free."""
    with open(log, "ab") as err:
        done = subprocess.run([*TRAIN, str(config), "--json", "--no-progress"], stdout=subprocess.PIPE, stderr=err,
                              timeout=1800)
    assert done.returncode == 0, log.read_text()[-3000:]
    summary = json.loads(done.stdout)
    summary["losses"] = {int(k): v for k, v in summary["losses"].items()}
    return summary


def _free_disk(run, keep: str) -> None:
    """Everything of a finished run but the file the test still reads."""
    import shutil

    for path in run.iterdir():
        if str(path) != keep:
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def test_full_size_two_stages_resume_exactly_after_sigkill_and_paint(full_size, tmp_path):
    log = tmp_path / "train.log"
    stage1 = _train(_config(full_size, "stage1", model=str(full_size / "sd-v1-fp16"), stage=1, max_steps=2,
                            checkpoint_every=10), log)
    assert all(torch.isfinite(torch.tensor(list(stage1["losses"].values()))))
    start = stage1["exported"]["single_file"]
    _free_disk(full_size / "stage1", keep=start)  # a full-size checkpoint is 12 GB, an export 4.3 GB a format

    straight = _train(_config(full_size, "straight", model=start, stage=2, max_steps=2, checkpoint_every=10), log)
    _free_disk(full_size / "straight", keep=straight["exported"]["single_file"])
    # The same run, killed once its step-1 checkpoint is complete, then resumed.
    path = _config(full_size, "killed", model=start, stage=2, max_steps=2, checkpoint_every=1)
    with open(log, "ab") as err:
        proc = subprocess.Popen([*TRAIN, str(path), "--no-progress"], stdout=subprocess.DEVNULL, stderr=err)
    first = full_size / "killed" / "checkpoints" / "step-1"
    deadline = time.time() + 1800
    while time.time() < deadline and not first.is_dir() and proc.poll() is None:
        time.sleep(0.2)
    assert proc.poll() is None, log.read_text()[-3000:]  # still training when its checkpoint appeared
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert first.is_dir() and not (full_size / "killed" / "checkpoints" / "step-2").exists()
    resumed = _train(path, log)
    assert list(resumed["losses"]) == [2]
    assert resumed["losses"][2] == straight["losses"][2]  # weights, optimizer, data and noise all restored

    mine, theirs = load_model(resumed["exported"]["single_file"]), load_model(straight["exported"]["single_file"])
    for part in ("unet", "text_encoder"):
        a, b = getattr(mine, part).state_dict(), getattr(theirs, part).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), part
    del mine, theirs

    out = tmp_path / "painted"
    assert main(["paint", "a harbour at dusk", "--model", resumed["exported"]["diffusers"], "--steps", "2",
                 "--width", "256", "--height", "256", "--out", str(out), "--no-progress"]) == 0
    assert len(list(out.rglob("*.png"))) >= 1
