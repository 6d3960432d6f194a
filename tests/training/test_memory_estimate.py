"""The training memory estimate: each term from what the run holds, its calibration against the measured
full-size peaks, and the one-line refusal before the model loads (issue 28, part 4)."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from creative_painting.cli.main import main
from creative_painting.models import bundled_configs
from creative_painting.training.config import TrainConfig, load_config
from creative_painting.training.memory import estimate_training, parameter_counts

SD_V1 = {"unet": 859_520_964, "vae": 83_653_863, "text_encoder": 123_060_480}  # counted on the real modules
MEASURED = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "train_full_size.json"


def _cfg(**options) -> TrainConfig:
    return TrainConfig(**{"model": "-", "data": "-", "output_dir": "-", "resolution": 256, "batch_size": 1, **options})


def test_parameters_are_counted_from_the_configs_alone():
    assert parameter_counts(bundled_configs()) == SD_V1


@pytest.mark.parametrize("layout", ["diffusers", "tiny.safetensors"])
def test_a_local_checkpoint_is_counted_from_its_headers_as_loaded(tiny_dir, monkeypatch, layout):
    """No module is built before loading (it would leave ~8 MB behind); the counts are the loaded ones."""
    from creative_painting.models import load_model
    from creative_painting.training import memory

    model = load_model(str(tiny_dir / layout))
    loaded = {part: sum(p.numel() for p in getattr(model, part).parameters()) for part in SD_V1}
    monkeypatch.setattr(memory, "_counts", lambda configs_json: pytest.fail("modules built on meta"))
    assert parameter_counts(None, str(tiny_dir / layout)) == loaded
    assert memory._header_counts(str(tiny_dir / "tiny.ckpt")) is None  # a pickle: counted from the configs


def test_integer_buffers_in_a_checkpoint_are_not_parameters(tiny_dir, tmp_path):
    """SD v1 files keep CLIP's position ids (int64) beside the weights: they are not counted."""
    import torch
    from safetensors.torch import load_file, save_file

    from creative_painting.training.memory import _header_counts

    tensors = load_file(str(tiny_dir / "tiny.safetensors"))
    tensors["cond_stage_model.transformer.text_model.embeddings.position_ids"] = torch.arange(77)[None]
    save_file(tensors, str(tmp_path / "with_ids.safetensors"))
    plain = _header_counts(str(tiny_dir / "tiny.safetensors"))
    assert _header_counts(str(tmp_path / "with_ids.safetensors")) == plain


@pytest.mark.parametrize("options, trained, low", [
    ({}, SD_V1["unet"] + SD_V1["text_encoder"], 4),
    ({"mixed_precision": "bf16"}, SD_V1["unet"] + SD_V1["text_encoder"], 2),
    ({"stage": 1}, SD_V1["text_encoder"], 4),
    ({"stage": 1, "mixed_precision": "bf16"}, SD_V1["text_encoder"], 2),
    ({"train_text_encoder": False}, SD_V1["unet"], 4),
    ({"lora_rank": 16}, SD_V1["text_encoder"], 4),  # adapters are a few MB: the U-Net counts as frozen
])
def test_each_term_is_what_the_run_holds(options, trained, low):
    total = sum(SD_V1.values())
    plain = estimate_training(_cfg(**options), bundled_configs())
    assert plain.weights == 4 * trained + low * (total - trained)  # trained in fp32, frozen in the autocast dtype
    assert plain.casts == (0 if low == 4 else 2 * trained)  # autocast's copies of what trains, for the backward
    assert plain.gradients == 4 * trained and plain.optimizer == 8 * trained and plain.ema == 0
    saving = estimate_training(_cfg(**options, use_8bit_adam=True, ema_decay=0.99), bundled_configs())
    assert saving.optimizer == 2 * trained and saving.ema == 4 * trained


def test_activations_grow_with_batch_and_pixels_and_checkpointing_cuts_them():
    one = estimate_training(_cfg(), bundled_configs()).activations
    assert estimate_training(_cfg(batch_size=4), bundled_configs()).activations == 4 * one
    assert estimate_training(_cfg(resolution=512), bundled_configs()).activations == 4 * one
    assert estimate_training(_cfg(gradient_checkpointing=True), bundled_configs()).activations < one / 2


