"""The HTML report: self-contained, complete, and inert against markup in results files."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Callable

import pytest
from conftest import FIXTURE_NAMES, fixture_doc, fixture_path, run_module

from dpbench_report import load_results
from dpbench_report.html_report import write_report

DATA_PNG = "data:image/png;base64,"
# What the report itself emits; anything else came from a results file.
ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "h4", "p", "nav", "ul", "li",
                "a", "div", "table", "thead", "tbody", "tr", "th", "td", "code", "pre", "dl", "dt", "dd", "small",
                "br", "b", "span", "figure", "img", "figcaption"}


class Page(HTMLParser):
    """Collects tags, attributes and text of a page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, Any]]] = []
        self.chunks: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    def images(self) -> list[str]:
        return [a.get("src") or "" for t, a in self.tags if t == "img"]


def assert_inert(page: Page, raw: str) -> None:
    """No markup beyond what the report emits, no event handlers, images only inline PNG."""
    names = {t for t, _ in page.tags}
    assert names <= ALLOWED_TAGS, names - ALLOWED_TAGS
    for tag, attrs in page.tags:
        assert not any(k.lower().startswith("on") for k in attrs), (tag, attrs)
        if tag == "img":
            assert (attrs.get("src") or "").startswith(DATA_PNG)
        if tag == "a":
            assert not (attrs.get("href") or "").lower().startswith("javascript:")
    assert "<script" not in raw.lower()


def test_report_is_self_contained_and_lists_every_point(report_dir: Path) -> None:
    raw = (report_dir / "report.html").read_text(encoding="utf-8")
    page = Page(raw)
    assert_inert(page, raw)
    pngs = sorted((report_dir / "plots").glob("*.png"))
    svgs = sorted((report_dir / "plots").glob("*.svg"))
    assert pngs and len(pngs) == len(svgs)
    images = page.images()
    assert len(images) == len(pngs) and all(src.startswith(DATA_PNG) for src in images)
    assert not [a for t, a in page.tags if t == "link" or (t == "img" and "http" in (a.get("src") or ""))]
    text = page.text
    for name in FIXTURE_NAMES:
        doc = fixture_doc(name)
        assert doc["invocation"]["command_line"] in text
        assert doc["system"]["host"]["hostname"] in text
        assert doc["system"]["host"]["cpu_model"] in text
        for device in doc["system"]["devices"]:
            assert device["name"] in text
        for point in doc["points"]:
            assert point["id"] in text, point["id"]
            if point["status"] != "ok" and point.get("reason"):
                assert point["reason"] in text
    assert "95% CI" in text


def _crafted_doc() -> tuple[dict[str, Any], dict[str, str]]:
    """The train fixture, trimmed, with markup and quotes planted in every free-text field."""
    doc = fixture_doc("train_cpu")
    ok = [p for p in doc["points"] if p["status"] == "ok"][:4]
    bad = dict(ok[-1], status="failed", id=ok[-1]["id"] + "/failed")
    planted = {
        "hostname": '<script>alert("host")</script>\'"',
        "device": '"><img src=x onerror=alert(1)>',
        "reason": "<script>alert('reason')</script> & \"quoted\"",
        "algo": "<iframe src=\"javascript:alert('algo')\"></iframe>'",
        "command_line": "dpbench train --tag '<script>alert(1)</script>' \"--x=\\\"y\\\"\" </pre><marquee>",
        "id": "train/<svg onload=alert('id')>/\"'",
        "cpu": "<object data=x></object>",
    }
    bad["reason"] = planted["reason"]
    bad["axes"] = dict(bad["axes"], algo=planted["algo"])
    ok[0] = dict(ok[0], id=planted["id"])
    doc["points"] = ok + [bad]
    doc["system"]["host"]["hostname"] = planted["hostname"]
    doc["system"]["host"]["cpu_model"] = planted["cpu"]
    doc["system"]["devices"][0]["name"] = planted["device"]
    doc["invocation"]["command_line"] = planted["command_line"]
    return doc, planted


def test_markup_from_a_results_file_is_escaped(make_file: Callable[..., Path], tmp_path: Path) -> None:
    doc, planted = _crafted_doc()
    path = make_file("crafted.json", doc)
    report = write_report([load_results(path)], tmp_path / "out", formats=("png",))
    raw = report.read_text(encoding="utf-8")
    page = Page(raw)
    assert_inert(page, raw)
    for value in planted.values():
        assert value in page.text, value  # shown as text, not dropped and not interpreted
    assert page.images(), "the crafted file should still plot"
    for png in (tmp_path / "out" / "plots").iterdir():
        assert png.resolve().parent == (tmp_path / "out" / "plots").resolve()


def test_info_only_report_has_system_summary_and_no_plots(tmp_path: Path) -> None:
    proc = run_module("report", str(fixture_path("info_cpu")), "--out", str(tmp_path / "info"), "-q")
    assert proc.returncode == 0, proc.stderr
    raw = (tmp_path / "info" / "report.html").read_text(encoding="utf-8")
    page = Page(raw)
    assert_inert(page, raw)
    assert page.images() == []
    assert "No plottable data" in page.text
    doc = fixture_doc("info_cpu")
    assert doc["system"]["host"]["hostname"] in page.text
    assert doc["invocation"]["command_line"] in page.text


@pytest.mark.parametrize("formats", ["png", "svg,png"])
def test_plot_command_writes_requested_formats(tmp_path: Path, formats: str) -> None:
    out = tmp_path / "plots"
    proc = run_module("plot", str(fixture_path("p2p_cpu")), "--out", str(out), "--formats", formats)
    assert proc.returncode == 0, proc.stderr
    written = sorted(out.iterdir())
    assert written and {p.suffix.lstrip(".") for p in written} == set(formats.split(","))
    assert all(str(p) in proc.stdout for p in written)
