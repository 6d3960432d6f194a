"""LoRA files this project writes (a `lora_rank` run's adapter, `models extract-lora`), read back by diffusers'
own pipeline and `load_lora_weights`: they must paint what the full model they came from paints."""

from __future__ import annotations

import numpy as np
import torch
from safetensors.torch import load_file

from creative_painting.cli.main import main
from creative_painting.models import make_tiny_model
from creative_painting.models.lora_export import lora_targets
from creative_painting.training.config import load_config
from creative_painting.training.trainer import train


def diffusers_paints(folder, lora=None) -> np.ndarray:
    """diffusers' StableDiffusionPipeline, DDIM, fixed seed: the independent reference."""
    from diffusers import DDIMScheduler, StableDiffusionPipeline

    pipe = StableDiffusionPipeline.from_pretrained(folder, safety_checker=None, requires_safety_checker=False)
    pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    if lora is not None:
        pipe.load_lora_weights(str(lora))
    image = pipe("a painting of a harbour by Claude Monet", num_inference_steps=4, guidance_scale=5.0, height=32,
                 width=32, generator=torch.Generator().manual_seed(0), output_type="np").images[0]
    return np.round(image * 255).astype(int)


def test_a_lora_run_exports_its_adapter_as_kohya_that_diffusers_paints_as_the_merged_model(make_config, tiny_dir):
    cfg = make_config(stage=2, lora_rank=4, train_text_encoder=False, export=True, max_steps=4, learning_rate=0.05)
    exported = train(load_config(cfg), progress=False)["exported"]
    keys = load_file(exported["lora"])
    assert keys and all(k.startswith("lora_unet_") for k in keys)
    assert {k.rsplit(".", 1)[0].rsplit(".", 1)[-1] for k in keys} >= {"lora_down", "lora_up"}
    assert all(float(v) == 4 for k, v in keys.items() if k.endswith(".alpha"))
    base, merged = diffusers_paints(tiny_dir / "diffusers"), diffusers_paints(exported["diffusers"])
    with_lora = diffusers_paints(tiny_dir / "diffusers", exported["lora"])
    assert np.abs(base - merged).max() >= 5  # the adapter changed the picture
    assert np.abs(with_lora - merged).max() <= 1  # measured: 0 grey levels (the base is 77 away)


def test_a_lora_run_that_trains_the_text_encoder_puts_its_rank_r_part_in_the_file(make_config, tiny_dir):
    """Stage 2's default trains the text encoder in full beside the U-Net's adapter: without its part, the file
    would paint with the base model's text encoder."""
    from diffusers import StableDiffusionPipeline

    cfg = make_config(stage=2, lora_rank=4, export=True, max_steps=4, learning_rate=0.05)
    summary = train(load_config(cfg), progress=False)
    keys = load_file(summary["exported"]["lora"])
    assert any(k.startswith("lora_unet_") for k in keys) and any(k.startswith("lora_te_text_model_") for k in keys)
    text = summary["lora_text_encoder"]
    assert 0.0 < text["kept"] < 1.0 and 0.0 <= text["outside"] < 1.0, text  # rank 4 of 32-wide layers: a part

    def encoded(folder, lora=None) -> torch.Tensor:  # diffusers' own loader applies the file
        pipe = StableDiffusionPipeline.from_pretrained(folder, safety_checker=None, requires_safety_checker=False)
        if lora is not None:
            pipe.load_lora_weights(str(lora))
        ids = pipe.tokenizer(["a painting of a harbour by Claude Monet"], padding="max_length",
                             max_length=pipe.tokenizer.model_max_length, return_tensors="pt").input_ids
        with torch.no_grad():
            return pipe.text_encoder(ids)[0]

    trained = encoded(summary["exported"]["diffusers"])
    bare, adapted = encoded(tiny_dir / "diffusers"), encoded(tiny_dir / "diffusers", summary["exported"]["lora"])
    # the file moves the base's text encoder towards the trained one (measured: 0.29 of the distance left, with
    # 86 % of the adapted layers' change kept and 20 % of the change in embeddings and norms)
    assert (adapted - trained).norm() < 0.5 * (bare - trained).norm()


def _tuned(rank: int, outside: bool = False, seed: int = 3):
    """The tiny model with a difference of exactly `rank` in every layer a LoRA adapts (and, `outside`, in a
    ResNet convolution too)."""
    model, g = make_tiny_model(), torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layers in lora_targets(model).values():
            for module in layers.values():
                out, inp = module.weight.shape[0], module.weight[0].numel()
                delta = torch.randn(out, rank, generator=g) @ torch.randn(rank, inp, generator=g) * 0.05
                module.weight += delta.reshape(module.weight.shape)
        if outside:
            model.unet.down_blocks[0].resnets[0].conv1.weight += 0.5
    return model


def test_extract_lora_keeps_what_the_rank_allows_and_diffusers_paints_it(tiny_dir, tmp_path, capsys):
    tuned = _tuned(2)
    tuned.save_single_file(tmp_path / "tuned.safetensors")
    tuned.save_diffusers(tmp_path / "tuned")
    reference = diffusers_paints(tmp_path / "tuned")
    errors = {}
    for rank in (2, 1):
        out = tmp_path / f"r{rank}.safetensors"
        assert main(["models", "extract-lora", str(tiny_dir / "tiny.safetensors"), str(tmp_path / "tuned.safetensors"),
                     str(out), "--rank", str(rank), "--no-progress"]) == 0
        line = capsys.readouterr().out
        kept = float(line.split(" keep ")[1].split("%")[0])
        assert (kept > 99.99) if rank == 2 else (50 < kept < 99)
        assert "0.0% of the whole difference is in layers a LoRA does not adapt" in line
        keys = load_file(out)
        assert any(k.startswith("lora_te_text_model_encoder_layers_") for k in keys)
        errors[rank] = np.abs(diffusers_paints(tiny_dir / "diffusers", out) - reference).max()
    base_error = np.abs(diffusers_paints(tiny_dir / "diffusers") - reference).max()
    # Rank 2 keeps all of a rank-2 difference: the same picture (measured: 0 grey levels; the base is 38 away).
    # Rank 1 keeps part of it, and on this tiny random model its picture is no nearer (measured: 71 away).
    assert errors[2] <= 1 < errors[1] and base_error > 5, (errors, base_error)


def test_extract_lora_says_what_it_cannot_carry(tiny_dir, tmp_path, capsys):
    _tuned(2, outside=True).save_single_file(tmp_path / "tuned.safetensors")
    assert main(["models", "extract-lora", str(tiny_dir / "tiny.safetensors"), str(tmp_path / "tuned.safetensors"),
                 str(tmp_path / "l.safetensors"), "--rank", "2", "--no-progress"]) == 0
    share = float(capsys.readouterr().out.split("; ")[1].split("%")[0])
    assert 1 < share < 99
    assert main(["models", "extract-lora", str(tiny_dir / "tiny.safetensors"), str(tiny_dir / "tiny.safetensors"),
                 str(tmp_path / "same.safetensors"), "--no-progress"]) == 2
    assert "nothing to extract" in capsys.readouterr().err and not (tmp_path / "same.safetensors").exists()