def test_the_estimate_bounds_every_measured_full_size_peak():
    """At least the peak RSS `benchmarks/train_full_size.py` measured for our loop, and at most 1.5x it."""
    rows = [row for row in json.loads(MEASURED.read_text()) if isinstance(row["ours"], list)]
    assert {row["stage"] for row in rows} == {1, 2} and len(rows) >= 8
    for row in rows:
        s = row["settings"]
        cfg = _cfg(stage=s["stage"], batch_size=s["batch"], resolution=s["size"], mixed_precision=s["precision"],
                   gradient_checkpointing=s["checkpointing"], use_8bit_adam=s["adam8bit"],
                   ema_decay=0.9999 if s["ema"] else 0.0)
        peak = row["ours"][1] * 2**20
        estimate = estimate_training(cfg, bundled_configs()).total
        assert peak <= estimate <= 1.5 * peak, (row["stage"], row["options"], row["batch"], peak / 1e9, estimate / 1e9)


def test_an_offloaded_ema_is_off_the_gpu_but_still_in_memory_on_the_cpu():
    """diffusers' --offload_ema: the EMA copy lives in host memory; on the CPU that is where it was anyway."""
    trained = SD_V1["unet"] + SD_V1["text_encoder"]
    ema = _cfg(ema_decay=0.9999, ema_offload=True)
    assert estimate_training(ema, bundled_configs(), "cuda").ema == 0
    assert estimate_training(ema, bundled_configs(), "cpu").ema == 4 * trained
    on_gpu = estimate_training(dataclasses.replace(ema, ema_offload=False), bundled_configs(), "cuda")
    assert on_gpu.ema == 4 * trained


@pytest.fixture
def free_memory(monkeypatch):
    def set_free(n: int) -> None:
        monkeypatch.setattr("creative_painting.painting.memory.free_bytes", lambda device: n)
    return set_free


def test_a_run_that_will_not_fit_is_refused_in_one_line_before_loading(make_config, tmp_path, free_memory, capsys):
    path = make_config(batch_size=4, resolution=256)  # at 256 px the tiny model's activations outweigh its gradients
    cfg = load_config(path)
    need = estimate_training(cfg).total
    with_checkpointing = estimate_training(dataclasses.replace(cfg, gradient_checkpointing=True)).total
    assert with_checkpointing < need
    free = (need + with_checkpointing) // 2
    free_memory(free)
    assert main(["train", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is free; it fits with gradient_checkpointing=true " in err[0], err
    assert not (tmp_path / "run").exists()  # nothing written, nothing loaded
    fix = dict(pair.split("=") for pair in re.search(r"fits with (.*?) \(", err[0])[1].split())
    assert estimate_training(load_config(path, [f"{k}={v}" for k, v in fix.items()])).total <= free
    free_memory(10**9)  # below any training estimate (2 GiB of overhead alone), enough for the validation grid
    assert main(["train", str(path), "check_memory=false", "resolution=32", "max_steps=1", "--no-progress"]) == 0


def test_when_no_option_is_enough_the_refusal_says_so(make_config, tmp_path, free_memory, capsys):
    free_memory(10**6)
    assert main(["train", str(make_config())]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "more than every memory option saves" in err[0] and "lora_rank" in err[0]


def test_on_a_gpu_the_refusal_offers_to_offload_the_ema_first(make_config, free_memory, monkeypatch):
    import torch

    from creative_painting.errors import UserError
    from creative_painting.training.memory import check_training_memory

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    cfg = load_config(make_config(ema_decay=0.99, gradient_checkpointing=True, mixed_precision="bf16",
                                  use_8bit_adam=True))
    need = estimate_training(cfg, device="cuda").total
    offloaded = estimate_training(dataclasses.replace(cfg, ema_offload=True), device="cuda").total
    assert offloaded < need
    free_memory((need + offloaded) // 2)
    with pytest.raises(UserError, match=r"it fits with ema_offload=true \(about"):
        check_training_memory(cfg)
