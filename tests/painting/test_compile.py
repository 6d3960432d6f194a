"""`--compile`: the U-Net through torch.compile paints what eager paints, and its output is what is used."""

import copy
import subprocess
import sys

import numpy as np
import pytest
import torch

from creative_painting.cli.main import main
from creative_painting.models.device import compile_for, place
from creative_painting.models.graphs import CudaGraphs
from creative_painting.painting import Cell, paint
from creative_painting.sampling import SamplingSettings

SETTINGS = SamplingSettings("ddim", 3, 5.0, 0.0, 32, 32)
CPU = torch.device("cpu")


def test_compile_wraps_the_unet_lazily_and_the_painter_uses_the_wrapper(tiny_model):
    """Placing compiles nothing (that happens at the first step); every step then goes through the runner."""
    model = place(copy.deepcopy(tiny_model), CPU, torch.float32, backend="compile")
    assert isinstance(model.unet_runner, torch._dynamo.eval_frame.OptimizedModule)
    assert model.unet_runner._orig_mod is model.unet and model.graphs is None  # CUDA graphs are a GPU's
    calls = []

    def runner(*args, **kwargs):  # the eager U-Net, plus a mark: the painter must use what the runner returns
        calls.append(1)
        out = model.unet(*args, **kwargs)
        return type(out)(sample=out.sample + 1.0) if hasattr(out, "sample") else (out[0] + 1.0,)

    model.unet_runner = runner
    marked = np.asarray(paint(model, [Cell.single("a harbour", 1)], SETTINGS, batch_size=1)[0])
    plain = np.asarray(paint(tiny_model, [Cell.single("a harbour", 1)], SETTINGS, batch_size=1)[0])
    assert len(calls) == SETTINGS.steps and not np.array_equal(marked, plain)


def test_on_a_gpu_compile_also_fuses_qkv_compiles_the_decoder_and_keeps_graphs(tiny_model, monkeypatch):
    """The GPU branch, wired on the CPU (nothing is compiled until called): fused projections compute what the
    separate ones did, the decoder calls compiled code in place, and the model holds its graphs."""
    monkeypatch.setattr(torch.cuda, "graph_pool_handle", lambda: None)
    model = copy.deepcopy(tiny_model)
    compile_for(model, torch.device("cuda"))
    assert isinstance(model.graphs, CudaGraphs) and model.vae.decoder._compiled_call_impl is not None
    assert any("Fused" in type(p).__name__ for p in model.unet.attn_processors.values())
    g = torch.Generator().manual_seed(0)
    x, context = torch.randn(2, 4, 8, 8, generator=g), torch.randn(2, 77, 32, generator=g)
    with torch.no_grad():
        fused = model.unet(x, torch.tensor(10), encoder_hidden_states=context).sample
        plain = tiny_model.unet(x, torch.tensor(10), encoder_hidden_states=context).sample
    assert torch.allclose(fused, plain, rtol=1e-5, atol=1e-5) and not torch.equal(fused, torch.zeros_like(fused))


def test_compile_without_a_compiler_is_one_line_before_anything(monkeypatch, tmp_path, capsys):
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert main(["paint", "x", "--compile", "--device", "cpu", "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "C++ compiler" in err and not (tmp_path / "p").exists()
    assert main(["batch", "--prompt", "x", "--backend", "tensorrt", "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err.strip()  # a job's backend: the same check as paint's, before the folder is claimed
    assert len(err.splitlines()) == 1 and "backend must be one of torch, openvino, compile" in err
    assert not (tmp_path / "b").exists()


CHILD = r"""
import copy, json, sys
import numpy as np, torch
from creative_painting.models import make_tiny_model
from creative_painting.models.device import place
from creative_painting.painting import Cell, paint
from creative_painting.sampling import SamplingSettings
settings = SamplingSettings("ddim", 3, 5.0, 0.0, 32, 32)
cells = [Cell.single("a harbour", 1), Cell.single("a city at night", 2)]
eager = make_tiny_model(seed=0)
compiled = place(copy.deepcopy(eager), torch.device("cpu"), torch.float32, backend="compile")
a = [np.asarray(i).astype(int) for i in paint(eager, cells, settings, batch_size=2)]
b = [np.asarray(i).astype(int) for i in paint(compiled, cells, settings, batch_size=2)]
graphs = torch._dynamo.utils.counters["stats"]["unique_graphs"]
print(json.dumps({"max": max(int(np.abs(x - y).max()) for x, y in zip(a, b)), "graphs": graphs}))
"""


@pytest.mark.slow
def test_compiled_unet_paints_within_one_grey_level_of_eager(tmp_path):
    """On the CPU, with the tiny model: about 50 s of compilation on 2 cores, in a fresh process and cache."""
    import json
    import os

    env = {**os.environ, "CREATIVE_PAINTING_CACHE": str(tmp_path), "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "ind")}
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, env=env)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["graphs"] >= 1  # dynamo compiled the U-Net: the compiled path ran
    assert result["max"] <= 1, result  # fused kernels sum in another order: one grey level at most
