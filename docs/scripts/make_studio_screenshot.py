"""Regenerate docs/figures/studio.png, the screenshot of `imle-cli studio` in the README and the docs.

    python docs/scripts/make_studio_screenshot.py

Starts the studio on assets/map.png, opens it in Debian's chromium through Playwright, clicks
two waypoints on the map, runs a short learning run, and saves a screenshot of the page.
"""
import re
import signal
import subprocess
import sys
from pathlib import Path

FIGURES = Path(__file__).resolve().parents[1] / "figures"
ROOT = FIGURES.parents[1]


def main() -> None:
    from playwright.sync_api import sync_playwright

    # from the repository's root, so the commands the page shows name assets/map.png as a reader types it
    process = subprocess.Popen([sys.executable, "-m", "imle_cli", "studio", "assets/map.png", "--port", "0",
                                "--no-browser"], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    url = re.search(r"http://\S+", process.stdout.readline()).group(0)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)
            page.goto(url)
            page.wait_for_selector("body[data-ready=true]")
            box = page.locator("canvas#map").bounding_box()
            for r, c in ((6, 14), (12, 0)):
                page.mouse.click(box["x"] + (c + 0.5) / 16 * box["width"], box["y"] + (r + 0.5) / 16 * box["height"])
                page.wait_for_function(f"document.querySelector('#annotate-command').textContent.includes('{r},{c}')")
            page.wait_for_timeout(2500)
            page.fill("#steps", "300")
            page.click("#learn-start")
            page.wait_for_function("document.querySelector('#learn-start').disabled === false", timeout=120000)
            page.screenshot(path=str(FIGURES / "studio.png"), full_page=True)
            browser.close()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait()


if __name__ == "__main__":
    main()
