"""Check once: a request from any front end is checked in one call where it comes in, and nothing after checks it
again (diffusers' `check_inputs`). Each check is counted through a whole request, painted to the end."""

import dataclasses
from collections import Counter

import numpy as np
import pytest

from creative_painting import config_files
from creative_painting.cli.main import build_parser, leaf_parsers, main
from creative_painting.models.choice import ModelChoice
from creative_painting.painting import memory
from creative_painting.painting import spec as spec_module
from creative_painting.painting.spec import TABLE, PaintSpec
from creative_painting.sampling.presets import SamplingSettings

SMALL = {"steps": 2, "width": 32, "height": 32}
ONCE = {"spec": 1, "settings": 1, "memory": 1, "steps typed": 1}  # the studio's model is checked when it starts


@pytest.fixture
def checks(monkeypatch) -> Counter:
    """Calls of each check: the spec's limits, the sampling settings', the model's (device, dtype, backend), the
    memory's, and the reading of `steps` from its text or JSON (argparse's `type=int` would be one more)."""
    counted: Counter = Counter()

    def count(owner, name: str, key: str) -> None:
        original = getattr(owner, name)

        def counting(*args, **kwargs):
            counted[key] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counting)

    count(PaintSpec, "validate", "spec")
    count(SamplingSettings, "validate", "settings")
    count(ModelChoice, "validate", "model")
    count(memory, "check_memory", "memory")
    coerce, depth = config_files.coerce, [0]

    def typing_steps(key, kind, value, where="config: "):  # coerce calls itself for `int | None`: the outer call
        counted["steps typed"] += key == "steps" and not depth[0]
        depth[0] += 1
        try:
            return coerce(key, kind, value, where)
        finally:
            depth[0] -= 1

    monkeypatch.setattr(config_files, "coerce", typing_steps)
    monkeypatch.setattr(spec_module, "coerce", typing_steps)
    return counted


def test_paints_flags_are_text_for_the_one_check():
    flags = {a.dest: a for a in leaf_parsers(build_parser())["paint"]._actions}
    assert all(flags[f.metadata.get("flag", f.name)].type is None for f in TABLE)


def test_the_command_line_checks_once(checks, tiny_dir, tmp_path):
    argv = ["paint", "a harbour", "--model", str(tiny_dir / "tiny.safetensors"), "--no-progress", "--out",
            str(tmp_path / "p"), *(a for k, v in SMALL.items() for a in (f"--{k}", str(v)))]
    assert main(argv) == 0
    assert checks == {**ONCE, "model": 1}


def test_a_job_file_checks_once(checks, tiny_dir, tmp_path):
    job = tmp_path / "job.yaml"
    job.write_text(f"prompts: [a harbour]\nmodel: {tiny_dir / 'tiny.safetensors'}\nsteps: 2\nwidth: 32\nheight: 32\n")
    assert main(["batch", str(job), "--out", str(tmp_path / "b"), "--no-progress"]) == 0
    assert checks == {**ONCE, "model": 1}


def test_the_studios_form_and_api_check_once(checks, tiny_model, tmp_path):
    """The form's Paint and the API's /submit both hand `Studio.submit` the request; its worker paints it."""
    from creative_painting.studio.service import Studio

    studio = Studio(tmp_path / "data", tiny_model)
    try:
        job_id = studio.submit({"prompts": ["a harbour"], **SMALL})
        studio._run(studio.queue.claim_next())
        assert studio.job(job_id)["state"] == "done"
    finally:
        studio.close()
    assert checks == ONCE


def test_a_ray_worker_checks_only_what_the_driver_cannot(checks, tiny_dir):
    """Its device and its memory, once; the settings came checked from the driver."""
    from creative_painting.batch.executors import RayPainter

    settings = dataclasses.asdict(SamplingSettings("ddim", SMALL["steps"], 5.0, 1.0, 32, 32))
    worker = RayPainter({"model": str(tiny_dir / "tiny.safetensors"), "device": "cpu"}, settings, "truncate", 0, 2)
    for _ in range(2):
        out = worker({"id": np.array(["a", "b"]), "caption": np.array(["a harbour", "a city"]),
                      "seed": np.array([0, 1]), "negative": np.array(["", ""])})
        assert out["pixels"].shape == (2, 32, 32, 3) and not out["refused"][0]
    assert checks == {"model": 1, "memory": 1}
