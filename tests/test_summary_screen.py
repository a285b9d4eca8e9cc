"""The summary screen in the panel, and the end-of-session hook that opens it (Textual Pilot, no models)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from rich.console import Console
from session_fakes import data_dir, standard_session
from textual.app import App, ComposeResult
from textual.widgets import Static
from ui_fakes import CONSENT, CUE, SUGGESTION, FakeSelector, Harness, pilot_test, started

import callcoach.ui.app as app_module
from callcoach.session.recorder import LiveRecording
from callcoach.session.store import SessionStore
from callcoach.session.summary import build_summary
from callcoach.ui.app import CoachApp
from callcoach.ui.summary_screen import SummaryScreen, end_of_session

__all__ = ["data_dir"]


def shown(app: App[Any], selector: str) -> str:
    """A section as it reads on screen (its rich table rendered to plain text)."""
    out = io.StringIO()
    Console(file=out, width=120, color_system=None).print(app.screen.query_one(selector, Static).content)
    return out.getvalue()


class Host(App[None]):
    def __init__(self, screen: SummaryScreen) -> None:
        super().__init__()
        self._summary_screen = screen

    def compose(self) -> ComposeResult:
        yield Static("the panel", id="panel")

    def on_mount(self) -> None:
        self.push_screen(self._summary_screen)


def test_summary_screen_shows_measures_counts_moments_and_marks(data_dir: Path) -> None:
    with SessionStore() as store:
        summary = build_summary(store, standard_session(store))

    @pilot_test
    async def scenario() -> None:
        app = Host(SummaryScreen(summary, quit_on_close=False))
        async with app.run_test(size=(110, 40)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, SummaryScreen)
            assert "Session 1" in shown(app, "#summary-headline")
            measures = shown(app, "#section-measures")
            assert "50% (3 of 6)" in measures and "67% (2 of 3)" in measures
            assert "lips pressed together" in shown(app, "#section-cues")
            assert "3:20–3:35" in shown(app, "#section-negative-moments")
            assert "0:10–0:25" in shown(app, "#section-positive-moments")
            marks = shown(app, "#section-suggestions")
            assert marks.count("helped") == 3 and marks.count("misread") == 3
            assert "smile reaching the eyes" in shown(app, "#section-timeline")
            await pilot.press("pagedown", "end")  # scrolls, nothing breaks
            await pilot.press("escape")  # opened over something else: back to it
            await pilot.pause()
            assert not isinstance(app.screen, SummaryScreen)

    scenario()


class HookedApp(CoachApp):
    """CoachApp with the documented three-line hook in its quit action (see callcoach.ui.summary_screen)."""

    CSS_PATH = str(Path(app_module.__file__).with_name("app.tcss"))  # relative paths resolve next to this file

    async def action_quit(self) -> None:
        self.stop_runner()
        if end_of_session(self):
            return
        self.exit()


def test_the_end_of_a_recorded_live_session_opens_its_summary(data_dir: Path) -> None:
    harness = Harness()
    recording = LiveRecording(source_kind="window", source_name="Zoom Meeting", context="general")
    selector = FakeSelector()

    @pilot_test
    async def scenario() -> None:
        # What callcoach live's wiring does: the recorder goes in front of the panel's listener.
        app = HookedApp(
            recording.wrap_factory(harness.factory),
            selector=recording.wrap_selector(selector),
            consent_text=CONSENT,
            acknowledged=True,
            status_interval_s=0.0,
        )
        async with app.run_test(size=(110, 40)) as pilot:
            await started(pilot, app)
            listener = harness.runner.listener
            listener.on_cue(CUE, 30.0)
            listener.on_suggestion(SUGGESTION)
            await pilot.pause()
            await pilot.press("h", "q")
            await pilot.pause()
            assert isinstance(app.screen, SummaryScreen) and harness.runner.calls[-1] == "stop"
            assert "100% (1 of 1)" in shown(app, "#section-measures")
            assert "helped" in shown(app, "#section-suggestions")
            assert not end_of_session(app)  # already showing: a second quit really quits
            await pilot.press("q")
            await pilot.pause()
        assert app.return_code == 0 and selector.marks == [(SUGGESTION, "helped")]

    scenario()
    line = recording.finish()
    assert line is not None and "1 cues, 1 suggestions, 1 marks" in line


def test_without_a_recorded_session_quitting_is_unchanged() -> None:
    harness = Harness()

    @pilot_test
    async def scenario() -> None:
        app = harness.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot, app)
            assert not end_of_session(app)

    scenario()
