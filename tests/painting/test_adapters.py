"""LoRA and textual-inversion files, in every format the tests can write with diffusers' and peft's own writers,
painted with the tiny model: what they change, what they must not change, what they record."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch

from creative_painting.errors import UserError
from creative_painting.models import make_tiny_model
from creative_painting.models.adapters import remove_adapters, use_adapters
from creative_painting.painting.images import read_png_metadata
from creative_painting.painting.painter import render
from creative_painting.painting.session import paint_spec
from creative_painting.painting.spec import PaintSpec, request_of
from tests.painting.adapter_files import lora_layers, write_embedding, write_lora

BASE = {"prompts": ["a cat"], "steps": 3, "width": 32, "height": 32, "eta": 0.0}


@pytest.fixture(scope="module")
def model():
    return make_tiny_model(seed=0)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("adapters")
    return {fmt: write_lora(root / fmt, fmt) for fmt in ("kohya", "diffusers", "diffusers-bin")} | {
        f"emb-{fmt}": write_embedding(root / f"emb-{fmt}", fmt) for fmt in ("a1111-pt", "a1111-safetensors", "diffusers")}


def paint(model, fuse: bool = True, **request) -> np.ndarray:
    spec = PaintSpec.check({**BASE, **request})
    use_adapters(model, spec.loras, spec.embeddings, fuse=fuse)
    return np.asarray(render(model, spec.cells(), spec.settings(), batch_size=1)[0]).astype(int)


@pytest.mark.parametrize("fmt", ["kohya", "diffusers", "diffusers-bin"])
def test_a_lora_changes_the_picture_weight_zero_does_not_and_removal_restores_every_bit(model, files, fmt):
    bare = paint(model)
    weights = {n: p.detach().clone() for n, p in model.unet.state_dict().items()}
    assert np.abs(paint(model, loras=[f"{files[fmt]}:1"]) - bare).max() > 20
    assert np.array_equal(paint(model, loras=[f"{files[fmt]}:0"]), bare)  # loaded and fused at weight 0
    assert np.array_equal(paint(model), bare)
    assert model.adapters is None
    assert all(torch.equal(p, weights[n]) for n, p in model.unet.state_dict().items())


@pytest.mark.parametrize("fmt", ["kohya", "diffusers"])
def test_fused_and_unfused_paint_the_same_picture_within_one_grey_level(model, files, fmt):
    fused, unfused = paint(model, loras=[str(files[fmt])]), paint(model, fuse=False, loras=[str(files[fmt])])
    assert np.abs(fused - unfused).max() <= 1
    remove_adapters(model)


def test_alpha_and_weight_are_honoured_as_diffusers_reads_them(model, tmp_path):
    """kohya's alpha 2 at rank 4 scales the layers by 1/2; so does alpha 4 at weight 0.5, and a diffusers file of
    the same layers (no alpha: scale 1) at weight 0.5. Rank 4, alpha 4 at weight 1 is another picture."""
    half_by_alpha = paint(model, loras=[str(write_lora(tmp_path / "a2", "kohya", alpha=2.0))])
    half_by_weight = paint(model, loras=[f"{write_lora(tmp_path / 'a4', 'kohya', alpha=4.0)}:0.5"])
    diffusers_half = paint(model, loras=[f"{write_lora(tmp_path / 'd', 'diffusers')}:0.5"])
    full = paint(model, loras=[str(write_lora(tmp_path / "a4", "kohya", alpha=4.0))])
    assert np.abs(half_by_alpha - half_by_weight).max() <= 1
    assert np.abs(half_by_alpha - diffusers_half).max() <= 1
    assert np.abs(full - half_by_alpha).max() > 10
    remove_adapters(model)


def test_a_text_encoder_only_lora_changes_the_picture(model, tmp_path):
    layers = lora_layers()
    from diffusers.loaders import StableDiffusionLoraLoaderMixin

    StableDiffusionLoraLoaderMixin.save_lora_weights(tmp_path, unet_lora_layers={},
                                                     text_encoder_lora_layers=layers["text_encoder"])
    bare = paint(model)
    assert np.abs(paint(model, loras=[str(tmp_path / "pytorch_lora_weights.safetensors")]) - bare).max() > 5
    assert np.array_equal(paint(model), bare)


def test_embeddings_in_every_format_paint_their_token_and_leave_the_model_as_it_was(model, files):
    vocab, bare = len(model.tokenizer), paint(model, prompts=["a cat by inkwash"])
    a1111_pt = paint(model, prompts=["a cat by inkwash"], embeddings=[str(files["emb-a1111-pt"])])  # token: file's name
    a1111_st = paint(model, prompts=["a cat by inkwash"], embeddings=[str(files["emb-a1111-safetensors"])])
    assert np.array_equal(a1111_pt, a1111_st)  # the same two vectors
    assert np.abs(a1111_pt - bare).max() > 5
    assert model.adapters.expand(["by inkwash"], model.tokenizer) == ["by inkwash inkwash_1"]  # two vectors, two tokens
    first_only = write_embedding(files["kohya"].parent.parent / "first", "a1111-pt", vectors=1)  # the same first row
    assert not np.array_equal(paint(model, prompts=["a cat by inkwash"], embeddings=[str(first_only)]), a1111_pt)
    one = paint(model, prompts=["a cat by <ink>"], embeddings=[f"{files['emb-diffusers']}:<ink>"])
    assert not np.array_equal(one, a1111_pt)
    assert np.array_equal(paint(model, prompts=["a cat by inkwash"]), bare)
    assert len(model.tokenizer) == vocab and model.text_encoder.get_input_embeddings().weight.shape[0] == vocab


def test_the_record_names_each_file_by_hash_and_weight_and_repaints_with_it(model, files, tmp_path):
    spec = PaintSpec.check({**BASE, "loras": [f"{files['kohya']}:0.7"], "embeddings": [str(files["emb-a1111-pt"])]})
    result = paint_spec(model, spec, tmp_path / "out", progress=False)
    record = read_png_metadata(result.images[0])
    import hashlib

    assert record["loras"] == [{"name": "style.safetensors", "path": str(files["kohya"]), "weight": 0.7,
                                "sha256": hashlib.sha256(files["kohya"].read_bytes()).hexdigest()}]
    assert record["embeddings"][0]["token"] == "inkwash"
    again = PaintSpec.check(request_of(record))
    assert again.loras == spec.loras and again.embeddings == spec.embeddings
    repaint = paint_spec(model, again, tmp_path / "again", progress=False)
    from PIL import Image

    assert np.array_equal(np.asarray(Image.open(repaint.images[0])), np.asarray(Image.open(result.images[0])))
    remove_adapters(model)


def test_a_repaint_says_which_file_is_missing_or_changed(files, tmp_path):
    record = {"prompt": "a cat", "seed": 0, "loras": [{"name": "gone.safetensors", "path": str(tmp_path / "gone.safetensors"),
                                                       "sha256": "ab" * 32, "weight": 1.0}]}
    with pytest.raises(UserError, match=r"lora file not found: .*gone.safetensors \(sha256 abababababab"):
        PaintSpec.check(request_of(record))
    record["loras"][0]["path"] = str(files["kohya"])
    with pytest.raises(UserError, match="not the file the picture was painted with"):
        PaintSpec.check(request_of(record))


def test_cell_ids_include_the_adapters_and_stay_as_they_were_without(files):
    bare = PaintSpec.check(BASE).cells()[0].id
    ids = {PaintSpec.check({**BASE, "loras": [f"{files['kohya']}:{w}"]}).cells()[0].id for w in (0.5, 1)}
    assert len(ids) == 2 and bare not in ids
    assert PaintSpec.check({**BASE, "embeddings": [str(files["emb-a1111-pt"])]}).cells()[0].id not in ids | {bare}
    assert bare == PaintSpec(**{**BASE, "prompts": ("a cat",)}).validate().cells()[0].id


@pytest.mark.parametrize(("value", "words"), [
    ("{kohya}:abc", "finite number"), ("{kohya}:nan", "finite number"), ("{kohya}:inf", "finite number"),
    ("{missing}", "lora file not found"), ("{empty}", "empty file"), ("{text}", "expected a .safetensors/.pt/.bin")])
def test_bad_lora_requests_are_one_line_errors_before_any_model(files, tmp_path, value, words):
    (tmp_path / "empty.safetensors").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("x")
    names = {"kohya": files["kohya"], "missing": tmp_path / "no.safetensors", "empty": tmp_path / "empty.safetensors",
             "text": tmp_path / "notes.txt"}
    with pytest.raises(UserError, match=words):
        PaintSpec.check({**BASE, "loras": [value.format(**names)]})


def test_files_that_do_not_fit_the_model_are_refused_and_leave_it_as_it_was(model, files, tmp_path):
    from safetensors.torch import load_file, save_file

    bare = paint(model)
    kohya = load_file(files["kohya"])
    save_file({**kohya, **{k.replace("lora_te_", "lora_te2_"): v.clone() for k, v in kohya.items() if k.startswith("lora_te_")}},
              tmp_path / "sdxl.safetensors")
    save_file({k: (torch.zeros(v.shape[0], 2 * v.shape[1], *v.shape[2:]) if "lora_down" in k else v)
               for k, v in kohya.items()}, tmp_path / "wide.safetensors")
    save_file({**kohya, "lora_unet_down_blocks_9_attentions_0_proj_in.lora_down.weight": torch.zeros(4, 64),
               "lora_unet_down_blocks_9_attentions_0_proj_in.lora_up.weight": torch.zeros(64, 4)},
              tmp_path / "extra.safetensors")
    (tmp_path / "cut.safetensors").write_bytes(files["kohya"].read_bytes()[:3000])
    save_file({k.replace("lora_down.weight", "hada_w1_a"): v for k, v in kohya.items() if "lora_down" in k},
              tmp_path / "loha.safetensors")  # LyCORIS; a whole checkpoint's keys (model.diffusion_model...) are not
    save_file({"model.diffusion_model.input_blocks.0.0.weight": torch.zeros(2)}, tmp_path / "ckpt.safetensors")
    torch.save({"string_to_param": {"*": torch.zeros(1, 32)}, "name": "x", "code": argparse.Namespace(run="anything")},
               tmp_path / "pickle.pt")
    write_embedding(tmp_path / "e64", "a1111-safetensors", width=64)
    cases = [("loras", "sdxl.safetensors", "is for SDXL"), ("loras", "wide.safetensors", "does not fit this model"),
             ("loras", "extra.safetensors", "1 of its 85 layers are not in this model"),
             ("loras", "cut.safetensors", "is damaged or not a tensor file"),
             ("loras", "loha.safetensors", "is a LyCORIS LoHa file"), ("loras", "ckpt.safetensors", "holds no LoRA layers"),
             ("embeddings", "pickle.pt", "is a pickle holding more than tensors"),
             ("embeddings", "e64/inkwash.safetensors", "width 64, this model's text encoder 32"),
             ("embeddings", f"{files['emb-a1111-pt']}:cat", "already a word of this model")]
    for field, name, words in cases:
        spec = PaintSpec.check({**BASE, field: [str(tmp_path / name)]})  # an absolute path stays itself
        with pytest.raises(UserError, match=words):
            use_adapters(model, spec.loras, spec.embeddings)
        assert model.adapters is None
        assert np.array_equal(paint(model), bare), name


def test_paint_and_batch_fuse_without_a_backup_and_paint_the_same_pixels(model, files):
    one_shot = make_tiny_model(seed=0)
    spec = PaintSpec.check({**BASE, "loras": [f"{files['kohya']}:0.8"]})
    use_adapters(one_shot, spec.loras, spec.embeddings, restorable=False)
    assert one_shot.adapters.backups == []
    with pytest.raises(RuntimeError, match="without a backup"):
        remove_adapters(one_shot)
    styled = np.asarray(render(one_shot, spec.cells(), spec.settings(), batch_size=1)[0]).astype(int)
    assert np.array_equal(styled, paint(model, loras=[f"{files['kohya']}:0.8"]))
    remove_adapters(model)


def test_openvino_refuses_a_unet_lora_it_would_not_paint_with(files):
    """OpenVINO paints with the U-Net it converted (`models/openvino_unet.py`), whose weights a fused LoRA would
    not reach; torch.compile's module reads the weights fusing changes in place."""
    model = make_tiny_model(seed=0)
    model.unet_runner = type("OpenVINOUNet", (), {})()  # what `place(backend="openvino")` sets: no torch module
    spec = PaintSpec.check({**BASE, "loras": [str(files["kohya"])]})
    with pytest.raises(UserError, match="--backend openvino paints with the U-Net weights it converted"):
        use_adapters(model, spec.loras, spec.embeddings)
    assert model.adapters is None and not any("lora" in n for n, _ in model.unet.named_modules())
