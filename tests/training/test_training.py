import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from creative_painting.cli.main import main
from creative_painting.models import load_model
from creative_painting.models.device import cpu_has_native_bf16
from creative_painting.training.config import load_config
from creative_painting.training.trainer import train


def _state(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


@pytest.mark.parametrize("precision", ["no", pytest.param("bf16", marks=pytest.mark.skipif(
    not cpu_has_native_bf16(), reason="bf16 mixed precision needs a CPU with native bf16"))])
def test_stage1_trains_only_the_text_encoder(make_config, tiny_dir, precision):
    """Also under bf16, where the frozen U-Net and VAE train in bf16: the export holds them as they were."""
    cfg = load_config(make_config(stage=1, export=True, max_steps=3, mixed_precision=precision))
    summary = train(cfg, progress=False)
    base, trained = load_model(str(tiny_dir / "tiny.safetensors")), load_model(summary["exported"]["single_file"])
    for name in ("unet", "vae"):
        a, b = getattr(base, name).state_dict(), getattr(trained, name).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), f"{name} changed in stage 1"
    a, b = base.text_encoder.state_dict(), trained.text_encoder.state_dict()
    assert not torch.equal(a["embeddings.token_embedding.weight"], b["embeddings.token_embedding.weight"])


def _correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    return torch.corrcoef(torch.stack([a.flatten().double(), b.flatten().double()]))[0, 1].item()


def test_stage1_text_encoder_starts_from_scratch_and_stage2_from_the_model(make_config, tiny_dir):
    """At step 0, a from-scratch encoder is uncorrelated with the base model's; stage 2 starts from it."""
    from creative_painting.training.trainer import trainable_modules

    base = load_model(str(tiny_dir / "tiny.safetensors"))
    reference = _state(base.text_encoder)
    matrices = [k for k, v in reference.items() if v.ndim == 2]  # LayerNorms start at 1 in any init
    assert len(matrices) >= 10
    te, unet, groups = trainable_modules(load_config(make_config(stage=1)), load_model(str(tiny_dir / "tiny.safetensors")))
    fresh = te.state_dict()
    assert max(abs(_correlation(fresh[k], reference[k])) for k in matrices) < 0.1
    assert all(p.requires_grad for p in te.parameters()) and not any(p.requires_grad for p in unet.parameters())
    assert [len(g["params"]) for g in groups] == [len(list(te.parameters()))]
    te2, unet2, groups2 = trainable_modules(load_config(make_config(stage=2)), load_model(str(tiny_dir / "tiny.safetensors")))
    assert all(torch.equal(te2.state_dict()[k], reference[k]) for k in reference)
    assert len(groups2) == 2 and all(p.requires_grad for p in unet2.parameters())
    # A different seed gives a different fresh encoder; the same seed the same one.
    again, _, _ = trainable_modules(load_config(make_config(stage=1)), load_model(str(tiny_dir / "tiny.safetensors")))
    other, _, _ = trainable_modules(load_config(make_config(stage=1, seed=1)), load_model(str(tiny_dir / "tiny.safetensors")))
    key = "embeddings.token_embedding.weight"
    assert torch.equal(again.state_dict()[key], fresh[key]) and not torch.equal(other.state_dict()[key], fresh[key])


@pytest.mark.parametrize("lora_rank", [0, 4])
def test_stage2_trains_text_encoder_and_unet_jointly(make_config, tiny_dir, lora_rank):
    summary = train(load_config(make_config(stage=2, lora_rank=lora_rank, export=True, max_steps=2)), progress=False)
    base, trained = load_model(str(tiny_dir / "tiny.safetensors")), load_model(summary["exported"]["single_file"])
    for name in ("unet", "text_encoder"):
        a, b = getattr(base, name).state_dict(), getattr(trained, name).state_dict()
        changed = [k for k in a if not torch.equal(a[k], b[k])]
        assert len(changed) >= (4 if name == "unet" else len(a) // 2), f"{name}: {len(changed)} tensors changed"
    a, b = base.vae.state_dict(), trained.vae.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a), "the VAE is frozen in every stage"


def test_resume_continues_with_the_same_losses(make_config, tmp_path):
    straight = train(load_config(make_config(max_steps=4, output_dir=str(tmp_path / "a"))), progress=False)
    cfg = make_config(max_steps=2, output_dir=str(tmp_path / "b"))
    first = train(load_config(cfg), progress=False)
    resumed = train(load_config(cfg, ["max_steps=4"]), progress=False)
    assert list(first["losses"]) == [1, 2] and list(resumed["losses"]) == [3, 4]
    for step in (1, 2):
        assert first["losses"][step] == pytest.approx(straight["losses"][step], abs=1e-6)
    for step in (3, 4):
        assert resumed["losses"][step] == pytest.approx(straight["losses"][step], abs=1e-5)


