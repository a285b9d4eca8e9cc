"""The HTML report as a person meets it: opened in a real browser (headless Chromium), chart and tables there.

``--dump-dom`` gives the DOM after parsing; the screenshot proves the chart image actually decoded and was
drawn, since the report's only saturated greens and reds are the chart's dots.
"""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from session_fakes import SELF_NOTES, data_dir, standard_session

from callcoach.session.report import render_html
from callcoach.session.store import SessionStore
from callcoach.session.summary import build_summary

__all__ = ["data_dir"]
TABLES = ["measures", "cues", "regions", "negative-moments", "positive-moments", "suggestions", "trend"]


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run installs it)")


class Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.tables: list[str | None] = []
        self.cells: list[str] = []
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs))
        elif tag == "table":
            self.tables.append(dict(attrs).get("id"))
        self._in_cell = tag == "td"

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.cells.append(data)


def browse(browser: str, page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1200,1400",
        "--hide-scrollbars",
    ]
    return subprocess.run(
        [browser, *flags, *extra, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def coloured_pixels(png: Path) -> tuple[int, int]:
    from matplotlib.image import imread

    rgb = (imread(png)[..., :3] * 255).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    green = ((g - r > 50) & (g - b > 25)).sum()
    red = ((r - g > 80) & (r - b > 80)).sum()
    return int(green), int(red)


@pytest.mark.slow
def test_html_report_renders_in_chromium_with_its_chart_and_tables(data_dir: Path, tmp_path: Path) -> None:
    browser = chromium()
    with SessionStore() as store:
        page = tmp_path / "report.html"
        page.write_text(render_html(build_summary(store, standard_session(store))), encoding="utf-8")
    shot = tmp_path / "report.png"
    proc = browse(browser, page, tmp_path / "profile", "--dump-dom", f"--screenshot={shot}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = Dom()
    dom.feed(proc.stdout)
    assert dom.tables == TABLES, proc.stdout[:500]
    (chart,) = dom.images
    assert chart["id"] == "timeline-chart" and (chart["src"] or "").startswith("data:image/png;base64,")
    assert "50% (3 of 6)" in dom.cells and "micro_frown at 205s, maybe" in dom.cells
    if not shot.exists():  # some Chromium builds take one output mode per run
        proc = browse(browser, page, tmp_path / "profile", f"--screenshot={shot}")
        assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    green, red = coloured_pixels(shot)
    assert green > 200 and red > 200, f"the chart's dots are not on screen (green {green}, red {red} pixels)"


@pytest.mark.slow
def test_the_own_face_tables_are_in_the_dom_only_with_self_notes(data_dir: Path, tmp_path: Path) -> None:
    browser = chromium()
    doms = []
    with SessionStore() as store:
        for name, notes in (("with", SELF_NOTES), ("without", ())):
            page = tmp_path / f"{name}.html"
            page.write_text(
                render_html(build_summary(store, standard_session(store, self_notes=notes))), encoding="utf-8"
            )
            proc = browse(browser, page, tmp_path / f"profile-{name}", "--dump-dom")
            assert proc.returncode == 0, proc.stderr[-2000:]
            dom = Dom()
            dom.feed(proc.stdout)
            doms.append(dom)
    with_notes, without = doms
    assert with_notes.tables == [*TABLES, "own-overview", "own-cues", "own-notes"]
    assert "67% (2 of 3)" in with_notes.cells and "4 (3 while the other person was talking)" in with_notes.cells
    assert "lips pressed together" in with_notes.cells and "You smiled back." in with_notes.cells
    assert without.tables == TABLES and "You smiled back." not in without.cells
