import pytest
import torch
from safetensors.torch import load_file, save_file

from creative_painting.errors import UserError
from creative_painting.models import load, load_model
from creative_painting.models.compvis_layout import CONFIG_METADATA_KEY, read_checkpoint, split_to_diffusers
from creative_painting.models.configs import bundled_configs


def _assert_same_weights(a, b):
    for name, state in a.state_dicts().items():
        other = b.state_dicts()[name]
        assert state.keys() == other.keys(), name
        assert all(torch.equal(state[k], other[k]) for k in state), name


@pytest.mark.parametrize("fmt", ["diffusers", "tiny.safetensors", "tiny.ckpt"])
def test_every_format_loads_the_same_weights(tiny_dir, tiny_model, fmt):
    model = load_model(str(tiny_dir / fmt))
    _assert_same_weights(model, tiny_model)
    assert model.report.unused == []
    assert model.vae_scale_factor == 8
    assert model.scheduler_config["beta_start"] == 0.00085 and model.scheduler_config["steps_offset"] == 1


@pytest.mark.parametrize("fmt", ["diffusers", "tiny.safetensors"])
def test_dtypes_load_parts_straight_into_them_and_the_same_values(tiny_dir, tiny_model, fmt):
    """Training loads a frozen part in bf16 without an fp32 copy first; what it gets is the cast weights."""
    dtypes = {"unet": torch.bfloat16, "vae": torch.float16, "text_encoder": torch.float32}
    model = load_model(str(tiny_dir / fmt), dtypes=dtypes)
    assert {name: m.dtype for name, m in (("unet", model.unet), ("vae", model.vae),
                                          ("text_encoder", model.text_encoder))} == dtypes
    for name, state in model.state_dicts().items():
        reference = tiny_model.state_dicts()[name]
        assert all(torch.equal(state[k], reference[k].to(state[k].dtype)) for k in reference), name
    plain = load_model(str(tiny_dir / fmt))  # no dtypes: fp32, as before
    assert (plain.unet.dtype, plain.vae.dtype, plain.text_encoder.dtype) == (torch.float32,) * 3


def test_compvis_layout_round_trips_through_diffusers_converter(tiny_model):
    """Our diffusers->CompVis names, inverted by diffusers' own converter, give back every tensor."""
    compvis = tiny_model.compvis_state_dict()
    assert {k.split(".")[0] for k in compvis} == {"model", "first_stage_model", "cond_stage_model"}
    assert compvis["first_stage_model.encoder.mid.attn_1.q.weight"].ndim == 4  # CompVis 1x1 conv
    parts = split_to_diffusers(compvis, dict(tiny_model.unet.config), dict(tiny_model.vae.config))
    for name, state in tiny_model.state_dicts().items():
        converted = {k.removeprefix("text_model."): v for k, v in parts[name].items()}
        assert converted.keys() == state.keys(), name
        assert all(torch.equal(converted[k], state[k]) for k in state), name


def test_sd_v1_names_match_the_real_checkpoint_layout(tiny_model):
    keys = set(tiny_model.compvis_state_dict())
    # Names every real sd-v1-*.ckpt has (the tiny U-Net has 2 levels, so fewer blocks).
    for key in ("model.diffusion_model.input_blocks.0.0.weight", "model.diffusion_model.time_embed.0.weight",
                "model.diffusion_model.input_blocks.1.0.in_layers.0.weight",
                "model.diffusion_model.input_blocks.3.0.op.weight",
                "model.diffusion_model.input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight",
                "model.diffusion_model.middle_block.1.proj_in.weight", "model.diffusion_model.out.2.weight",
                "model.diffusion_model.output_blocks.2.2.conv.weight",
                "first_stage_model.decoder.up.3.upsample.conv.weight", "first_stage_model.quant_conv.weight",
                "cond_stage_model.transformer.text_model.final_layer_norm.weight"):
        assert key in keys, key


