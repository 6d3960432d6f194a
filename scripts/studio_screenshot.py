"""Take the README's studio screenshot from a real run: start the studio on a model, drive it in Chromium.

    .venv/bin/python scripts/studio_screenshot.py MODEL "ARTIST A" "ARTIST B" ... --topic "a boat" --out docs/studio.png

With the CPU demo's model (`creative-painting demo --out demo`), MODEL is demo/seed-0/models/stage2/model.safetensors
and the artists are its synthetic painters. The page is used as a person would: Extend, Paint, wait for the grid.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.studio.server import Server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("artists", nargs="+")
    parser.add_argument("--topic", default="a boat")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "studio.png")
    args = parser.parse_args()
    from playwright.sync_api import expect, sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "data", Path(args.model)).wait_ready()
        try:
            client = server.client()
            # A past run to paint again: the gallery's "Paint again" fills the form with its parameters.
            client.predict({"prompts": [args.topic], "artists": args.artists,
                            "preset": "fast", "width": args.size, "height": args.size}, api_name="/submit")
            while client.predict(api_name="/jobs")[0]["state"] != "done":
                time.sleep(0.5)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport={"width": 1200, "height": 1000})
                page.set_default_timeout(120_000)
                page.goto(server.url)
                page.get_by_role("tab", name="Gallery").click()
                page.locator("#gallery img").first.click()
                page.click("#paint-again")
                page.fill("#topic textarea", args.topic)
                page.click("#extend")
                expect(page.locator("#candidates table")).to_be_visible()
                page.click("#paint")
                expect(page.locator("#status")).to_contain_text("done")
                expect(page.locator("#grid img")).to_be_visible()
                page.screenshot(path=str(args.out), full_page=True)
                browser.close()
        finally:
            server.stop()
    print(args.out)


if __name__ == "__main__":
    main()
