"""The post-call summary inside the panel, and the hook that shows it when a live session ends.

``CoachApp`` stops the runner and calls ``finish_session`` on a worker thread (closing the record waits
for its writer), then pushes the screen. An app that may block its event loop can use the short hook::

    self.stop_runner()
    if end_of_session(self):  # the session's summary is now on screen; its own q quits
        return
    self.exit()

``end_of_session`` finds the session recorded in front of ``app.listener`` (``callcoach live`` puts a
``SessionRecorder`` there unless ``--no-record-session``), closes it so every event is written, and pushes
a ``SummaryScreen``. Without a recorded session (the demo, tests, recording off) it returns False and the app
quits as before.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from callcoach.session.report import NOTE, headline, rich_table, sections, terminal_timeline
from callcoach.session.summary import SessionSummary

_log = logging.getLogger(__name__)


class SummaryScreen(Screen[None]):
    """Measures, the text timeline, counts, top moments, and the suggestions with the user's marks."""

    DEFAULT_CSS = """
    SummaryScreen #summary-body { padding: 0 1; }
    SummaryScreen .summary-title { text-style: bold; margin: 1 0 0 0; }
    SummaryScreen .summary-note { color: $text-muted; margin-bottom: 1; }
    SummaryScreen .summary-section { margin-bottom: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit_app", "quit"),
        Binding("escape", "close", "back", show=False),
    ]

    def __init__(self, summary: SessionSummary, *, quit_on_close: bool = True) -> None:
        super().__init__()
        self.summary = summary
        #: At the end of a live session there is nothing to go back to, so closing quits the app.
        self.quit_on_close = quit_on_close

    def compose(self) -> ComposeResult:
        s = self.summary
        first, *rest = sections(s)
        with VerticalScroll(id="summary-body"):
            yield Static(headline(s), classes="summary-title", markup=False, id="summary-headline")
            yield Static(NOTE, classes="summary-note", markup=False)
            yield Static(rich_table(first), classes="summary-section", id=f"section-{first.id}")
            if s.timeline:
                yield Static("Timeline (minutes into the call)", classes="summary-title", markup=False)
                yield Static(terminal_timeline(s), classes="summary-section", id="section-timeline")
            for section in rest:
                yield Static(rich_table(section), classes="summary-section", id=f"section-{section.id}")
            yield Static(
                f"The full report with a chart: callcoach summary {s.session.id} --html report.html",
                classes="summary-note",
                markup=False,
            )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#summary-body").focus()  # arrow keys and page keys scroll at once

    def action_quit_app(self) -> None:
        self.app.exit()

    def action_close(self) -> None:
        if self.quit_on_close:
            self.app.exit()
        else:
            self.dismiss(None)


def finish_session(app: App[Any]) -> SessionSummary | None:
    """Close the session recorded for ``app`` and build its summary; None without one.

    Closing waits for the session writer (seconds at worst), so ``CoachApp`` calls this on a worker thread.
    """
    from callcoach.session.recorder import recorder_for
    from callcoach.session.summary import build_summary

    recorder = recorder_for(getattr(app, "listener", None))
    if recorder is None:
        return None
    recorder.close()
    try:
        return build_summary(recorder.store, recorder.session_id)
    except Exception as exc:  # noqa: BLE001 - a summary that cannot be built must never keep anyone from quitting
        _log.warning("no summary for session %s: %s", recorder.session_id, exc)
        return None


def end_of_session(app: App[Any]) -> bool:
    """Show the summary of the session just recorded for ``app``; True if it is now on screen."""
    if isinstance(app.screen, SummaryScreen):
        return False  # already showing it: this quit is meant
    summary = finish_session(app)
    if summary is None:
        return False
    app.push_screen(SummaryScreen(summary))
    return True