def test_unused_keys_are_reported_and_training_buffers_ignored(tiny_dir, tmp_path, caplog):
    state = load_file(tiny_dir / "tiny.safetensors")
    state["betas"] = torch.zeros(1000)
    state["model_ema.decay"] = torch.tensor(0.999)
    state["model.diffusion_model.extra_head.weight"] = torch.zeros(3)
    metadata = read_checkpoint(tiny_dir / "tiny.safetensors")[1]
    save_file(state, tmp_path / "extra.safetensors", metadata=metadata)
    model = load_model(str(tmp_path / "extra.safetensors"))
    assert model.report.unused == ["model.diffusion_model.extra_head.weight"]
    assert set(model.report.ignored) == {"betas", "model_ema.decay"}
    assert "extra_head" in caplog.text


def test_missing_weights_are_an_error_not_random(tiny_dir, tmp_path):
    state = load_file(tiny_dir / "tiny.safetensors")
    del state["model.diffusion_model.out.2.weight"]
    metadata = read_checkpoint(tiny_dir / "tiny.safetensors")[1]
    save_file(state, tmp_path / "missing.safetensors", metadata=metadata)
    with pytest.raises(UserError, match=r"lacks 1 unet weights \(e.g. conv_out.weight\)"):
        load_model(str(tmp_path / "missing.safetensors"))


def test_old_text_encoder_layout_without_text_model_level_loads(tiny_dir, tiny_model, tmp_path):
    state = load_file(tiny_dir / "tiny.safetensors")
    state = {k.replace("cond_stage_model.transformer.text_model.", "cond_stage_model.transformer."): v
             for k, v in state.items()}
    save_file(state, tmp_path / "old.safetensors", metadata=read_checkpoint(tiny_dir / "tiny.safetensors")[1])
    _assert_same_weights(load_model(str(tmp_path / "old.safetensors")), tiny_model)


def test_compvis_wrapped_ckpt_with_global_step(tiny_model, tmp_path):
    """Real .ckpt files are {"state_dict": ..., "global_step": int}; the architecture comes from --config."""
    torch.save({"state_dict": tiny_model.compvis_state_dict(), "global_step": 470000}, tmp_path / "m.ckpt")
    tiny_model.save_diffusers(tmp_path / "configs")
    _assert_same_weights(load_model(str(tmp_path / "m.ckpt"), config_dir=tmp_path / "configs"), tiny_model)


def test_file_without_embedded_configs_uses_bundled_sd_v1(tiny_model, tmp_path):
    save_file({k: v.contiguous() for k, v in tiny_model.compvis_state_dict().items()}, tmp_path / "bare.safetensors")
    with pytest.raises(UserError, match=r"lacks \d+ unet weights.*--config"):
        load_model(str(tmp_path / "bare.safetensors"))


@pytest.mark.parametrize("size", [0, 100, 5000])
def test_truncated_files_are_user_errors(tiny_dir, tmp_path, size):
    for name in ("tiny.safetensors", "tiny.ckpt"):
        broken = tmp_path / name
        broken.write_bytes((tiny_dir / name).read_bytes()[:size])
        with pytest.raises(UserError, match="corrupt or truncated"):
            load_model(str(broken))


def test_ckpt_with_pickled_code_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"state_dict": {"x": Evil()}}, tmp_path / "evil.ckpt")
    with pytest.raises(UserError, match="pickled code"):
        load_model(str(tmp_path / "evil.ckpt"))


def test_sd_v2_checkpoint_is_named(tmp_path):
    save_file({"cond_stage_model.model.token_embedding.weight": torch.zeros(2, 2),
               "model.diffusion_model.out.2.weight": torch.zeros(1)}, tmp_path / "v2.safetensors")
    with pytest.raises(UserError, match="v2"):
        load_model(str(tmp_path / "v2.safetensors"))


