"""One painting, one description: the spec's keys are every front end's, its limits are everyone's, its cells'
ids are what a batch folder resumes by, and any record of a picture, from `paint` or `batch`, repaints it."""

import dataclasses
import hashlib
import json
import re

import numpy as np
import pytest
from PIL import Image

from creative_painting.batch import BatchJob, run_batch
from creative_painting.cli.main import build_parser, leaf_parsers, main
from creative_painting.errors import UserError
from creative_painting.models import load
from creative_painting.painting import read_png_metadata
from creative_painting.painting.session import paint_spec
from creative_painting.painting.spec import FIELDS, MAX_BATCH_SIZE, MAX_IMAGES_PER_CELL, PaintSpec, request_of

TINY = {"sampler": "ddim", "steps": 2, "scale": 5.0, "eta": 1.0, "width": 32, "height": 32}


def test_every_front_ends_keys_are_the_specs():
    """paint's flags, the job file's keys, the studio's form and its API are checked against the spec here."""
    from creative_painting.studio.ui import FIELDS as FORM

    paint = {a.dest for a in leaf_parsers(build_parser())["paint"]._actions} - {"help"}
    model = {"model", "config", "device", "dtype", "backend"}
    paint_only = {"out", "overwrite", "extend", "extend_index", "no_progress", "again"}
    repeated = {"artist": "artists", "lora": "loras", "embedding": "embeddings"}  # --artist xN: the field's items
    assert {repeated.get(d, d) for d in paint - model - paint_only} == set(FIELDS) - {"pad_batch_to"}
    job = {f.name for f in dataclasses.fields(BatchJob)}
    sources = {"prompts_file", "prompts_column", "artists_file", "wikiart"}
    named = {"lora": "loras", "embedding": "embeddings"}  # a repeatable flag's name
    assert {named.get(k, k) for k in job - model - sources} == set(FIELDS) - {"pad_batch_to"}
    assert set(FORM) <= set(FIELDS)
    with pytest.raises(UserError, match="unknown paint option 'seeds'"):  # the API takes the spec's keys only
        PaintSpec.check({"prompts": ["x"], "seeds": 2})


@pytest.mark.parametrize(("key", "value", "message"), [
    ("images", MAX_IMAGES_PER_CELL + 1, rf"images must be in 1\.\.{MAX_IMAGES_PER_CELL}"),
    ("batch_size", MAX_BATCH_SIZE + 1, rf"batch_size must be in 1\.\.{MAX_BATCH_SIZE}"),
    ("long_prompt", "zip", "long_prompt must be one of truncate, chunk")])
def test_one_set_of_limits_for_paint_batch_and_the_studio(key, value, message, tmp_path, capsys):
    flag = {"images": "--images", "batch_size": "--batch-size", "long_prompt": "--long-prompt"}[key]
    assert main(["paint", "x", flag, str(value), "--out", str(tmp_path / "p")]) == 2
    assert re.search(message, capsys.readouterr().err.strip().splitlines()[0])
    with pytest.raises(UserError, match=message):
        BatchJob(prompts=["x"], **{key: value}).spec()
    with pytest.raises(UserError, match=message):
        PaintSpec.check({"prompts": ["x"], key: value})
    assert not (tmp_path / "p").exists()


def test_a1111_network_tags_in_a_prompt_are_refused_not_painted_as_words():
    """A1111 takes `<lora:NAME:W>` out of a prompt and loads the file; CLIP here would read the tag as words."""
    for raw in ({"prompts": ["a cat", "a dog <lora:van-gogh:0.8> at dusk"]},
                {"prompts": ["a cat"], "negative": "< Lyco : blur >"}, {"prompts": ["a <hypernet:x:1> cat"]},
                {"prompts": ["a cat"], "artists": ["<lora:monet:1>"]}, {"prompts": ["a cat"], "template": "{prompt} <lora:x>"}):
        with pytest.raises(UserError, match="A1111's tag .* --lora FILE:WEIGHT"):
            PaintSpec.check(raw)
    assert PaintSpec.check({"prompts": ["a cat <3", "<lorax: a bird>"]}).prompts == ("a cat <3", "<lorax: a bird>")


def test_a_damaged_record_is_a_one_line_error_not_a_crash():
    """A PNG's record with a number for a prompt or a list for an artist (and no template to read): read as a
    form reads it, or the check's one line; never a TypeError from guessing its template."""
    assert PaintSpec.check(request_of({"prompt": 5, "caption": "x"})).prompts == ("5",)
    with pytest.raises(UserError, match="artists must be a text"):
        PaintSpec.check(request_of({"prompt": "x", "artist": ["a", "b"], "caption": "x"}))


def test_job_files_forms_and_the_api_read_values_alike():
    """One coercion: a form's 50.0 steps, a YAML year, per-prompt templates mean the same in a job and a request."""
    from creative_painting.config_files import load_settings

    values = {"steps": 50.0, "scale": "7.5", "year": 1889, "seed": "3", "template": ["{prompt} at dusk", "{prompt}"]}
    job = load_settings(None, base={"prompts": ["x", "y"], **values}, cls=BatchJob)
    spec = PaintSpec.check({"prompts": ["x", "y"], **values})
    expected = {"steps": 50, "scale": 7.5, "year": "1889", "seed": 3, "template": ("{prompt} at dusk", "{prompt}")}
    assert {k: getattr(job, k) for k in values} == {k: getattr(spec, k) for k in values} == expected
    assert job.spec().template == spec.template
    blank = {"steps": None, "seed": None, "images": "", "negative": None, "style": "", "year": " ", "template": ""}
    assert PaintSpec.check({"prompts": ["x"], **blank}) == PaintSpec(("x",))  # a cleared field: its default
    for bad, message in (({"steps": 2.5}, "steps must be an integer"), ({"scale": [1]}, "scale must be a number")):
        with pytest.raises(UserError, match=message):
            load_settings(None, base={"prompts": ["x"], **bad}, cls=BatchJob)
        with pytest.raises(UserError, match=message):
            PaintSpec.check({"prompts": ["x"], **bad})


