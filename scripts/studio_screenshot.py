"""Take the README's studio screenshot from a real run: start the studio on a model, drive it in Chromium.

    .venv/bin/python scripts/studio_screenshot.py MODEL "ARTIST A" "ARTIST B" ... --topic "a boat" --out docs/studio.png

With the CPU experiment's model (`make demo` installs it), MODEL is `demo` and the artists are its synthetic
painters. The page is used as a person would: Extend, Paint, wait for the grid.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_studio(data: Path, model: str) -> tuple[subprocess.Popen, str]:
    """`creative-painting studio` in its own process, as a user starts it; returns it and its address once it answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "creative_painting.cli.main", "studio", "--data", str(data),
                             "--port", str(port), "--model", model])
    url = f"http://127.0.0.1:{port}"
    for _ in range(480):
        if proc.poll() is not None:
            raise SystemExit(f"the studio exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url + "/config", timeout=2)
            return proc, url
        except OSError:
            time.sleep(0.25)
    proc.terminate()
    raise SystemExit("the studio did not start in 2 minutes")


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
        server, url = start_studio(Path(tmp) / "data", args.model)
        try:
            from gradio_client import Client

            client = Client(url, verbose=False)
            # A past run to paint again: the gallery's "Paint again" fills the form with its parameters.
            client.predict({"prompts": [args.topic], "artists": args.artists,
                            "preset": "fast", "width": args.size, "height": args.size}, api_name="/submit")
            while client.predict(api_name="/jobs")[0]["state"] != "done":
                time.sleep(0.5)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport={"width": 1200, "height": 1000})
                page.set_default_timeout(120_000)
                page.goto(url)
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
            server.terminate()
            server.wait(timeout=30)
    print(args.out)


if __name__ == "__main__":
    main()
