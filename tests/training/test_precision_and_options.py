"""Options a 24 GB user picks, on the tiny model: each runs or is refused in one line before any work.

From issue 28: fp16-saved weights crashed training; bf16 with gradient checkpointing crashed in CLIP's
LayerNorm; `mixed_precision=no` was read as false; `use_8bit_adam` fell back to AdamW with only a note."""

from __future__ import annotations

import sys

import pytest
import torch

from creative_painting.cli.main import main
from creative_painting.models import load_model
from creative_painting.models.device import cpu_has_native_bf16
from creative_painting.training.config import load_config
from creative_painting.training.trainer import train
from tests.test_quiet_start import BITSANDBYTES


@pytest.fixture
def fp16_model(tiny_dir, tmp_path):
    """The tiny model as a diffusers folder in fp16, as most SD v1 weights are published."""
    model = load_model(str(tiny_dir / "tiny.safetensors"))
    for part in (model.unet, model.text_encoder, model.vae):
        part.half()
    return model.save_diffusers(tmp_path / "tiny-fp16")


def test_fp16_weights_train_with_fp32_master_weights(make_config, fp16_model, tmp_path):
    cfg = make_config(stage=2, model=str(fp16_model), gradient_checkpointing=True, max_steps=2, export=True)
    summary = train(load_config(cfg), progress=False)
    assert all(torch.isfinite(torch.tensor(list(summary["losses"].values()))))
    trained = load_model(summary["exported"]["single_file"])
    assert all(p.dtype == torch.float32 for p in trained.unet.parameters())
    # The same run from fp32 weights rounded like the fp16 file: fp32 master weights train the same thing.
    reference = make_config(stage=2, model=str(fp16_model), max_steps=2, output_dir=str(tmp_path / "plain"))
    plain = train(load_config(reference), progress=False)
    for step in (1, 2):  # checkpointing recomputes the same forward pass: the same losses, bit for bit
        assert summary["losses"][step] == plain["losses"][step]


@pytest.mark.skipif(not cpu_has_native_bf16(), reason="bf16 mixed precision needs a CPU with native bf16")
def test_bf16_mixed_precision_with_gradient_checkpointing_trains_like_fp32(make_config, fp16_model, tmp_path):
    """From fp16 weights, as published: CLIP's LayerNorm once met fp16 parameters under bf16 autocast."""
    common = {"stage": 2, "max_steps": 3, "gradient_checkpointing": True, "model": str(fp16_model)}
    bf16 = train(load_config(make_config(mixed_precision="bf16", output_dir=str(tmp_path / "bf16"), **common)),
                 progress=False)
    fp32 = train(load_config(make_config(output_dir=str(tmp_path / "fp32"), **common)), progress=False)
    for step in (1, 2, 3):  # bf16 keeps 8 bits of mantissa: a few percent on a loss near 1
        assert bf16["losses"][step] == pytest.approx(fp32["losses"][step], rel=0.05)
    assert bf16["losses"] != fp32["losses"]  # and it took effect: bf16 rounds differently



@pytest.mark.parametrize("written", ["override", "file"])
def test_mixed_precision_no_is_the_word_no(make_config, tmp_path, written):
    cfg = make_config()
    if written == "file":
        cfg.write_text(cfg.read_text() + "mixed_precision: no\n")
        assert load_config(cfg).mixed_precision == "no"
    else:
        assert load_config(cfg, ["mixed_precision=no"]).mixed_precision == "no"
    assert load_config(cfg, ["gradient_checkpointing=yes"]).gradient_checkpointing is True  # a bool still takes yes


def test_8bit_adam_without_bitsandbytes_is_refused_before_any_work(make_config, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "bitsandbytes", None)  # as if not installed, wherever it is
    assert main(["train", str(make_config()), "use_8bit_adam=true"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "use_8bit_adam needs bitsandbytes" in err[0]
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(not BITSANDBYTES.is_dir(), reason="bitsandbytes is installed beside the venv by `make install`")
def test_a_run_with_8bit_adam_finds_bitsandbytes_the_command_line_hid(make_config, monkeypatch):
    """The command line hides bitsandbytes from other libraries (tests/test_quiet_start.py); a run with 8-bit
    AdamW makes it visible again, before it checks that it is there."""
    import importlib.util

    from creative_painting import _lazy
    from creative_painting.training.trainer import check_options

    monkeypatch.syspath_prepend(str(BITSANDBYTES))
    monkeypatch.delitem(sys.modules, "bitsandbytes", raising=False)
    monkeypatch.setattr(_lazy, "_hidden", set())
    _lazy.hide_optional()
    assert importlib.util.find_spec("bitsandbytes") is None  # hidden, as from diffusers
    check_options(load_config(make_config(use_8bit_adam=True)))  # not refused
    assert importlib.util.find_spec("bitsandbytes") is not None and "bitsandbytes" not in sys.modules