def test_stage2_exports_models_that_paint_loads(make_config, tmp_path, capsys):
    cfg = make_config(stage=2, export=True, ema_decay=0.9, snr_gamma=5.0, gradient_accumulation_steps=2,
                      validate_every=4)
    assert main(["train", str(cfg), "--no-progress", "max_steps=4"]) == 0
    run = tmp_path / "run"
    single, folder = load_model(str(run / "model.safetensors")), load_model(str(run / "diffusers"))
    for a, b in zip(single.unet.state_dict().values(), folder.unet.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert (run / "samples" / "step-000004" / "grid.png").is_file()
    assert any((run / "logs").rglob("events.out.tfevents*"))
    out = tmp_path / "paint"
    assert main(["paint", "a sun", "--artist", "Anna Orlova", "--model", str(run / "model.safetensors"), "--steps", "2",
                 "--width", "32", "--height", "32", "--out", str(out), "--no-progress"]) == 0
    assert (out / "grid.png").is_file()


def test_lora_changes_the_unet_only_through_merged_adapters(make_config, tiny_dir):
    summary = train(load_config(make_config(stage=2, lora_rank=4, export=True, max_steps=2)), progress=False)
    base = load_model(str(tiny_dir / "tiny.safetensors")).unet.state_dict()
    merged = load_model(summary["exported"]["single_file"]).unet.state_dict()
    assert base.keys() == merged.keys()  # no lora_A/lora_B left: merged into the base weights
    changed = {k for k in base if not torch.equal(base[k], merged[k])}
    assert changed and all(any(t in k for t in ("to_q", "to_k", "to_v", "to_out")) for k in changed)


@pytest.mark.parametrize(("override", "message"), [
    ("stage=3", "stage must be 1 or 2"), ("colour=red", "unknown config key"), ("resolution=30", "multiple of 8"),
    ("lora_rank=4", "stage 2 only"), ("num_workers=-1", "num_workers must be 0"),
    ("max_steps=2.5", "max_steps must be an integer, got 2.5"), ("log_every=0", "log_every"),
    ("seed=1180591620717411303424", "seed must be an integer in 0..2**64-1"), ("seed=-1", "seed must be"),
    ("learning_rate=nan", "learning_rate must be a finite number"), ("weight_decay=abc", "weight_decay must be a number"),
    ("ema_decay=.inf", "finite"), ("validation_prompts=[]", "validation_prompts"),
])
def test_config_errors_are_one_line(make_config, override, message, capsys):
    extra = ["stage=1"] if override == "lora_rank=4" else []
    assert main(["train", str(make_config()), override, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_overrides_are_coerced_to_their_fields_types(make_config):
    cfg = load_config(make_config(), ["learning_rate=1e-5", "weight_decay=1e-2", "validation_prompts=abc",
                                      "max_steps=12", "gradient_checkpointing=true", "text_encoder_learning_rate=null"])
    assert cfg.learning_rate == 1e-5 and isinstance(cfg.weight_decay, float) and cfg.weight_decay == 0.01
    assert cfg.validation_prompts == ["abc"] and cfg.max_steps == 12 and cfg.gradient_checkpointing is True
    assert cfg.text_encoder_learning_rate is None


def test_sigkill_mid_run_then_resume(make_config, tmp_path):
    cfg = make_config(max_steps=40, checkpoint_every=1, keep_checkpoints=3)
    cmd = [sys.executable, "-m", "creative_painting.cli.main", "train", str(cfg), "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoints = tmp_path / "run" / "checkpoints"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(checkpoints.glob("step-*"))) < 2:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = sorted(int(p.name.split("-")[1]) for p in checkpoints.glob("step-*"))
    assert done and max(done) < 40
    for path in checkpoints.glob("step-*"):  # every complete checkpoint loads
        assert json.loads((path / "trainer.json").read_text())["step"] == int(path.name.split("-")[1])
    last = max(done)
    summary = train(load_config(cfg, [f"max_steps={last + 2}"]), progress=False)
    assert list(summary["losses"]) == [last + 1, last + 2]
    assert not list(checkpoints.glob(".tmp-*"))
    # The same losses as a run never interrupted: resuming restores weights, optimizer and data order.
    straight = train(load_config(cfg, [f"max_steps={last + 2}", f"output_dir={tmp_path / 'straight'}"]),
                     progress=False)
    for step in (last + 1, last + 2):
        assert summary["losses"][step] == pytest.approx(straight["losses"][step], rel=1e-5, abs=1e-6)


def test_two_cpu_processes_keep_identical_weights(make_config, tmp_path):
    cfg = make_config(max_steps=2, stage=2)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # torch's own launcher (what `accelerate launch --multi_gpu` runs); accelerate picks gloo on CPU
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517",
           "-m", "creative_painting.cli.main", "train", str(cfg), "--no-progress"]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    digests = [json.loads((tmp_path / "run" / "ranks" / f"{r}.json").read_text())["digest"] for r in (0, 1)]
    assert digests[0] == digests[1]


def test_training_reads_an_uncompressed_wikiart_tar_and_refuses_a_compressed_one(tmp_path, capsys):
    from creative_painting.training.data import StepBatches, open_items
    from creative_painting.wikiart.synthetic import SUBJECTS, collection_files, make_artists, write_collection

    files = collection_files(make_artists(2), SUBJECTS[:2], per_pair=2, size=32, broken=True)
    tar = write_collection(files, tmp_path / "wikiart.tar", as_tar=True)
    items, manifest = open_items(str(tar))
    assert manifest == {"kind": "pixels"} and {i.artwork.path for i in items} <= set(files)
    batch = StepBatches(items, batch_size=4, seed=0, resolution=32, template=None, caption_dropout=0.0,
                        field_dropout=0.0)[0]
    assert batch["x"] is not None and batch["x"].shape[1:] == (3, 32, 32)
    packed = write_collection(files, tmp_path / "wikiart.tar.gz", as_tar=True)
    config = tmp_path / "c.yaml"
    config.write_text(f"model: x\ndata: {packed}\noutput_dir: {tmp_path / 'run'}\n")
    assert main(["train", str(config)]) == 2
    err = capsys.readouterr().err
    assert "compressed" in err and "wikiart shard" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_checkpoints_and_exports_follow_the_umask(make_config, tmp_path):
    import stat

    old = os.umask(0o022)
    try:
        train(load_config(make_config(max_steps=2, checkpoint_every=1, ema_decay=0.9, export=True)), progress=False)
    finally:
        os.umask(old)
    run = tmp_path / "run"
    modes = {p.relative_to(run).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in run.rglob("*")}
    assert "checkpoints/step-2/ema.safetensors" in modes and "diffusers/unet/config.json" in modes
    wrong = {p: oct(m) for p, m in modes.items() if m not in (0o644, 0o755)}
    assert not wrong, wrong


def test_train_json_after_a_resume_keeps_stdout_pure_json(make_config, capsys, caplog):
    cfg = make_config(max_steps=2, checkpoint_every=1)
    assert main(["train", str(cfg), "--no-progress", "--json"]) == 0
    capsys.readouterr()
    assert main(["train", str(cfg), "--no-progress", "--json", "max_steps=3"]) == 0
    captured = capsys.readouterr()
    assert list(json.loads(captured.out)["losses"]) == ["3"]  # the whole of stdout is one JSON document
    assert "resumed from" in caplog.text and "resumed" not in captured.out  # the note goes to the log (stderr)


def test_resumed_ema_weights_equal_an_uninterrupted_runs(make_config, tmp_path):
    """The exported model is the EMA one: after a resume it must be what one straight run exports."""
    common = {"stage": 2, "ema_decay": 0.5, "export": True, "checkpoint_every": 2}
    straight = train(load_config(make_config(max_steps=4, output_dir=str(tmp_path / "a"), **common)), progress=False)
    cfg = make_config(max_steps=2, output_dir=str(tmp_path / "b"), **common)
    train(load_config(cfg), progress=False)
    resumed = train(load_config(cfg, ["max_steps=4"]), progress=False)
    a = load_model(straight["exported"]["single_file"]).unet.state_dict()
    b = load_model(resumed["exported"]["single_file"]).unet.state_dict()
    assert max((a[k] - b[k]).abs().max().item() for k in a) < 1e-5


def test_library_code_never_reseeds_the_global_rng(make_config, tiny_dir):
    """Seeds come from derive_seed into private generators or a forked RNG: the caller's stream is untouched."""
    from creative_painting.models import make_tiny_model
    from creative_painting.training.trainer import trainable_modules

    torch.manual_seed(1234)
    state = torch.get_rng_state()
    make_tiny_model(seed=5)
    trainable_modules(load_config(make_config(stage=1)), load_model(str(tiny_dir / "tiny.safetensors")))
    trainable_modules(load_config(make_config(stage=2, lora_rank=4)), load_model(str(tiny_dir / "tiny.safetensors")))
    assert torch.equal(torch.get_rng_state(), state)
