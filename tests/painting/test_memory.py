"""Refusing a paint that would not fit in memory: the estimate against measured peaks, and the refusal."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from creative_painting.errors import UserError
from creative_painting.painting import Cell, paint
from creative_painting.painting import memory as memory_module
from creative_painting.sampling import SamplingSettings

# Peak resident memory of one paint() above the loaded model, in a fresh process (as benchmarks/paint_memory.py).
CHILD = r'''
import json, sys, torch
from creative_painting.models import make_tiny_model
from creative_painting.painting import Cell, paint
from creative_painting.sampling import SamplingSettings
size, batch = int(sys.argv[1]), int(sys.argv[2])
model = make_tiny_model(seed=0)
jobs = [Cell.single("a harbour", seed=k) for k in range(batch)]
settings = SamplingSettings("ddim", 1, 5.0, 0.0, size, size)
status = lambda key: next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith(key))
base = status("VmRSS")
open("/proc/self/clear_refs", "w").write("5")
paint(model, jobs, settings, batch_size=batch)
print(json.dumps(status("VmHWM") - base))
'''


@pytest.mark.slow  # 14 s each, mostly a fresh process's start-up: `make test-all` and check_claims run them
@pytest.mark.parametrize(("size", "batch"), [(768, 4), (512, 1), (1024, 4), (1536, 1)])  # 1536: tiled, 23 s
def test_the_estimate_is_at_least_the_measured_peak_and_not_wasteful(tiny_model, size, batch):
    out = subprocess.run([sys.executable, "-c", CHILD, str(size), str(batch)], capture_output=True, text=True,
                         check=True)
    measured = json.loads(out.stdout.strip().splitlines()[-1])
    estimate = memory_module.estimate_bytes(tiny_model, SamplingSettings("ddim", 1, 5.0, 0.0, size, size), batch)
    assert measured <= estimate <= 4 * measured, (measured, estimate)  # full size: 1.1-1.5x (benchmark)


def test_guidance_doubles_the_sampling_batch_and_decoding_goes_one_image_at_a_time(tiny_model):
    guided, plain = (SamplingSettings("ddim", 1, scale, 0.0, 256, 256) for scale in (5.0, 1.0))
    one = memory_module.sampling_bytes(tiny_model, plain, 1)
    assert memory_module.sampling_bytes(tiny_model, guided, 3) == 6 * one
    # 32x32 latents at 256 px: 1024 cells x 37 floats x 32 channels x 4 bytes.
    assert one == 1024 * 37 * tiny_model.unet.config.block_out_channels[0] * 4
    assert memory_module.decoding_bytes(tiny_model, guided) == 256 * 256 * (9 * 8 * 4 + 200)


def _free(monkeypatch, nbytes: int) -> None:
    monkeypatch.setattr(memory_module, "free_bytes", lambda device: nbytes)


def test_paint_refuses_a_batch_that_would_not_fit_and_names_one_that_would(tiny_model, monkeypatch):
    settings = SamplingSettings("ddim", 2, 5.0, 0.0, 1024, 1024)
    jobs = [Cell.single("a harbour", seed=k) for k in range(8)]
    fits = 3
    _free(monkeypatch, memory_module.estimate_bytes(tiny_model, settings, fits))
    calls = []
    monkeypatch.setattr(tiny_model.unet, "forward", lambda *a, **k: calls.append(1))
    with pytest.raises(UserError, match=f"1024x1024 at batch size 8 needs about .* GB .* use a batch size of {fits} or less"):
        paint(tiny_model, jobs, settings, batch_size=8)
    with pytest.raises(UserError, match="batch size 4 .* batch size of 3"):
        paint(tiny_model, jobs, settings, batch_size=4)
    assert calls == []  # refused before any work
    _free(monkeypatch, memory_module.estimate_bytes(tiny_model, settings, 1) - 1)
    with pytest.raises(UserError, match="one 1024x1024 image needs about .* paint smaller"):
        paint(tiny_model, jobs[:1], settings, batch_size=1)


def test_the_batch_is_at_most_the_number_of_images(tiny_model, monkeypatch):
    settings = SamplingSettings("ddim", 1, 5.0, 0.0, 64, 64)
    _free(monkeypatch, memory_module.estimate_bytes(tiny_model, settings, 2))
    assert len(paint(tiny_model, [Cell.single("a", 0), Cell.single("b", 1)], settings, batch_size=64)) == 2


def test_free_memory_is_what_the_system_can_give_within_the_containers_limit(monkeypatch, tmp_path):
    import psutil
    import torch

    monkeypatch.setattr(memory_module, "CGROUP", tmp_path / "none")  # no cgroup v2: the system's figure
    system = memory_module.free_bytes(torch.device("cpu"))
    assert 0 < system <= psutil.virtual_memory().total
    monkeypatch.setattr(memory_module, "CGROUP", tmp_path)
    (tmp_path / "memory.max").write_text("max\n")
    (tmp_path / "memory.current").write_text("1000\n")
    assert abs(memory_module.free_bytes(torch.device("cpu")) - system) < 2**30  # no limit
    (tmp_path / "memory.max").write_text(f"{2**30}\n")
    (tmp_path / "memory.current").write_text(f"{2**28}\n")
    assert memory_module.free_bytes(torch.device("cpu")) == 2**30 - 2**28