def test_unreachable_hub_fails_fast_naming_model_path(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(UserError, match="--model PATH"):
        load_model("CompVis/stable-diffusion-v1-4")


@pytest.mark.parametrize("spec", ["/no/such/file.ckpt", "/no/such/folder", "relative/missing/dir/x"])
def test_missing_paths_are_user_errors(spec):
    with pytest.raises(UserError, match="not found"):
        load_model(spec)


def test_folder_that_is_not_a_model(tmp_path):
    with pytest.raises(UserError, match="missing unet/, vae/, text_encoder/"):
        load_model(str(tmp_path))


def test_bundled_configs_are_sd_v1_4():
    configs = bundled_configs()
    assert configs.unet["block_out_channels"] == [320, 640, 1280, 1280]
    assert configs.unet["cross_attention_dim"] == 768
    assert configs.vae["scaling_factor"] == 0.18215
    assert configs.text_encoder["max_position_embeddings"] == 77 and configs.text_encoder["hidden_size"] == 768
    assert (configs.scheduler["beta_schedule"], configs.scheduler["beta_start"], configs.scheduler["beta_end"]) == (
        "scaled_linear", 0.00085, 0.012)
    assert CONFIG_METADATA_KEY == "creative_painting.configs"


def test_make_tiny_prints_its_files_and_no_progress_bar(tmp_path, capfd):
    from creative_painting.cli.main import main

    assert main(["models", "make-tiny", str(tmp_path / "t")]) == 0
    out, err = capfd.readouterr()
    assert "Writing model shards" not in out + err and "%|" not in err
    assert len(out.strip().splitlines()) == 3 and err.strip() == ""


def test_tiny_is_a_model_name_for_every_front_end(tmp_path, monkeypatch):
    """Issue 40: `tiny` everywhere or nowhere. It is the tiny random model for paint, batch, the studio and
    `models`; a folder of that name is still a folder."""
    from creative_painting.batch import BatchJob
    from creative_painting.models import make_tiny_model
    from creative_painting.models.choice import ModelChoice

    tiny, reference = load_model("tiny"), make_tiny_model()
    assert tiny.source == "tiny"
    assert all(torch.equal(a, b) for a, b in zip(tiny.unet.state_dict().values(), reference.unet.state_dict().values(),
                                                 strict=True))
    assert load(ModelChoice(model="tiny").validate()).source == "tiny"  # paint's, the studio's and batch's path
    assert load(BatchJob(prompts=["x"], model="tiny").model_choice()).source == "tiny"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny").mkdir()
    with pytest.raises(UserError, match="is not a diffusers Stable Diffusion folder"):
        load_model("tiny")


def test_one_loader_reads_and_places_every_model():
    """Issue 40, item 3: every command loads through `models.load` (only it calls the reader), and a choice is
    placed as it says: the CPU's bf16 U-Net channels_last beside an fp32 text encoder; a bare name is read as is."""
    import ast
    import pathlib

    import creative_painting
    from creative_painting.models.choice import ModelChoice

    root = pathlib.Path(creative_painting.__file__).parent
    callers = sorted({str(path.relative_to(root)) for path in root.rglob("*.py")
                     for node in ast.walk(ast.parse(path.read_text()))
                     if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "load_model"})
    assert callers == ["models/loading.py"], callers
    placed = load(ModelChoice(model="tiny", device="cpu", dtype="bf16"))
    assert placed.unet.dtype == torch.bfloat16 and placed.text_encoder.dtype == torch.float32
    assert placed.unet.conv_in.weight.is_contiguous(memory_format=torch.channels_last)
    read = load("tiny")
    assert read.unet.dtype == torch.float32 and read.unet.conv_in.weight.is_contiguous()


def test_the_models_package_imports_no_circle():
    """Issue 40: models/device.py, spec.py and loading.py imported each other. Every import counts, in a function
    or not."""
    import ast
    from pathlib import Path

    import creative_painting.models as package

    folder = Path(package.__file__).parent
    names = {p.stem for p in folder.glob("*.py")}
    graph = {p.stem: {n.module.rsplit(".", 1)[-1] for n in ast.walk(ast.parse(p.read_text()))
                      if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("creative_painting.models.")
                      and n.module.rsplit(".", 1)[-1] in names} for p in folder.glob("*.py")}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph[start])

    assert not [m for m in graph if reaches(m, m, {m})]
