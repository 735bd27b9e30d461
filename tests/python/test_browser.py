"""The report renders in a real browser (headless Chromium): a screenshot with content, inline images in the DOM."""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def browser() -> str | None:
    override = os.environ.get("DPBENCH_CHROMIUM")
    if override:
        return override
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


pytestmark = pytest.mark.skipif(browser() is None,
                                reason="no headless Chromium found (install the 'chromium' package, "
                                       "or set DPBENCH_CHROMIUM to the browser's path)")


def run_browser(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    exe = browser()
    assert exe is not None
    # --no-sandbox: CI runs as root, where Chromium refuses its sandbox.
    # --virtual-time-budget: let layout and image decoding settle before the screenshot or DOM dump.
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
           "--virtual-time-budget=5000", "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}",
           *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


class Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.sources.append(dict(attrs).get("src") or "")


def test_screenshot_shows_a_rendered_page(report_dir: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    url = (report_dir / "report.html").resolve().as_uri()
    proc = run_browser([f"--screenshot={shot}", "--window-size=1280,4000", url], tmp_path / "profile")
    assert shot.exists(), f"no screenshot (exit {proc.returncode}):\n{proc.stderr[-2000:]}"
    assert shot.stat().st_size > 20_000
    pixels = imread(shot)[..., :3]
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 1000
    colours = np.unique((pixels.reshape(-1, 3) * 255).astype(np.uint8), axis=0)
    assert len(colours) > 64, "screenshot is (nearly) a single colour: the page did not render"


def test_dom_holds_the_inline_plots(report_dir: Path, tmp_path: Path) -> None:
    url = (report_dir / "report.html").resolve().as_uri()
    proc = run_browser(["--dump-dom", url], tmp_path / "profile")
    assert proc.returncode == 0, proc.stderr[-2000:]
    parser = Images()
    parser.feed(proc.stdout)
    expected = len(list((report_dir / "plots").glob("*.png")))
    assert expected > 0
    assert len(parser.sources) == expected
    assert all(src.startswith("data:image/png;base64,") for src in parser.sources)
