"""The panel's widgets and the plain-language wording they share with the headless demo check.

Every user-supplied string (suggestion text, status messages) goes through ``Content(...)`` so that a
square bracket in a playbook line is shown as written instead of being read as markup.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Label, ProgressBar, Static

from callcoach.core.marks import SelfNote
from callcoach.cues.vocabulary import PLAIN_WORDS, REGION, Cue
from callcoach.live.state import LiveStatus
from callcoach.playbook.types import CONTEXT_LABELS, Suggestion
from callcoach.playbook.wording import note_refusal
from callcoach.session.settings import cue_log_badge

#: The badge when the caller says nothing about a cue log (the demo, tests): only what is always true.
PRIVACY_BADGE = cue_log_badge(None)

#: Cue names in plain words, for the details log (suggestions bring their own wording).
CUE_WORDS: dict[str, str] = PLAIN_WORDS

#: Shown when a status arrives without its own message; the runner's message wins when it has one.
STATE_TEXT: dict[str, str] = {
    "starting": "Starting: opening the source and loading the models.",
    "calibrating": "Learning this person's resting face. Keep talking normally.",
    "locked": "Face locked. Suggestions appear here, one at a time.",
    "no_face": "No face in view: check the window or the camera framing.",
    "unreadable": "Can't read reliably: lighting or angle.",
    "paused": "Paused. Nothing is analysed; press p to resume.",
    "blank": "The picture is blank: screen capture may be blocked (permission, or Wayland).",
    "source_lost": "Source lost: the window closed, the camera went away, or the video ended.",
    "error": "Something went wrong; coaching has stopped.",
}

#: Short label for the status bar.
STATE_LABEL: dict[str, str] = {
    "starting": "starting",
    "calibrating": "face found · calibrating",
    "locked": "face locked",
    "no_face": "no face",
    "unreadable": "face unreadable",
    "paused": "paused",
    "blank": "blank picture",
    "source_lost": "source lost",
    "error": "error",
}

#: States in which the last suggestion may no longer fit what is on screen.
TROUBLE_STATES = frozenset({"no_face", "unreadable", "blank", "source_lost", "error"})


def confidence_words(confidence: float) -> str:
    """Confidence as words and the number, e.g. "maybe (0.62)": a guess stays a guess."""
    if confidence < 0.45:
        word = "faint"
    elif confidence < 0.7:
        word = "maybe"
    elif confidence < 0.85:
        word = "likely"
    else:
        word = "quite likely"
    return f"{word} ({confidence:.2f})"


def region_words(region: str) -> str:
    return " and ".join(part.strip() for part in region.split("+") if part.strip())


def cue_words(name: str) -> str:
    return CUE_WORDS.get(name, name.replace("_", " "))


def clock_text(t_s: float) -> str:
    minutes, seconds = divmod(max(0.0, t_s), 60.0)
    return f"{int(minutes)}:{seconds:04.1f}"


def status_text(status: LiveStatus) -> str:
    text = status.message.strip() or STATE_TEXT.get(status.state, status.state)
    return text[:1].upper() + text[1:]


def metrics_text(status: LiveStatus) -> str:
    # "delay" is capture-to-panel time (p95 of recent frames): how far behind the call the panel is.
    latency = "–" if status.latency_ms_p95 is None else f"{status.latency_ms_p95:.0f}"
    text = f"{status.fps:.0f} fps · delay {latency} ms"
    if status.dropped_frames:
        text += f" · {status.dropped_frames} dropped"
    return text


def cue_line(cue: Cue, latency_ms: float) -> str:
    where = region_words(REGION.get(cue.cue, "face"))
    what = f"{cue_words(cue.cue)} · {where} · {confidence_words(cue.confidence)}"
    return f"{clock_text(cue.apex_s)}  {what} · {latency_ms:.0f} ms"


@dataclass(frozen=True)
class SuggestionView:
    """What the card shows for a suggestion, as plain strings (the headless check prints the same)."""

    heading: str
    where: str
    say_nothing: bool
    move_label: str
    move: str
    repair: str


def suggestion_view(s: Suggestion) -> SuggestionView:
    plain = s.plain.strip()
    heading = plain[:1].upper() + plain[1:]
    agreement = "two signals agree" if s.strength == "stronger" else "one signal"
    where = f"seen at the {region_words(s.region)} · {confidence_words(s.confidence)} · {agreement}"
    # When silence is the better move, the move text says why; the label must not read as an instruction.
    return SuggestionView(
        heading, where, s.say_nothing, "Why" if s.say_nothing else "Try", s.move.strip(), s.repair.strip()
    )


class TopBar(Horizontal):
    """Name, current context and the privacy badge, which says whether a cue log is being kept. The name can
    say more: the demo's says its clips are synthetic, so nobody takes them for a call."""

    def __init__(self, badge: str = PRIVACY_BADGE, title: str = "callcoach", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._badge = badge
        self._title = title

    def compose(self) -> ComposeResult:
        yield Static(Content(self._title), id="title")
        yield Static(id="context")
        yield Static(self._badge, id="privacy")

    def set_badge(self, badge: str) -> None:
        self._badge = badge
        self.query_one("#privacy", Static).update(Content(badge))

    def set_context(self, context: str) -> None:
        self.query_one("#context", Static).update(Content(f"· context: {CONTEXT_LABELS.get(context, context)}"))


class Notice(Static):
    """The current state in one plain sentence; styled by how much attention it needs."""

    def show(self, status: LiveStatus) -> None:
        self.update(Content(status_text(status)))
        self.set_class(status.state in TROUBLE_STATES, "trouble")
        self.set_class(status.state in ("starting", "calibrating", "paused"), "waiting")


class _Row(Horizontal):
    def __init__(self, label: str, row_id: str) -> None:
        super().__init__(id=row_id, classes="row")
        self._label = label

    def compose(self) -> ComposeResult:
        yield Label(self._label, classes="row-label")
        yield Static(classes="row-text")

    def set(self, label: str, text: str) -> None:
        self.query_one(".row-label", Label).update(Content(label))
        self.query_one(".row-text", Static).update(Content(text))
        self.display = bool(text)


class SuggestionCard(Vertical):
    """One suggestion at a time: the cue in plain words, where and how sure, the move, the way out."""

    def compose(self) -> ComposeResult:
        yield Static(id="plain")
        yield Static(id="where")
        yield Static("Better to say nothing right now.", id="say-nothing")
        yield _Row("Try", "move-row")
        yield _Row("If wrong", "repair-row")

    def on_mount(self) -> None:
        self.show_waiting(0)

    def show_waiting(self, cues_seen: int) -> None:
        self.border_title = None
        self.set_class(False, "stale", "say-nothing", "has-suggestion")
        self.query_one("#plain", Static).update("Nothing to suggest yet.")
        seen = "no cues yet" if cues_seen == 0 else f"{cues_seen} cue{'s' if cues_seen != 1 else ''} so far"
        self.query_one("#where", Static).update(f"Watching quietly · {seen} · d shows details")
        self.query_one("#say-nothing").display = False
        self.query_one("#move-row", _Row).set("Try", "")
        self.query_one("#repair-row", _Row).set("If wrong", "")

    def show_suggestion(self, suggestion: Suggestion, *, stale: bool = False) -> None:
        view = suggestion_view(suggestion)
        self.border_title = "earlier" if stale else "now"
        self.set_class(True, "has-suggestion")
        self.set_class(stale, "stale")
        self.set_class(view.say_nothing, "say-nothing")
        self.query_one("#plain", Static).update(Content(view.heading))
        self.query_one("#where", Static).update(Content(view.where))
        self.query_one("#say-nothing").display = view.say_nothing
        self.query_one("#move-row", _Row).set(view.move_label, view.move)
        self.query_one("#repair-row", _Row).set("If wrong", view.repair)


class CueLog(Static):
    """The last few cues with their times: the details view, hidden until asked for."""

    def __init__(self, size: int = 6, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: deque[str] = deque(maxlen=size)

    def on_mount(self) -> None:
        self.border_title = "recent cues"
        self._refresh_lines()

    def add(self, cue: Cue, latency_ms: float) -> None:
        self._lines.appendleft(cue_line(cue, latency_ms))
        self._refresh_lines()

    def _refresh_lines(self) -> None:
        self.update(Content("\n".join(self._lines) if self._lines else "No cues yet."))


class SelfLine(Static):
    """The user's own face, in one quiet line under the card: shown only to the user, hidden until a note."""

    def on_mount(self) -> None:
        self.display = False

    def show_note(self, note: SelfNote) -> None:
        message = str(note.message).strip()
        if not message or note_refusal(message) is not None:
            return
        when = clock_text(float(note.t_s))
        self.update(Content(f"you · {when} · {message}"))
        self.set_class(note.kind == "mirror_met", "met")
        self.display = True


#: The self-coach's state in the status bar, after the camera's (empty: nothing to say).
SELF_LABEL: dict[str, str] = {
    "starting": "you: starting",
    "calibrating": "you: calibrating",
    "ready": "you: on",
    "no_face": "you: no face",
    "unreadable": "you: unreadable",
    "idle": "you: waiting",
    "paused": "you: paused",
    "error": "you: off",
    "stopped": "",
}


class StatusBar(Horizontal):
    """Face locked or lost, baseline progress while calibrating, fps and capture-to-panel latency."""

    def compose(self) -> ComposeResult:
        yield Static(id="state")
        bar = ProgressBar(total=1.0, show_eta=False, id="baseline")
        bar.display = False
        yield bar
        yield Static(id="vcam")
        yield Static(id="self-state")
        yield Static(id="metrics")

    def on_mount(self) -> None:
        self.query_one("#vcam", Static).display = False
        self.query_one("#self-state", Static).display = False

    def show_self(self, state: str) -> None:
        label = SELF_LABEL.get(state, f"you: {state}")
        widget = self.query_one("#self-state", Static)
        widget.update(Content(label))
        widget.set_class(state in ("no_face", "unreadable", "error"), "trouble")
        widget.display = bool(label)

    def show_vcam(self, label: str, trouble: bool) -> None:
        vcam = self.query_one("#vcam", Static)
        vcam.update(Content(label))
        vcam.set_class(trouble, "trouble")
        vcam.display = bool(label)

    def show(self, status: LiveStatus) -> None:
        label = STATE_LABEL.get(status.state, status.state)
        if status.faces > 1 and status.state in ("calibrating", "locked"):
            label += f" · {status.faces} faces"
        state = self.query_one("#state", Static)
        state.update(Content(label))
        for name in STATE_LABEL:
            state.set_class(name == status.state, f"state-{name}")
        bar = self.query_one("#baseline", ProgressBar)
        bar.display = status.state == "calibrating"
        bar.update(progress=min(1.0, max(0.0, status.baseline_progress)))
        self.query_one("#metrics", Static).update(Content(metrics_text(status)))