def test_cell_ids_hash_what_decides_the_pixels_as_batch_folders_recorded_them():
    """Recomputed here from the documented key: a folder painted before the spec resumes with the same ids."""
    spec = PaintSpec(("a harbour",), ("Claude Monet",), seed=3, images=2, negative="dark", **TINY)
    cells = spec.cells("tiny.safetensors")
    for k, cell in enumerate(cells):
        key = {"settings": dataclasses.asdict(spec.settings()), "model": "tiny.safetensors", "negative": "dark",
               "caption": "a painting of a harbour by Claude Monet", "seed": 3 + k}
        assert cell.id == hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
        assert (cell.seed, cell.image, cell.negative) == (3 + k, k, "dark")
    chunked = dataclasses.replace(spec, long_prompt="chunk").cells("tiny.safetensors")
    assert not {c.id for c in chunked} & {c.id for c in cells}  # a chunked caption paints other pixels


def test_a_record_from_paint_or_batch_repaints_its_picture_exactly(tiny_model, tiny_dir, tmp_path):
    """The one schema: the second picture of a batch of 4 (its sums depend on the batch) is painted again."""
    prompts = ("a harbour", "a city", "a field", "a port")
    template = "{prompt}, an oil painting[ by {artist}]"
    spec = PaintSpec(prompts, seed=5, batch_size=4, negative="blurry", template=template, **TINY).validate()
    painted = paint_spec(tiny_model, spec, tmp_path / "paint", progress=False)
    record = read_png_metadata(painted.images[1])
    again = paint_spec(tiny_model, PaintSpec.check(request_of(record)), tmp_path / "again", progress=False)
    assert np.array_equal(np.asarray(Image.open(again.images[0])), np.asarray(Image.open(painted.images[1])))
    assert read_png_metadata(again.images[0])["caption"] == record["caption"] == "a city, an oil painting"

    job = BatchJob(prompts=list(prompts), seed=5, batch_size=4, negative="blurry", template=template,
                   model=str(tiny_dir / "tiny.safetensors"), **TINY)
    run_batch(job, tmp_path / "batch", progress=False)
    manifest = [json.loads(line) for line in (tmp_path / "batch" / "manifest.jsonl").read_text().splitlines()]
    record = read_png_metadata(tmp_path / "batch" / manifest[1]["file"])
    assert set(record) == set(read_png_metadata(painted.images[1]))  # the same schema
    again = paint_spec(load(job.model_choice()), PaintSpec.check(request_of(record)), tmp_path / "again2", progress=False)
    assert np.array_equal(np.asarray(Image.open(again.images[0])),
                          np.asarray(Image.open(tmp_path / "batch" / manifest[1]["file"])))


def test_a_picture_painted_in_a_batch_repaints_bit_for_bit_padded_to_that_batch(tmp_path):
    """The U-Net's sums depend on the batch size: on this machine, placed for the CPU in fp32 as `paint` places it,
    at 64 px, one of cell 2's pixels is one grey level apart alone and in its batch of 4. Its record says 4, and
    the repaint pads to 4: the same bits."""
    import numpy as np
    import torch
    from PIL import Image

    from creative_painting.models import make_tiny_model, place
    from creative_painting.painting.painter import render
    from creative_painting.painting.session import paint_spec

    tiny_model = place(make_tiny_model(seed=0), torch.device("cpu"), torch.float32)
    spec = PaintSpec.check({"prompts": ["a", "b", "c", "d"], "steps": 4, "width": 64, "height": 64, "batch_size": 4})
    painted = paint_spec(tiny_model, spec, tmp_path / "p", progress=False)
    for path in painted.images:
        again = PaintSpec.check(request_of(read_png_metadata(path)))
        assert again.pad_batch_to == 4
        image = render(tiny_model, again.cells(), again.settings(), batch_size=again.batch_size,
                       pad_to=again.pad_batch_to)[0]
        assert np.array_equal(np.asarray(image), np.asarray(Image.open(path))), path.name


@pytest.mark.parametrize("key", ["batch_size", "batch"])  # today's record, and a picture's from before the rename
def test_a_records_batch_size_is_what_a_repaint_pads_to(key):
    record = {"prompt": "a harbour", "seed": 3, "steps": 4, "width": 64, "height": 64, key: 4}
    again = PaintSpec.check(request_of(record))
    assert (again.batch_size, again.pad_batch_to) == (4, 4)
    assert "batch_size" not in request_of({**record, key: 1})  # painted alone: the default batch, no padding
    cell = PaintSpec.check({"prompts": ["a harbour"]}).cells()[0]
    assert "batch_size" in PaintSpec.check({"prompts": ["a harbour"]}).record(cell, model="tiny", batch=2)
