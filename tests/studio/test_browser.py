"""The studio in a real browser (Chromium through Playwright): the paper's workflow end to end, and PNG info."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from tests.studio.server import Server

ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "needs Debian's chromium (apt-get install -y chromium; .ci/run installs it)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message + "; CI=true, so this is a failure, not a skip")
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_dir):
    data = tmp_path_factory.mktemp("studio") / "data"
    server = Server(data, tiny_dir / "tiny.safetensors").wait_ready()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1200, "height": 1400})
    page.set_default_timeout(15_000)
    yield page
    page.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def set_number(page, field: str, value: str) -> None:
    """Type into a number field; the accordion renders its fields as it opens, so retype until it holds."""
    box = page.locator(f"#{field} input")
    for _ in range(20):
        box.fill(value)
        box.press("Tab")
        page.wait_for_timeout(100)
        if box.input_value() == value:
            return
    raise AssertionError(f"{field} does not keep {value!r}")


def test_topic_extend_tick_two_artists_paint_and_download(server, page):
    from playwright.sync_api import expect

    page.goto(server.url)
    assert page.locator("#model-note").count() == 0  # a --model was given: no "paints noise" note
    page.fill("#topic textarea", "urbanization of china")
    page.click("#extend")
    table = page.locator("#candidates table")
    expect(table).to_be_visible(timeout=60_000)  # the first Extend loads MiniLM, spaCy and the index
    rows = table.locator("tr")
    assert rows.count() > 2  # header + candidates
    assert table.locator("mark.entity.spatial").count() > 0  # places are highlighted by kind
    expect(table).to_contain_text("wikipedia:")
    choices = page.locator("#chosen label")
    expect(choices.first).to_contain_text("urbanization of china")
    extension = choices.nth(1).inner_text().strip()
    choices.nth(1).click()
    page.locator("#top-artists label", has_text="Vincent van Gogh").click()
    page.locator("#top-artists label", has_text="Claude Monet").click()
    page.get_by_text("Settings").click()
    page.locator("#preset label", has_text="fast").click()  # a person's choice of preset fills its settings
    expect(page.locator("#sampler input")).to_have_value("dpmpp-2m")
    for field, value in (("steps", "150"), ("width", "64"), ("height", "64"), ("seed", "42")):
        set_number(page, field, value)
    page.click("#paint")
    status = page.locator("#status")
    expect(status).to_contain_text("step")  # visible progress: step x of y
    expect(status).to_contain_text("done", timeout=180_000)
    expect(page.locator("#grid img")).to_be_visible()
    shot(page, "studio-paint")

    links = page.locator("#downloads a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    names = [h.rsplit("/", 1)[1] for h in hrefs]
    assert names[0] == "grid.png" and names[-2:] == ["manifest.jsonl", "job.json"]
    cells = [name.rsplit("-", 1)[0] for name in names[1:-2]]  # less the cell id
    assert cells == ["p00000-a000-s00-vincent-van-gogh", "p00000-a001-s00-claude-monet",
                     "p00001-a000-s00-vincent-van-gogh", "p00001-a001-s00-claude-monet"]
    cell = hrefs[1 + cells.index("p00001-a001-s00-claude-monet")]
    response = page.request.get(cell)
    assert response.ok
    with Image.open(io.BytesIO(response.body())) as image:
        meta = dict(image.info)
        assert image.size == (64, 64)
    assert (meta["prompt"], meta["artist"], meta["steps"], meta["seed"], meta["sampler"]) == \
        (extension, "Claude Monet", "150", "42", "dpmpp-2m")
    assert meta["caption"] == f"{extension}, a painting by Claude Monet"


def upload(page, path: Path) -> None:
    with page.expect_file_chooser() as chooser:
        page.click("#pnginfo-upload button.upload-container")
    chooser.value.set_files(str(path))


def test_png_info_fills_the_form_and_a_foreign_png_gets_a_message(server, page, tmp_path):
    from playwright.sync_api import expect

    painted = next((server.data / "runs").glob("*/images/p00001-a001-*.png"), None)  # an extension's row
    assert painted is not None, "the paint test runs first and leaves a run"
    page.goto(server.url)
    page.get_by_role("tab", name="PNG info").click()
    upload(page, painted)
    expect(page.locator("#pnginfo-message")).to_contain_text("now in the Paint form")
    expect(page.locator("#topic textarea")).to_be_visible()  # back on the Paint tab
    page.get_by_text("Settings").click()
    assert page.locator("#steps input").input_value() == "150"
    assert page.locator("#seed input").input_value() == "42"
    assert page.locator("#width input").input_value() == "64"
    expect(page.locator("#top-artists input[type=checkbox]:checked")).to_have_count(1)
    assert page.locator("#topic textarea").input_value().strip() != ""
    shot(page, "studio-pnginfo")

    # Paint from the PNG alone: the same caption (the extension's template) and the same pixels, bit for bit.
    page.click("#paint")
    expect(page.locator("#status")).to_contain_text("done", timeout=180_000)
    links = page.locator("#downloads a")
    expect(links.first).to_be_visible()
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    cell = next(h for h in hrefs if "/p00000-a000-s00-claude-monet-" in h)
    with Image.open(io.BytesIO(page.request.get(cell).body())) as again, Image.open(painted) as original:
        assert again.info["caption"] == original.info["caption"] and ", a painting by Claude Monet" in again.info["caption"]
        assert list(again.getdata()) == list(original.getdata())

    foreign = tmp_path / "photo.png"
    Image.new("RGB", (16, 16), (200, 30, 30)).save(foreign)
    page.get_by_role("tab", name="PNG info").click()
    upload(page, foreign)
    expect(page.locator("#pnginfo-message")).to_contain_text("carries no creative-painting parameters")


def test_gallery_search_and_paint_again(server, page):
    from playwright.sync_api import expect

    page.goto(server.url)
    page.get_by_role("tab", name="Gallery").click()
    page.fill("#gallery-search textarea", "monet gogh")  # the first run's two painters (PNG info's repaint has one)
    gallery = page.locator("#gallery")
    expect(gallery.locator("img").first).to_be_visible()
    expect(gallery).to_contain_text("Vincent van Gogh · urbanization of china · run 1,")  # captioned thumbnails
    gallery.locator("img").first.click()
    expect(page.locator("#run-info")).to_contain_text("Claude Monet")
    shot(page, "studio-gallery")
    page.click("#paint-again")
    expect(page.locator("#topic textarea")).to_be_visible()
    expect(page.locator("#top-artists input[type=checkbox]:checked")).to_have_count(2)
    expect(page.locator("#chosen input[type=checkbox]:checked")).to_have_count(2)
    page.get_by_text("Settings").click()  # the run's own settings, not its preset's defaults
    page.wait_for_timeout(500)
    assert [page.locator(f"#{f} input").input_value() for f in ("steps", "width", "height", "seed")] == \
        ["150", "64", "64", "42"]
    expect(page.locator("#sampler input")).to_have_value("dpmpp-2m")


def test_the_queue_lists_jobs_and_cancels_one(server, page):
    from playwright.sync_api import expect

    client = server.client()
    slow = client.predict({"prompts": ["a very slow picture"], "steps": 999, "width": 512, "height": 512},
                          api_name="/submit")
    page.goto(server.url)
    page.get_by_role("tab", name="Queue").click()
    queue = page.locator("#queue")
    expect(queue).to_contain_text("a very slow picture")
    page.fill("#cancel-id input", str(slow))
    page.click("#cancel")
    expect(queue).to_contain_text("cancelled", timeout=30_000)
    assert client.predict(slow, api_name="/job")["state"] == "cancelled"


def test_a_lora_typed_in_settings_is_painted_recorded_and_filled_back_by_png_info(server, page, tmp_path):
    import json

    from playwright.sync_api import expect

    from tests.painting.adapter_files import write_lora

    lora = write_lora(tmp_path / "lora", "kohya")
    page.goto(server.url)
    page.fill("#topic textarea", "a harbour at dawn")
    page.click("#extend")
    expect(page.locator("#chosen label").first).to_contain_text("a harbour at dawn", timeout=60_000)
    page.get_by_text("Settings").click()
    for field, value in (("steps", "2"), ("width", "32"), ("height", "32")):
        set_number(page, field, value)
    page.fill("#loras textarea", f"{lora}:0.8")
    page.click("#paint")
    expect(page.locator("#status")).to_contain_text("done", timeout=180_000)
    links = page.locator("#downloads a")
    expect(links.first).to_be_visible()
    cell = next(links.nth(i).get_attribute("href") for i in range(links.count())
                if "/p00000-a000-s00-none-" in links.nth(i).get_attribute("href"))
    painted = tmp_path / "painted.png"
    painted.write_bytes(page.request.get(cell).body())
    with Image.open(painted) as image:
        record = json.loads(image.info["creative_painting"])
    assert record["loras"] == [{"name": "style.safetensors", "path": str(lora), "sha256": record["loras"][0]["sha256"],
                                "weight": 0.8}]

    page.goto(server.url)
    page.get_by_role("tab", name="PNG info").click()
    upload(page, painted)
    expect(page.locator("#pnginfo-message")).to_contain_text("now in the Paint form")
    page.get_by_text("Settings", exact=True).click()
    expect(page.locator("#loras textarea")).to_have_value(f"{lora}:0.8")
