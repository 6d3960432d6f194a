"""The studio's service: the same checks as `paint`, outputs in paint's layout, PNG info, files, gallery."""

import json
import re
import shutil
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from creative_painting.cli.main import main
from creative_painting.errors import UserError
from creative_painting.painting.captions import DEFAULT_TEMPLATE, EXTENDED_TEMPLATE
from creative_painting.painting.folder import read_folder
from creative_painting.painting.images import MAX_UPLOAD_BYTES, png_parameters, read_png_metadata
from creative_painting.studio.service import Studio, highlight_entities

SMALL = {"steps": 3, "width": 32, "height": 32}


@pytest.fixture
def studio(tmp_path, tiny_model):
    s = Studio(tmp_path / "data", tiny_model)
    s.start(warm_up=False)
    yield s
    s.close()


def wait(studio, job_id, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = studio.job(job_id)
        if job["state"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {studio.job(job_id)}")


@pytest.mark.parametrize(("flags", "request_"), [
    (["--steps", "0"], {"steps": 0}),
    (["--width", "100"], {"width": 100}),
    (["--sampler", "plms", "--eta", "0.5"], {"sampler": "plms", "eta": 0.5}),
    (["--seed", "-1"], {"seed": -1}),
    (["--images", "0"], {"images": 0}),
    (["--scale", "nan"], {"scale": float("nan")}),
    (["--artist", " "], {"artists": [" "]}),
    (["--preset", "fast", "--steps", "1000"], {"preset": "fast", "steps": 1000}),
    ([a for i in range(300) for a in ("--artist", f"Painter {i}")], {"artists": [f"Painter {i}" for i in range(300)]}),
])
def test_form_values_get_the_command_lines_checks_and_messages(studio, capsys, flags, request_):
    assert main(["paint", "a tree", "--model", "unused", *flags]) == 2
    cli_message = capsys.readouterr().err.strip().split("error: ", 1)[1]
    with pytest.raises(UserError) as caught:
        studio.submit({"prompts": ["a tree"], **request_})
    assert str(caught.value) == cli_message
    assert studio.jobs() == []  # nothing was queued


@pytest.mark.parametrize(("request_", "message"), [
    ({"prompts": ["x"], "artists": [f"A{i}" for i in range(1000)]}, "1,000 images .* more than 256 in one request"),
    ({"prompts": []}, "give at least one prompt"), ({"prompts": ["x" * 20_000]}, "20,000 characters is more than 2,000"),
    ({"artists": ["x"]}, "needs prompts"), ({"prompts": ["x"], "colour": 1}, "unknown paint option 'colour'"),
    ({"prompts": [[3]]}, "prompts must be a text"), ({"prompts": ["x"], "steps": "ten"}, "steps must be an integer"),
    ({"prompts": ["x"], "scale": True}, "scale must be a number"), ([1, 2], "JSON object"),
])
def test_malformed_api_requests_are_one_line_errors(studio, request_, message):
    with pytest.raises(UserError, match=message):
        studio.submit(request_)


def test_a_job_paints_what_paint_paints_in_its_layout_and_png_info_reads_it_back(studio, tiny_dir, tmp_path):
    request = {"prompts": ["a red bus"], "artists": ["Claude Monet", "Vincent van Gogh"], "seed": 7, "images": 2,
               "negative": "blurry", "style": "Impressionism", **SMALL}
    job = wait(studio, studio.submit(request))
    assert job["state"] == "done", job["error"]
    run = Path(job["grid"]).parent
    assert run == studio.runs / "000001"
    assert main(["paint", "a red bus", "--artist", "Claude Monet", "--artist", "Vincent van Gogh", "--seed", "7",
                 "--images", "2", "--negative", "blurry", "--style", "Impressionism", "--steps", "3", "--width", "32",
                 "--height", "32", "--model", str(tiny_dir / "tiny.safetensors"), "--dtype", "fp32", "--out", str(tmp_path / "cli"),
                 "--no-progress"]) == 0
    cli, ours = read_folder(tmp_path / "cli").records, read_folder(run).records
    assert [r["file"].rsplit("-", 1)[0] for r in ours] == [r["file"].rsplit("-", 1)[0] for r in cli]  # less the id
    assert [r["seed"] for r in ours] == [7, 8, 7, 8]
    for record, ours_record in zip(cli, ours, strict=True):  # `paint` lays the U-Net out channels_last: 1 level
        ours_ = np.asarray(Image.open(run / ours_record["file"])).astype(int)
        assert np.abs(ours_ - np.asarray(Image.open(tmp_path / "cli" / record["file"])).astype(int)).max() <= 1
    assert sorted(p.name for p in run.iterdir()) == sorted(p.name for p in (tmp_path / "cli").iterdir())

    # PNG info: the cell's parameters, as a request that paints the same pixels again.
    second_seed_by_van_gogh = run / ours[3]["file"]
    assert second_seed_by_van_gogh.name.startswith("p00000-a001-s01-vincent-van-gogh-")
    info = png_parameters(second_seed_by_van_gogh)
    assert info["request"] == {"prompts": ["a red bus"], "artists": ["Vincent van Gogh"], "negative": "blurry",
                               "style": "Impressionism", "sampler": "ddim", "steps": 3, "scale": 5.0, "eta": 1.0,
                               "width": 32, "height": 32, "seed": 8, "long_prompt": "truncate",
                               "template": DEFAULT_TEMPLATE, "batch_size": 4, "pad_batch_to": 4}
    again = wait(studio, studio.submit(info["request"]))
    repainted = np.asarray(Image.open(again["images"][0]))
    original = np.asarray(Image.open(second_seed_by_van_gogh))
    assert np.array_equal(repainted, original)  # painted alone, in a batch padded to the original's 4: bit for bit
    assert read_png_metadata(again["images"][0])["seed"] == 8


def test_every_png_of_a_topic_and_extension_grid_repaints_bit_for_bit(studio):
    """The topic's row keeps the default template and an extension's row the extension's, and each PNG says so."""
    from creative_painting.studio.ui import row_templates

    topic, extension = "a marathon", "Haile triumphed at the Dubai Marathon."
    request = {"prompts": [topic, extension], "artists": ["Claude Monet"], "seed": 3, "batch_size": 3,
               "template": row_templates(topic, [topic, extension]), **SMALL}
    job = wait(studio, studio.submit(request))
    alone = wait(studio, studio.submit({**request, "prompts": [topic], "template": row_templates(topic, [topic]),
                                        "pad_batch_to": 2}))  # the batch size it was painted at
    assert np.array_equal(np.asarray(Image.open(job["images"][0])), np.asarray(Image.open(alone["images"][0])))
    captions = [read_png_metadata(p)["caption"] for p in job["images"]]
    assert captions == ["a painting of a marathon by Claude Monet",
                        "Haile triumphed at the Dubai Marathon., a painting by Claude Monet"]
    for path in job["images"]:
        info = png_parameters(path)
        again = wait(studio, studio.submit(info["request"]))
        assert read_png_metadata(again["images"][0])["caption"] == read_png_metadata(path)["caption"]
        assert np.array_equal(np.asarray(Image.open(again["images"][0])), np.asarray(Image.open(path)))


def test_png_info_of_an_older_png_without_a_template_finds_the_one_that_gives_its_caption(tmp_path):
    from creative_painting.painting.images import save_png

    old = {"prompt": "Haile won.", "caption": "Haile won., a painting by Claude Monet", "artist": "Claude Monet",
           "seed": 1, "steps": 3, "width": 32, "height": 32}
    path = save_png(Image.new("RGB", (32, 32)), tmp_path / "old.png", old)
    assert png_parameters(path)["request"]["template"] == EXTENDED_TEMPLATE


def test_png_info_refuses_what_it_cannot_read_with_a_message(tmp_path):
    foreign = tmp_path / "foreign.png"
    Image.new("RGB", (8, 8)).save(foreign)
    not_png = tmp_path / "photo.png"
    Image.new("RGB", (8, 8)).save(not_png, format="JPEG")
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(foreign.read_bytes()[:20])
    huge = tmp_path / "huge.png"
    huge.write_bytes(_png_header(100_000, 100_000))  # a decompression bomb announces itself in its header
    large = tmp_path / "large.png"
    large.write_bytes(_png_header(5_000, 5_000))  # under Pillow's own bomb limit, over ours
    big = tmp_path / "big.png"
    with open(big, "wb") as f:
        f.write(foreign.read_bytes())
        f.truncate(MAX_UPLOAD_BYTES + 1)
    cases = {foreign: "no creative-painting parameters", not_png: "not a PNG", truncated: "cannot read this PNG",
             huge: "larger than any painting", large: "5000x5000, larger than any", big: "reads files up to 20 MiB"}
    for path, message in cases.items():
        with pytest.raises(UserError, match=message):
            png_parameters(path)


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_gallery_lists_runs_and_searches_prompts_and_artists(studio):
    first = wait(studio, studio.submit({"prompts": ["a red bus"], "artists": ["Claude Monet"], **SMALL}))
    second = wait(studio, studio.submit({"prompts": ["a quiet harbour"], "artists": ["Rembrandt"], **SMALL}))
    assert first["state"] == second["state"] == "done"
    assert [r.id for r in studio.gallery()] == ["000002", "000001"]
    assert [r.id for r in studio.gallery("monet")] == ["000001"]
    assert [r.id for r in studio.gallery("harbour rembrandt")] == ["000002"]
    assert studio.gallery("van gogh") == []
    assert studio.run("000002").request["prompts"] == ["a quiet harbour"]
    # The page shows each picture as a thumbnail with its artist, prompt, run and date, newest run first.
    items = studio.gallery_items()
    assert [Path(image).name.split("-")[3] for image, _, _ in items] == ["rembrandt", "claude"]
    caption = items[1][1]
    assert caption.startswith("Claude Monet · a red bus · run 1, ") and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d$", caption)
    assert [run_id for _, _, run_id in studio.gallery_items("monet")] == ["000001"]
    # A run of an older version (NN-NN-artist.png and paint.json) still shows, and paints again from its request.
    old = studio.runs / "000000"
    old.mkdir()
    shutil.copy(items[1][0], old / "00-00-claude-monet.png")
    (old / "paint.json").write_text(json.dumps({"request": {"prompts": ["an old bus"], "artists": ["Claude Monet"]},
                                                "images": [{"file": "00-00-claude-monet.png", "prompt": "an old bus",
                                                            "artist": "Claude Monet"}]}))
    assert [r.id for r in studio.gallery("old bus")] == ["000000"]
    assert studio.run("000000").images == [old / "00-00-claude-monet.png"]
    assert studio.run("000000").request["prompts"] == ["an old bus"]


def test_cancel_stops_a_running_job_and_a_failing_job_does_not_stop_the_queue(studio, monkeypatch):
    import creative_painting.painting.session as session

    long = studio.submit({"prompts": ["slow"], "steps": 999, "width": 512, "height": 512})
    deadline = time.time() + 60
    while studio.job(long)["step"] == 0 and time.time() < deadline:
        time.sleep(0.05)
    running = studio.job(long)
    assert running["state"] == "running" and running["steps"] == 999 and 0 < running["step"] < 999
    assert running["seconds_left"] > 0
    assert studio.cancel(long) == "stopping"
    assert wait(studio, long)["state"] == "cancelled"
    assert not (studio.runs / "000001").exists()

    real = session.paint_spec
    calls = []

    def broken_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("out of memory")
        return real(*args, **kwargs)

    monkeypatch.setattr(session, "paint_spec", broken_once)
    failing, fine = studio.submit({"prompts": ["x"], **SMALL}), studio.submit({"prompts": ["y"], **SMALL})
    assert wait(studio, failing)["error"] == "RuntimeError: out of memory"
    assert wait(studio, fine)["state"] == "done"
    with pytest.raises(UserError, match="no job 99"):
        studio.cancel(99)


def test_one_server_per_data_folder_and_never_a_folder_of_someone_else(tmp_path, tiny_model, studio):
    with pytest.raises(UserError, match="in use by another run"):
        Studio(studio.data, tiny_model)
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="not a studio folder of ours"):
        Studio(theirs, tiny_model)
    assert (theirs / "notes.txt").read_text() == "mine"


def test_extend_returns_scores_entities_and_sources(studio):
    found = studio.extend("urbanization of china")
    assert 1 <= len(found) <= 10
    best = found[0]
    t = best["terms"]  # the studio ranks as `extend` does: scene scoring
    assert best["scoring"] == "scene" and best["score"] == pytest.approx(
        t["tfidf"] + t["cosine"] + 0.2 * t["entity_kinds"] + 0.5 * t["paintability"] - t["overflow"], abs=1e-9)
    dated = any(e["kind"] == "temporal" and re.search(r"\d{3,4}|century", e["text"]) for e in best["entities"])
    assert t["entity_kinds"] == any(e["kind"] == "spatial" for e in best["entities"]) + dated  # no kind for a dusk
    assert best["source"]["kind"] in ("scene", "wikipedia") and best["source"]["title"] and best["source"]["ids"]
    for c in found:
        for e in c["entities"]:
            assert c["text"][e["start"]:e["end"]] == e["text"] and e["kind"] in ("spatial", "temporal")
        # each scene's source sentence, with its places and dates marked where they stand in it
        assert c["origin"] == (c["source"].get("from") or c["text"])
        for e in c["origin_entities"]:
            assert c["origin"][e["start"]:e["end"]] == e["text"]
    with pytest.raises(UserError, match="must not be empty"):
        studio.extend("   ")


def test_entities_are_highlighted_by_kind_and_text_is_escaped():
    text = "<b>Shenzhen</b> grew after 1979"
    marked = highlight_entities(text, [{"text": "Shenzhen", "kind": "spatial", "start": 3, "end": 11},
                                       {"text": "1979", "kind": "temporal", "start": 27, "end": 31}])
    assert marked == ('&lt;b&gt;<mark class="entity spatial" title="spatial">Shenzhen</mark>&lt;/b&gt; grew after '
                      '<mark class="entity temporal" title="temporal">1979</mark>')


def test_a_job_that_would_not_fit_in_memory_is_refused_at_submission(studio, monkeypatch):
    from creative_painting.painting import memory
    from creative_painting.painting.spec import PaintSpec

    # At 512 px the tiny model's U-Net batch outweighs one image's decode from about 3 images on.
    request = {"prompts": ["a tree"], "steps": 1, "width": 512, "height": 512, "images": 16, "batch_size": 16}
    eight = memory.estimate_bytes(studio.model, PaintSpec.check(request).settings(), 8)
    monkeypatch.setattr(memory, "free_bytes", lambda device: eight)
    with pytest.raises(UserError, match="512x512 at batch size 16 needs about .* use a batch size of 8 or less"):
        studio.submit(request)
    assert studio.jobs() == []  # nothing was queued
    assert wait(studio, studio.submit({**request, "batch_size": 8, "images": 8}))["state"] == "done"  # one batch


@pytest.mark.parametrize("value", ["abc", -1, 0, True, "1.5"])
def test_a_job_is_named_by_its_number(studio, value):
    with pytest.raises(UserError, match="a job is named by its number"):
        studio.job(value)
    with pytest.raises(UserError, match="a job is named by its number"):
        studio.cancel(value)


def test_the_extensions_table_shows_each_scenes_source_with_its_places_and_dates_marked():
    from creative_painting.studio.ui import candidates_table

    origin = "Migrant workers built new roads across Guangdong in the 1990s."
    scene = {"text": "Migrant workers built new roads across Guangdong", "score": 1.0, "tfidf": 0.1, "cosine": 0.5,
             "paintability": 0.9, "source": {"kind": "scene", "title": "Guangdong"}, "origin": origin,
             "entities": [{"text": "Guangdong", "kind": "spatial", "start": 39, "end": 48}],
             "origin_entities": [{"text": "Guangdong", "kind": "spatial", "start": 39, "end": 48},
                                 {"text": "the 1990s", "kind": "temporal", "start": 52, "end": 61}]}
    table = candidates_table("urbanization of china", [scene])
    assert ("from: Migrant workers built new roads across <mark class=\"entity spatial\" title=\"spatial\">Guangdong"
            "</mark> in <mark class=\"entity temporal\" title=\"temporal\">the 1990s</mark>.") in table
    plain = candidates_table("t", [{**scene, "origin": scene["text"]}])  # a retrieved sentence is its own source
    assert "from:" not in plain
    # the retrieved sentences after the scenes are ordered by their scene chance, not the score: it is shown
    sentence = {**scene, "source": {"kind": "wikipedia", "title": "China"}, "score": 2.0, "scene_chance": 0.734}
    both = candidates_table("t", [scene, sentence])
    assert "<th>entities</th><th" in both and "scene chance</th><th>source</th>" in both and "by scene chance" in both
    assert "<td class=num></td><td>scene: Guangdong</td>" in both  # a composed scene: none, in its own column
    assert "<td class=num>0.73</td><td>wikipedia: China</td>" in both
    empty = candidates_table("a <glassblower>", [])  # nothing found: said, with where it looked; the topic escaped
    assert "holds nothing about it" in empty and "&lt;glassblower&gt;" in empty
    assert candidates_table("", []) == ""


def test_lora_jobs_record_their_files_repaint_from_png_info_and_leave_the_model_as_it_was(tmp_path):
    from creative_painting.models import make_tiny_model
    from tests.painting.adapter_files import write_lora

    lora = write_lora(tmp_path / "lora", "kohya")
    studio = Studio(tmp_path / "data", make_tiny_model(seed=0))  # its own model: a job's LoRA stays applied
    studio.start(warm_up=False)
    try:
        def painted(request) -> tuple[np.ndarray, Path]:
            job = wait(studio, studio.submit({"prompts": ["a red bus"], **SMALL, **request}))
            assert job["state"] == "done", job["error"]
            return np.asarray(Image.open(job["images"][0])), Path(job["images"][0])

        bare, _ = painted({})
        styled, png = painted({"loras": f"{lora}:0.8\n"})  # the form's box: one file a line
        assert np.abs(styled.astype(int) - bare).max() > 20
        assert read_png_metadata(png)["loras"][0]["weight"] == 0.8
        assert np.array_equal(painted(png_parameters(png)["request"])[0], styled)
        assert np.array_equal(painted({})[0], bare)
        (tmp_path / "sdxl.safetensors").write_bytes(b"\0" * 16)
        failed = wait(studio, studio.submit({"prompts": ["a red bus"], **SMALL,
                                             "loras": [str(tmp_path / "sdxl.safetensors")]}))
        assert failed["state"] == "failed" and "is damaged or not a tensor file" in failed["error"]
        assert np.array_equal(painted({})[0], bare)
        lora.unlink()
        with pytest.raises(UserError, match=r"lora file not found: .*style.safetensors \(sha256 "):
            studio.submit(png_parameters(png)["request"])
    finally:
        studio.close()
