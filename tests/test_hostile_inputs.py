"""Every command against a table of hostile inputs. For each: exit code 2, one line on stderr, no traceback,
nothing new in the working folder and every file that was there unchanged (content and mode).

A new command or flag is held to the same promise by adding rows here.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from creative_painting.cli.main import main
from creative_painting.files import MARKER, run_lock

HUGE = str(2**70)


@pytest.fixture(scope="session")
def assets(tmp_path_factory, tiny_dir):
    """Read-only inputs shared by every case: models, data, an index, a trained run (built once)."""
    from safetensors.torch import load_file, save_file

    from creative_painting.extension import build_index, iter_articles
    from creative_painting.training.config import load_config
    from creative_painting.training.trainer import train
    from creative_painting.wikiart.shards import ShardSettings, write_shards
    from creative_painting.wikiart.synthetic import SUBJECTS, collection_files, make_artists, write_collection

    root = tmp_path_factory.mktemp("assets")
    a = {"tiny": str(tiny_dir / "tiny.safetensors"), "tiny_diffusers": str(tiny_dir / "diffusers")}
    files = collection_files(make_artists(2), SUBJECTS[:2], per_pair=2, size=64)
    a["wa"] = str(write_collection(files, root / "wikiart"))
    write_shards(a["wa"], root / "shards", ShardSettings(size=32, shard_size=8), workers=0, progress=False)
    a["shards"] = str(root / "shards")
    jsonl = root / "wiki.jsonl"
    jsonl.write_text("".join(json.dumps({"title": f"City {i}", "text": f"City {i} grew fast in 19{i}0. It is big."})
                             + "\n" for i in range(5)))
    a["jsonl"] = str(jsonl)
    build_index(iter_articles(jsonl), root / "index", source=str(jsonl), progress=False)
    a["index"] = str(root / "index")
    a |= _adapter_files(root / "adapters")

    # Single files whose embedded configuration is broken in every way seen so far.
    tensors = load_file(a["tiny"])
    from safetensors import safe_open

    with safe_open(a["tiny"], framework="pt") as f:
        good = json.loads(f.metadata()["creative_painting.configs"])
    huge = json.loads(json.dumps(good))
    huge["unet"]["block_out_channels"] = [320_000, 640_000]
    missing = json.loads(json.dumps(good))
    del missing["vae"]["latent_channels"]
    for name, text in {"notjson": "{not json", "list": "[]", "empty": "{}", "huge": json.dumps(huge),
                       "missing": json.dumps(missing)}.items():
        save_file(tensors, str(root / f"bad-{name}.safetensors"), metadata={"creative_painting.configs": text})
        a[f"bad_{name}"] = str(root / f"bad-{name}.safetensors")

    # A finished stage-2 run with EMA and checkpoints, to damage copies of it.
    run = root / "run"
    config = {"model": a["tiny"], "data": a["shards"], "output_dir": str(run), "resolution": 32, "batch_size": 2,
              "max_steps": 2, "checkpoint_every": 1, "validate_every": 100, "validation_steps": 1,
              "num_workers": 0, "export": False, "ema_decay": 0.9, "learning_rate": 1e-3}
    (root / "train.json").write_text(json.dumps(config))
    train(load_config(root / "train.json"), progress=False)
    a["run"] = str(run)
    a["train_config"] = config
    return a


def _adapter_files(root: Path) -> dict[str, str]:
    """A good LoRA and embedding for the tiny model, and bad ones: SDXL's keys, LyCORIS LoHa keys, cut short,
    empty, a pickle with more than tensors, vectors of another width."""
    import argparse

    import torch
    from safetensors.torch import load_file, save_file

    from tests.painting.adapter_files import write_embedding, write_lora

    lora, emb = write_lora(root / "lora", "kohya"), write_embedding(root / "emb", "a1111-pt")
    kohya = load_file(lora)
    save_file({**kohya, **{k.replace("lora_te_", "lora_te2_"): v.clone() for k, v in kohya.items()
                           if k.startswith("lora_te_")}}, root / "sdxl.safetensors")
    save_file({k.replace("lora_down.weight", "hada_w1_a"): v.clone() for k, v in kohya.items()
               if k.endswith("lora_down.weight")}, root / "loha.safetensors")  # LyCORIS LoHa keys
    (root / "cut.safetensors").write_bytes(lora.read_bytes()[:2000])
    (root / "empty.safetensors").write_bytes(b"")
    torch.save({"string_to_param": {"*": torch.zeros(1, 32)}, "name": "x", "hook": argparse.Namespace(a=1)},
               root / "pickle.pt")
    wide = write_embedding(root / "wide", "a1111-safetensors", width=64)
    return {"lora": str(lora), "emb": str(emb), "lora_sdxl": str(root / "sdxl.safetensors"),
            "lora_cut": str(root / "cut.safetensors"), "lora_loha": str(root / "loha.safetensors"), "lora_empty": str(root / "empty.safetensors"),
            "emb_pickle": str(root / "pickle.pt"), "emb_wide": str(wide)}


def _snapshot(folder: Path) -> dict[str, tuple]:
    out = {}
    for p in sorted(folder.rglob("*")):
        mode = stat.S_IMODE(p.lstat().st_mode)
        out[str(p.relative_to(folder))] = ((hashlib.sha256(p.read_bytes()).hexdigest(), mode) if p.is_file()
                                           else ("dir", mode))
    return out


def _write_config(path: Path, **values) -> str:
    path.write_text(json.dumps(values))
    return str(path)


def _copy_run(assets, work: Path, damage) -> str:
    run = work / "run"
    shutil.copytree(assets["run"], run)
    damage(run)
    cfg = {**assets["train_config"], "output_dir": str(run), "max_steps": 4}
    return _write_config(work / "resume.json", **cfg)


def _newest(run: Path) -> Path:
    return max((run / "checkpoints").glob("step-*"), key=lambda p: int(p.name.split("-")[1]))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _pickle_optimizer(run: Path) -> None:
    import pickle

    (_newest(run) / "optimizer.bin").write_bytes(pickle.dumps(Exception("pickled code")))


def _prev_paint(work: Path) -> None:
    (work / "prev").mkdir()
    (work / "prev" / "grid.png").write_bytes(b"png")
    (work / "prev" / MARKER).write_text(json.dumps({"kind": "paint", "files": ["grid.png"]}))


def _bad_utf8(work: Path) -> None:
    (work / "bad.jsonl").write_bytes(b'{"title": "A", "text": "ok"}\n{"title": "B", "text": "caf\xe9"}\n')
    (work / "style_bad.csv").write_bytes(b"Impressionism/claude-monet_a.jpg,0\nImpressionism/caf\xe9_b.jpg,0\n")
    (work / "captions.txt").write_bytes(b"a painting of a tree\n\xff\xfe broken\n")


def _damaged_index(name: str):
    def damage(work: Path, assets) -> None:
        shutil.copytree(assets["index"], work / "idx")
        if name == "meta":
            (work / "idx" / "meta.json").write_text("{garbage")
        elif name == "store":
            for store in (work / "idx").glob("*.store"):
                store.write_bytes(b"\0" * 64)
        else:
            (work / "idx" / "progress.json").write_text("{oops")
    return damage


def _parquet_with_int_titles(work: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"title": [1, 2], "text": ["a b c.", "d e f."]}), work / "wiki.parquet")


def _pickled_unet_folder(work: Path, assets) -> None:
    import pickle

    shutil.copytree(assets["tiny_diffusers"], work / "sd")
    weights = work / "sd" / "unet" / "diffusion_pytorch_model.safetensors"
    weights.unlink()
    (weights.parent / "diffusion_pytorch_model.bin").write_bytes(pickle.dumps(Exception("pickled")))


def _broken_folder_config(work: Path, assets) -> None:
    shutil.copytree(assets["tiny_diffusers"], work / "sd")
    (work / "sd" / "vae" / "config.json").write_text("{not json")


PAINT = ["paint", "a tree", "--model", "{tiny}", "--steps", "1", "--width", "32", "--height", "32", "--no-progress"]

# (id, argv, expected words in the error, setup(work) or setup(work, assets))
CASES = [
    # Data loss: never delete or overwrite what is not a previous output of ours.
    ("convert-into-user-folder", ["models", "convert", "{tiny}", "notours"], "not written by creative-painting", None),
    ("convert-into-cwd", ["models", "convert", "{tiny}", "."], "not written by creative-painting", None),
    ("convert-over-a-file", ["models", "convert", "{tiny}", "existing.safetensors"], "pass --overwrite", None),
    ("paint-over-previous", [*PAINT, "--out", "prev"], "pass --overwrite", _prev_paint),
    ("paint-into-user-folder", [*PAINT, "--out", "notours"], "not written by creative-painting", None),
    ("make-tiny-into-user-folder", ["models", "make-tiny", "notours"], "not written by creative-painting", None),
    # Values refused before any work.
    ("paint-huge", [*PAINT, "--width", "100000", "--height", "100000"], "at most 4096", None),
    ("paint-too-many-pixels", [*PAINT, "--width", "4096", "--height", "4096"], "pixels", None),
    ("paint-does-not-fit-memory", ["paint", *[f"p{i}" for i in range(16)], "--model", "{tiny}", "--steps", "1",
                                   "--width", "2048", "--height", "2048", "--images", "16", "--batch-size", "256",
                                   "--no-progress"], "of memory beyond the model", None),
    ("batch-does-not-fit-memory", ["batch", "--out", "b", "--model", "{tiny}", "--prompt", "x", "--prompt", "y",
                                   "--prompt", "z", "--seeds", "100", "--steps", "1", "--width", "2048", "--height",
                                   "2048", "--batch-size", "256", "--no-progress"], "of memory beyond the model", None),
    ("paint-scale-nan", [*PAINT, "--scale", "nan"], "finite", None),
    ("paint-scale-inf", [*PAINT, "--scale", "inf"], "finite", None),
    ("paint-eta-nan", [*PAINT, "--eta", "nan"], "finite", None),
    ("paint-seed-huge", [*PAINT, "--seed", HUGE], "0..2**64-1", None),
    ("paint-seed-negative", [*PAINT, "--seed", "-1"], "0..2**64-1", None),
    ("paint-extend-zero", [*PAINT, "--extend", "0"], "--extend", None),
    ("extend-l1-nan", ["extend", "x", "--l1", "nan"], "finite", None),
    ("extend-l2-inf", ["extend", "x", "--l2", "inf"], "finite", None),
    ("extend-retrieve-huge", ["extend", "x", "--retrieve", "100000000"], "--retrieve", None),
    ("extend-top-zero", ["extend", "x", "--top", "0"], "--top", None),
    ("extend-seed-huge", ["extend", "x", "--seed", HUGE], "0..2**64-1", None),
    ("extend-l3-nan", ["extend", "x", "--l3", "nan"], "finite", None),
    ("extend-rewrite-many", ["extend", "x", "--rewrite", "1000"], "--rewrite", None),
    ("extend-rewrite-base-model", ["extend", "x", "--rewrite", "2", "--chat", "gemma"], "instruction model", None),
    ("extend-scoring-unknown", ["extend", "x", "--scoring", "best"], "--scoring", None),
    ("paint-long-prompt-unknown", [*PAINT, "--long-prompt", "wrap"], "long_prompt must be one of", None),
    # LoRA and embedding files: refused before painting, the model never half changed.
    *[(f"paint-{key}", [*PAINT, flag, value], words, None) for key, flag, value, words in [
        ("lora-missing", "--lora", "nope.safetensors", "lora file not found: nope.safetensors"),
        ("lora-weight-text", "--lora", "{lora}:strong", "weight must be a finite number, got 'strong'"),
        ("lora-weight-inf", "--lora", "{lora}:inf", "finite number"),
        ("lora-empty", "--lora", "{lora_empty}", "is an empty file"),
        ("lora-damaged", "--lora", "{lora_cut}", "is damaged or not a tensor file"),
        ("lora-sdxl", "--lora", "{lora_sdxl}", "is for SDXL"),
        ("lora-lycoris-loha", "--lora", "{lora_loha}", "is a LyCORIS LoHa file, which diffusers' loaders do not read"),
        ("lora-not-a-tensor-file", "--lora", "file.txt", "expected a .safetensors/.pt/.bin file"),
        ("embedding-pickle", "--embedding", "{emb_pickle}", "is a pickle holding more than tensors"),
        ("embedding-width", "--embedding", "{emb_wide}", "vectors of width 64"),
        ("embedding-token-taken", "--embedding", "{emb}:cat", "the token 'cat' is already a word"),
        ("embedding-token-space", "--embedding", "{emb}:two words", "a token is one word")]],
    ("paint-a1111-lora-tag", ["paint", "a tree <lora:van-gogh:0.8>", *PAINT[2:]], "A1111's tag '<lora:van-gogh:0.8>'",
     None),
    ("batch-a1111-lora-tag", ["batch", "--out", "b", "--prompt", "x <LYCO:blur:-1>"], "--lora FILE",
     None),
    ("batch-lora-missing", ["batch", "--out", "b", "--prompt", "x", "--lora", "nope.safetensors"],
     "lora file not found", None),
    ("extract-lora-rank-zero", ["models", "extract-lora", "{tiny}", "{tiny}", "l.safetensors", "--rank", "0"],
     "--rank must be in 1..1024", None),
    ("extract-lora-over-a-file", ["models", "extract-lora", "{tiny}", "{tiny}", "existing.safetensors"],
     "exists; pass --overwrite", None),
    ("extract-lora-same-model", ["models", "extract-lora", "{tiny}", "{tiny}", "l.safetensors", "--no-progress"],
     "nothing to extract", None),
    ("shard-balance-nan", ["wikiart", "shard", "{wa}", "out", "--balance", "nan"], "finite", None),
    ("shard-size-huge", ["wikiart", "shard", "{wa}", "out", "--size", "100000"], "--size", None),
    ("shard-workers-negative", ["wikiart", "shard", "{wa}", "out", "--workers", "-1"], "--workers", None),
    ("stats-top-negative", ["wikiart", "stats", "{wa}", "--top", "-3"], "--top", None),
    ("validate-workers-negative", ["wikiart", "validate", "{wa}", "--workers", "-2"], "--workers", None),
    ("index-max-sentences-negative", ["wiki", "index", "{jsonl}", "idx", "--max-sentences", "-1"], "--max-sentences", None),
    ("index-heap-zero", ["wiki", "index", "{jsonl}", "idx", "--heap-mb", "0"], "--heap-mb", None),
    ("make-tiny-seed-huge", ["models", "make-tiny", "out", "--seed", HUGE], "0..2**64-1", None),
    ("demo-artists", ["demo", "--artists", "1"], "--artists", None),
    ("batch-no-prompts", ["batch", "--out", "b"], "no prompts", None),
    ("batch-seeds-zero", ["batch", "--out", "b", "--prompt", "x", "--seeds", "0"], "images must be", None),  # the former flag
    ("batch-scale-nan", ["batch", "--out", "b", "--prompt", "x", "--scale", "nan"], "finite", None),
    ("batch-out-is-a-file", ["batch", "--out", "file.txt", "--prompt", "x"], "is a file", None),
    ("batch-into-user-folder", ["batch", "--out", "notours", "--prompt", "x"], "not a batch folder", None),
    ("paint-hub-offline", ["paint", "a tree", "--steps", "1", "--width", "32", "--height", "32"],
     "the hub is offline (HF_HUB_OFFLINE is set, or no network); pass --model PATH", None),
    ("studio-port-zero", ["studio", "--port", "0"], "--port", None),
    ("studio-open-without-auth", ["studio", "--host", "0.0.0.0"], "--auth", None),
    ("studio-auth-no-password", ["studio", "--auth", "ann"], "USER:PASS", None),
    ("studio-data-is-a-file", ["studio", "--data", "file.txt"], "is a file", None),
    ("studio-data-of-someone-else", ["studio", "--data", "notours"], "not a studio folder", None),
    ("studio-host-not-ours", ["studio", "--host", "192.0.2.1", "--auth", "a:b"], "cannot listen on 192.0.2.1", None),
    ("studio-host-unknown", ["studio", "--host", "no-such-host.invalid", "--auth", "a:b"], "cannot listen on", None),
    *[(f"train-{key}", ["train", "{train_cfg}", override], words, None) for key, override, words in [
        ("seed-huge", f"seed={HUGE}", "0..2**64-1"), ("log-every-zero", "log_every=0", "log_every"),
        ("max-steps-float", "max_steps=2.5", "max_steps must be an integer"), ("lr-nan", "learning_rate=.nan", "finite"),
        ("wd-string", "weight_decay=abc", "weight_decay must be a number"), ("stage-3", "stage=3", "stage must be"),
        ("no-prompts", "validation_prompts=[]", "validation_prompts"), ("ema-inf", "ema_decay=.inf", "finite"),
        ("8bit-without-bitsandbytes", "use_8bit_adam=true", "use_8bit_adam needs bitsandbytes"),
        ("fp16-on-a-cpu", "mixed_precision=fp16", "mixed_precision fp16 needs a GPU")]],
    *[(f"train-vae-{key}", ["train-vae", "{vae_cfg}", override], words, None) for key, override, words in [
        ("kl-nan", "kl_weight=.nan", "finite"), ("no-channels", "channels=[]", "channels"),
        ("latent-zero", "latent_channels=0", "latent_channels"), ("seed-huge", f"seed={HUGE}", "0..2**64-1"),
        ("huge-channels", "channels=[100000]", "channels")]],
    # Output paths that cannot be written.
    ("paint-out-is-a-file", [*PAINT, "--out", "file.txt"], "is a file", None),
    ("paint-out-under-a-file", [*PAINT, "--out", "file.txt/sub"], "which is a file", None),
    ("paint-out-unwritable", [*PAINT, "--out", "/proc/creative-painting-test"], "cannot write", None),
    ("demo-out-is-a-file", ["demo", "--out", "file.txt"], "is a file", None),
    ("demo-out-user-folder", ["demo", "--out", "notours"], "not a demo folder", None),
    ("make-tiny-under-a-file", ["models", "make-tiny", "file.txt/t"], "which is a file", None),
    ("index-into-a-file", ["wiki", "index", "{jsonl}", "file.txt"], "is a file", None),
    ("index-into-user-folder", ["wiki", "index", "{jsonl}", "notours"], "holds no index", None),
    ("shard-into-a-file", ["wikiart", "shard", "{wa}", "file.txt"], "is a file", None),
    ("shard-into-user-folder", ["wikiart", "shard", "{wa}", "notours"], "holds no shards", None),
    ("stats-plot-under-a-file", ["wikiart", "stats", "{wa}", "--plot", "file.txt/fig.png"], "is a file", None),
    ("stats-plot-format", ["wikiart", "stats", "{wa}", "--plot", "fig.xyz"], "--plot must end", None),
    ("train-output-is-a-file", ["train", "{train_cfg}", "output_dir=file.txt"], "is a file", None),
    ("train-output-user-folder", ["train", "{train_cfg}", "output_dir=notours"], "no config.json", None),
    # Text that is not UTF-8: which file, which line.
    ("jsonl-not-utf8", ["wiki", "index", "bad.jsonl", "idx", "--no-progress"], "bad.jsonl:2: not UTF-8", _bad_utf8),
    ("csv-not-utf8", ["wikiart", "stats", "style_bad.csv"], "style_bad.csv:2: not UTF-8", _bad_utf8),
    ("tfidf-not-utf8", ["extend", "fit-tfidf", "captions.txt", "--out", "t.json"], "captions.txt:2: not UTF-8",
     _bad_utf8),
    ("parquet-int-titles", ["wiki", "index", "wiki.parquet", "idx", "--no-progress"], "must be strings", _parquet_with_int_titles),
    # Models whose configuration is broken, or whose weights are pickles.
    *[(f"model-config-{name}", ["models", "inspect", f"{{bad_{name}}}"], words, None) for name, words in [
        ("notjson", "not JSON"), ("list", "JSON object"), ("empty", "block_out_channels"),
        ("huge", "integers in 8..4096"), ("missing", "latent_channels")]],
    ("folder-broken-config", ["models", "inspect", "sd"], "config.json is not a readable JSON", _broken_folder_config),
    ("folder-pickled-unet", ["models", "inspect", "sd"], "cannot load diffusers folder", _pickled_unet_folder),
    # Damaged indexes.
    ("index-meta", ["extend", "x", "--index", "idx", "--t5", "none", "--dialog", "none"], "damaged index",
     _damaged_index("meta")),
    ("index-store", ["extend", "city", "--index", "idx", "--t5", "none", "--dialog", "none"], "damaged index",
     _damaged_index("store")),
    ("index-progress", ["extend", "x", "--index", "idx"], "corrupt", _damaged_index("progress")),
    # Damaged training folders.
    ("run-truncated-checkpoint", ["train", "resume.json"], "cannot resume from",
     lambda w, a: _copy_run(a, w, lambda r: _truncate(_newest(r) / "model.safetensors"))),
    ("run-garbage-trainer-json", ["train", "resume.json"], "cannot resume from",
     lambda w, a: _copy_run(a, w, lambda r: (_newest(r) / "trainer.json").write_text("{{{"))),
    ("run-pickled-optimizer", ["train", "resume.json"], "cannot resume from",
     lambda w, a: _copy_run(a, w, _pickle_optimizer)),
    ("run-other-stage", ["train", "resume.json", "stage=1"], "holds another run",
     lambda w, a: _copy_run(a, w, lambda r: None)),
    ("run-other-lora", ["train", "resume.json", "lora_rank=4"], "holds another run",
     lambda w, a: _copy_run(a, w, lambda r: None)),
]


@pytest.mark.parametrize(("argv", "words", "setup"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_input_is_one_line_exit_2_and_changes_nothing(assets, tmp_path, monkeypatch, capfd, argv, words, setup):
    work = tmp_path
    monkeypatch.setenv("CREATIVE_PAINTING_CACHE", str(tmp_path.parent / "cache"))  # outside the snapshot
    (work / "notours").mkdir()
    (work / "notours" / "user.txt").write_text("the user's own file")
    (work / "existing.safetensors").write_bytes(b"user bytes")
    (work / "file.txt").write_text("a file")
    values = {**assets, "train_cfg": _write_config(work / "train.json", **{**assets["train_config"],
                                                                            "output_dir": str(work / "new-run")}),
              "vae_cfg": _write_config(work / "vae.json", data=assets["shards"], output_dir=str(work / "vae"),
                                       resolution=32)}
    if setup is not None:
        setup(work) if setup.__code__.co_argcount == 1 else setup(work, assets)
    before = _snapshot(work)
    capfd.readouterr()
    try:
        code = main([a.format(**values) for a in argv])
    except SystemExit as e:  # argparse
        code = e.code
    out, err = capfd.readouterr()
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert words in lines[0], lines[0]
    assert _snapshot(work) == before, "a failed command must leave the folder as it was"


def test_cache_pointing_at_a_file_is_one_line(tmp_path, monkeypatch, capfd):
    (tmp_path / "cachefile").write_text("x")
    monkeypatch.setenv("CREATIVE_PAINTING_CACHE", str(tmp_path / "cachefile"))
    assert main(["extend", "x", "--t5", "none", "--dialog", "none"]) == 2
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "CREATIVE_PAINTING_CACHE" in err[0] and "is a file" in err[0]


@pytest.mark.parametrize("command", ["index", "train"])
def test_a_second_run_on_a_busy_folder_is_refused(assets, tmp_path, capfd, command):
    folder = tmp_path / "busy"
    if command == "index":
        argv = ["wiki", "index", assets["jsonl"], str(folder), "--no-progress"]
    else:
        shutil.copytree(assets["run"], folder)
        argv = ["train", _write_config(tmp_path / "c.json", **{**assets["train_config"], "output_dir": str(folder),
                                                                "max_steps": 3}), "--no-progress"]
    folder.mkdir(exist_ok=True)
    before = _snapshot(folder)
    with run_lock(folder):
        capfd.readouterr()
        assert main(argv) == 2
        err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "in use by another run (pid " in err[0] and str(os.getpid()) in err[0]
    assert _snapshot(folder) == before
