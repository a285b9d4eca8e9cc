"""The practice progress page as a person meets it: opened in headless Chromium, its chart drawn, its tables there."""

from __future__ import annotations

from pathlib import Path

import pytest
from session_fakes import data_dir, make_session
from test_summary_chromium import Dom, browse, chromium

from callcoach.practice.drill import Trial
from callcoach.practice.report import render_html
from callcoach.practice.stats import DAY_S, build_progress
from callcoach.practice.store import PracticeStore
from callcoach.session.store import SessionStore

__all__ = ["data_dir"]


def _week_of_trials(practice: PracticeStore, t0: float, day: int, right: int) -> None:
    run = practice.begin_run(
        mode="emotions", seed=1, stimuli="builtin", presenter="headless", planned=10, started_at=t0 + day * DAY_S
    )
    for i in range(10):
        answer = "fear" if i < right else "anger"
        practice.add_trial(
            run,
            Trial(i + 1, "fear", answer, answer == "fear", 100.0, 100.0, False, 600.0, False),
            answered_at=t0 + day * DAY_S + i,
        )


def blue_and_orange(png: Path) -> tuple[int, int]:
    from matplotlib.image import imread

    rgb = (imread(png)[..., :3] * 255).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    blue = ((b - r > 100) & (b - g > 40)).sum()  # the accuracy line and dots (#1f6fd1)
    orange = ((r - b > 120) & (g - b > 40) & (r - g > 40)).sum()  # the dashed goal lines (#e67e22)
    return int(blue), int(orange)


@pytest.mark.slow
def test_progress_page_renders_in_chromium_with_goal_lines_and_tables(data_dir: Path, tmp_path: Path) -> None:
    browser = chromium()
    t0 = 1_750_000_000.0
    with SessionStore() as store:
        practice = PracticeStore(store)
        for day, right in ((0, 3), (8, 5), (20, 6), (36, 8)):
            _week_of_trials(practice, t0, day, right)
        make_session(store)
        page = tmp_path / "progress.html"
        page.write_text(render_html(build_progress(store, now=t0 + 40 * DAY_S)), encoding="utf-8")
    html = page.read_text()
    assert "http" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # self-contained
    shot = tmp_path / "progress.png"
    proc = browse(browser, page, tmp_path / "profile", "--dump-dom", f"--screenshot={shot}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = Dom()
    dom.feed(proc.stdout)
    assert dom.tables == ["kpis", "weeks"]
    assert "target 50% by week 2" in proc.stdout and "target 70% by week 6" in proc.stdout
    assert dom.cells[dom.cells.index("1", 10) : dom.cells.index("1", 10) + 4] == ["1", "10", "30%", "n/a"]
    assert "80%" in dom.cells and "55%" in dom.cells  # week 6, and all 40 trials
    if not shot.exists():  # some Chromium builds take one output mode per run
        proc = browse(browser, page, tmp_path / "profile", f"--screenshot={shot}")
        assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    blue, orange = blue_and_orange(shot)
    assert blue > 300 and orange > 300, f"the chart is not on screen (blue {blue}, orange {orange} pixels)"
