"""What the live panel shows of the runner's reports: its state, the suggestion card, the cue log, the
notices about the playbook, the session record and the user's own camera.

``PanelView`` is the base of ``callcoach.ui.app.CoachApp``, which owns the runner and the keys; the handlers
live apart from it so that what the runner reports and what the user does can each be read in one place.
"""

from __future__ import annotations

from dataclasses import replace

from textual.app import App
from textual.content import Content

from callcoach.core.marks import MarkKind
from callcoach.live.companion import VCAM_LABEL
from callcoach.live.state import LiveStatus
from callcoach.playbook.types import Suggestion
from callcoach.playbook.wording import suggestion_refusal
from callcoach.ui.messages import (
    CueSpotted,
    EarlyWithdrawn,
    PlaybookProblem,
    SelfNoted,
    StatusChanged,
    StoreChanged,
    SuggestionOffered,
    VcamChanged,
)
from callcoach.ui.widgets import TROUBLE_STATES, CueLog, Notice, SelfLine, StatusBar, SuggestionCard

#: The user's verdict on a suggestion (declared once, in callcoach.core.marks).
Verdict = MarkKind

STOPPING_TEXT = "Stopping: closing the picture source and saving the session record..."


class PanelView(App[None]):
    # Set, and explained, in CoachApp.__init__.
    status: LiveStatus
    suggestion: Suggestion | None
    paused: bool
    stopping: bool
    vcam_state: str
    _marked: Verdict | None
    _unconfirmed: bool
    _cues_seen: int
    _stale_after_s: float

    def on_status_changed(self, message: StatusChanged) -> None:
        changed = message.status.state != self.status.state
        self.status = message.status
        self._show_status()
        if changed:
            # A full repaint on each change of state (a few per session): anything else that reached the
            # terminal meanwhile (native output is kept off it, see callcoach.cli.terminal) is painted over.
            self.screen.refresh()

    def on_cue_spotted(self, message: CueSpotted) -> None:
        self._cues_seen += 1
        self.query_one(CueLog).add(message.cue, message.latency_ms)
        if self.suggestion is None:
            self.query_one(SuggestionCard).show_waiting(self._cues_seen)

    def on_suggestion_offered(self, message: SuggestionOffered) -> None:
        refused = suggestion_refusal(message.suggestion)
        if refused is not None:
            # The runner holds these back already; the panel checks again, as it may be fed by anything.
            self.log.warning(f"suggestion held back: {refused.message}")
            return
        self.suggestion = message.suggestion
        self._marked = None
        self._unconfirmed = False
        self.query_one(SuggestionCard).border_subtitle = None
        self._show_card()

    def on_early_withdrawn(self, message: EarlyWithdrawn) -> None:
        s, w = self.suggestion, message.withdrawn
        # The card's suggestion is the withdrawn cue's when they name the same face, cue and apex.
        if s is None or (s.face, s.cue) != (w.face, w.cue) or abs(s.t_s - w.apex_s) > 1e-6:
            return
        self._unconfirmed = True
        if self._marked is None:
            self.query_one(SuggestionCard).border_subtitle = "not confirmed"
        self._show_card()

    def on_playbook_problem(self, message: PlaybookProblem) -> None:
        self.notify(
            f"{message.message}. {message.in_force.capitalize()} stays in force; b shows the playbook.",
            title="Playbook not loaded",
            severity="warning",
            timeout=15,
            markup=False,
        )  # the message quotes the file: "moves[1]" is not markup

    def on_store_changed(self, message: StoreChanged) -> None:
        failing = message.state != "ok"
        self.notify(
            message.message[:1].upper() + message.message[1:],
            title="Session record",
            severity="warning" if failing else "information",
            timeout=15 if failing else 5,
        )

    def on_self_noted(self, message: SelfNoted) -> None:
        self.query_one(SelfLine).show_note(message.note)

    def on_vcam_changed(self, message: VcamChanged) -> None:
        if message.state.startswith("self_"):
            self.query_one(StatusBar).show_self(message.state.removeprefix("self_"))
            if message.state == "self_error":
                self.notify(message.message, title="Your face", severity="warning", timeout=8)
            return
        first = not self.vcam_state
        self.vcam_state = message.state
        trouble = message.state in ("unavailable", "lost")
        self.query_one(StatusBar).show_vcam(VCAM_LABEL.get(message.state, message.state), trouble)
        if trouble:
            self.notify(message.message, title="Your camera", severity="warning", timeout=12)
        if first or message.state in ("unavailable", "lost"):
            self.refresh_bindings()

    def _shown_status(self) -> LiveStatus:
        status = self.status
        # The runner may report "paused" late (or not at all); the user's key press wins at once.
        if self.paused and status.state not in ("error", "source_lost"):
            return replace(status, state="paused", message="")
        return status

    def _show_status(self) -> None:
        status = self._shown_status()
        notice = self.query_one(Notice)
        notice.show(status)
        if self.stopping:
            notice.update(Content(STOPPING_TEXT))
        self.query_one(StatusBar).show(status)
        self._show_card()

    def _show_card(self) -> None:
        card = self.query_one(SuggestionCard)
        if self.suggestion is None:
            card.show_waiting(self._cues_seen)
            return
        status = self._shown_status()
        stale = (
            status.state in TROUBLE_STATES
            or status.t_s - self.suggestion.t_s > self._stale_after_s
            or self._unconfirmed
        )
        card.show_suggestion(self.suggestion, stale=stale)
