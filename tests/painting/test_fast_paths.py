"""Fast paths agree with fp32 eager: the bf16 CPU path (U-Net in bf16, channels_last; latents, text encoder
and VAE in fp32) stays within a stated bound of the reference, and `auto` picks it only where it is fast."""

import copy

import pytest
import torch

from creative_painting.models import place, resolve_device
from creative_painting.models.device import cpu_has_native_bf16
from creative_painting.painting import Cell, paint
from creative_painting.painting import painter as painter_module
from creative_painting.sampling import SamplingSettings

BF16_BOUND = 0.02  # relative L2 error of the final latents; measured 0.0063 (DDIM) and 0.0046 (DPM++)


def final_latents(model, monkeypatch, settings) -> torch.Tensor:
    seen = []
    decode = painter_module.decode_latents

    def keep(model_, latents):
        seen.append(latents.float().clone())
        return decode(model_, latents)

    monkeypatch.setattr(painter_module, "decode_latents", keep)
    jobs = [Cell.single("a painting of a harbour by Claude Monet", seed=3, negative="blurry"),
            Cell.single("a painting of a city by Vincent van Gogh", seed=4)]
    images = paint(model, jobs, settings, batch_size=2)
    assert len(images) == 2
    return torch.cat(seen)


@pytest.mark.parametrize("sampler", ["ddim", "dpmpp-2m"])
def test_bf16_cpu_path_stays_within_the_bound_of_fp32(tiny_model, monkeypatch, sampler):
    settings = SamplingSettings(sampler, 20, 5.0, 1.0 if sampler == "ddim" else None, 64, 64)
    reference = final_latents(place(copy.deepcopy(tiny_model), torch.device("cpu"), torch.float32), monkeypatch,
                              settings)
    fast_model = place(copy.deepcopy(tiny_model), torch.device("cpu"), torch.bfloat16)
    assert fast_model.unet.dtype == torch.bfloat16 and fast_model.vae.dtype == torch.float32
    assert fast_model.text_encoder.dtype == torch.float32
    fast = final_latents(fast_model, monkeypatch, settings)
    error = ((fast - reference).norm() / reference.norm()).item()
    print(f"\n{sampler}: bf16 relative error {error:.4f}")
    assert 0 < error < BF16_BOUND  # 0 would mean the bf16 path did not run


def test_auto_picks_bf16_only_on_a_cpu_with_native_bf16(tmp_path, monkeypatch):
    import creative_painting.models.device as device

    with_bf16, without = tmp_path / "bf16", tmp_path / "plain"
    with_bf16.write_text("processor : 0\nflags : fpu sse avx2 avx512f avx512_bf16\n")
    without.write_text("processor : 0\nflags : fpu sse avx2 avx512f\n")
    assert cpu_has_native_bf16(str(with_bf16)) and not cpu_has_native_bf16(str(without))
    assert not cpu_has_native_bf16(str(tmp_path / "missing"))
    monkeypatch.setattr(device.torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(device, "cpu_has_native_bf16", lambda: True)
    assert resolve_device("cpu", "auto") == (torch.device("cpu"), torch.bfloat16)
    monkeypatch.setattr(device, "cpu_has_native_bf16", lambda: False)
    assert resolve_device("cpu", "auto") == (torch.device("cpu"), torch.float32)
    assert resolve_device("cpu", "fp32") == (torch.device("cpu"), torch.float32)


def test_each_distinct_caption_is_encoded_once(tiny_model, monkeypatch):
    from creative_painting.painting.captions import build_cells

    encoded = []
    encode = painter_module.encode_text

    def counting(model, texts):
        encoded.extend(texts)
        return encode(model, texts)

    monkeypatch.setattr(painter_module, "encode_text", counting)
    cells = build_cells(["a harbour", "a city"], ["Claude Monet", "Rembrandt", "Paul Klee"])
    jobs = [Cell.single(c.caption, seed=k, negative="blurry") for c in cells for k in range(3)]  # 3 images a cell
    images = paint(tiny_model, jobs, SamplingSettings("ddim", 2, 5.0, 0.0, 32, 32), batch_size=4)
    assert len(images) == 18
    assert sorted(encoded) == sorted([c.caption for c in cells] + ["blurry"])  # 7 texts, not 36


OPENVINO_BOUNDS = {"f32": 1e-4, "bf16": 0.05}  # relative L2 error of the final latents against torch fp32


@pytest.mark.parametrize("precision", ["f32", pytest.param("bf16", marks=pytest.mark.slow)])  # bf16: 7 s more
def test_openvino_backend_stays_within_the_bound_of_fp32(tiny_model, monkeypatch, tmp_path, precision):
    monkeypatch.setenv("CREATIVE_PAINTING_CACHE", str(tmp_path))
    settings = SamplingSettings("ddim", 20, 5.0, 1.0, 64, 64)
    cpu = torch.device("cpu")
    reference = final_latents(place(copy.deepcopy(tiny_model), cpu, torch.float32), monkeypatch, settings)
    dtype = {"f32": torch.float32, "bf16": torch.bfloat16}[precision]
    model = place(copy.deepcopy(tiny_model), cpu, dtype, backend="openvino")
    assert model.unet_runner.precision == precision and model.unet.dtype == torch.float32
    monkeypatch.setattr(model.unet, "forward", lambda *a, **k: pytest.fail("the torch U-Net ran"))
    fast = final_latents(model, monkeypatch, settings)
    error = ((fast - reference).norm() / reference.norm()).item()
    print(f"\nopenvino {precision}: relative error {error:.2e}")
    assert 0 < error < OPENVINO_BOUNDS[precision]  # 0 would mean OpenVINO did not run


@pytest.mark.slow  # 16 s of OpenVINO conversions
def test_openvino_converts_once_per_set_of_weights_and_takes_any_shape(tiny_model, monkeypatch, tmp_path):
    import openvino

    from creative_painting.models import make_tiny_model
    from creative_painting.models.openvino_unet import compile_unet

    monkeypatch.setenv("CREATIVE_PAINTING_CACHE", str(tmp_path))
    cpu = torch.device("cpu")
    first = place(copy.deepcopy(tiny_model), cpu, torch.float32, backend="openvino")
    assert len(list((tmp_path / "openvino").iterdir())) == 1
    monkeypatch.setattr(openvino, "convert_model", lambda *a, **k: pytest.fail("converted again"))
    compile_unet(first.unet, "f32")  # the same weights: read from the cache
    monkeypatch.undo()
    monkeypatch.setenv("CREATIVE_PAINTING_CACHE", str(tmp_path))
    place(make_tiny_model(seed=1), cpu, torch.float32, backend="openvino")  # other weights: converted
    assert len(list((tmp_path / "openvino").iterdir())) == 2
    # Traced at batch 2 and the config's size, it runs one image without guidance, at another size.
    (image,) = paint(first, [Cell.single("x", seed=0)], SamplingSettings("ddim", 2, 1.0, 0.0, 48, 64))
    assert image.size == (48, 64)


def test_openvino_backend_refuses_a_gpu_and_names_the_extra(monkeypatch):
    import importlib.util

    from creative_painting.errors import UserError
    from creative_painting.models import check_backend

    with pytest.raises(UserError, match="runs on the CPU"):
        check_backend("openvino", torch.device("cuda"))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "openvino" else real(name, *a))
    with pytest.raises(UserError, match=r"creative-painting\[openvino\]"):
        check_backend("openvino", torch.device("cpu"))
    assert check_backend("torch", torch.device("cpu")) == "torch"
