"""Screens over the live panel: help, and the consent & etiquette note shown before coaching starts."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Markdown, Static

from callcoach.session.settings import CUE_LOG_HOLDS, CUE_LOG_NEVER, CUE_LOG_OFF_HOW
from callcoach.ui.widgets import PRIVACY_BADGE, STATE_LABEL, STATE_TEXT

KEYS: tuple[tuple[str, str], ...] = (
    ("p", "pause or resume coaching (nothing is analysed while paused)"),
    ("c", "next context: general, sales, negotiation, dating / social, leadership, customer service"),
    ("h", "the last suggestion helped"),
    ("m", "the last suggestion was a misread"),
    ("d", "show or hide the last few cues with their times"),
    ("b", "the playbook: browse cues and contexts, preview a suggestion, edit"),
    ("v", "with --vcam: privacy pause, the call sees a still, blurred picture of you until you press v again"),
    ("?", "this help"),
    ("q", "quit (stops capture cleanly)"),
)


def help_markdown(now: str = PRIVACY_BADGE) -> str:
    keys = "\n".join(f"- `{key}` {what}" for key, what in KEYS)
    states = "\n".join(
        f"- **{STATE_LABEL[s]}**: {STATE_TEXT[s]}"
        for s in ("calibrating", "locked", "no_face", "unreadable", "blank", "source_lost")
    )
    return f"""\
## Keys

{keys}

## Reading the panel

One suggestion at a time: the cue in plain words, where it was seen, how sure (faint, maybe, likely,
with the number), a small move to try, and a way out if the guess was wrong. Sometimes the better move
is to say nothing. A suggestion is marked *earlier* and greyed once it no longer fits what is on screen.
Cues are guesses, never verdicts.

With `--vcam`, a quieter line starting with *you* is about your own face: a brief expression of yours
the other person may have seen, or whether you smiled back after they smiled. It is shown only here,
never on the video the call receives.

## States

{states}

## Privacy

Now: **{now}**. Frames are analysed in memory on this computer and dropped ({CUE_LOG_NEVER} is kept),
and nothing is sent. With the cue log on, a session keeps {CUE_LOG_HOLDS}; `callcoach summary` reads it and
`callcoach sessions` lists and deletes it. To keep none: {CUE_LOG_OFF_HOW}.
"""


class HelpScreen(ModalScreen[None]):
    """Keys, states and privacy; the consent & etiquette note can be read again from here."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "close"),
        Binding("question_mark", "close", "close", key_display="?", show=False),
        Binding("e", "etiquette", "consent & etiquette"),
    ]

    def __init__(self, consent_text: str, *, now: str = PRIVACY_BADGE) -> None:
        super().__init__()
        self._consent_text = consent_text
        self._now = now

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static("Help", classes="screen-title")
            with VerticalScroll(id="help-body"):
                yield Markdown(help_markdown(self._now))
            yield Static("esc or ? closes · e shows the consent & etiquette note", classes="hint")
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_etiquette(self) -> None:
        self.app.push_screen(ConsentScreen(self._consent_text, review=True, now=self._now))


class ConsentScreen(Screen[bool]):
    """Shown before the first coaching session; dismissed with True only when the user agrees.

    In review mode (opened from help) it only informs, and closes without asking anything.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "agree", "I understand"),
        Binding("escape", "close", "close", show=False),
    ]

    def __init__(self, consent_text: str, *, review: bool = False, now: str | None = None) -> None:
        super().__init__()
        self._consent_text = consent_text
        self._review = review
        #: The badge of this run ("... cue log on"), so the note says what this very session keeps.
        self._now = now

    def compose(self) -> ComposeResult:
        with Vertical(id="consent-box"):
            yield Static("Consent & etiquette", classes="screen-title")
            with VerticalScroll(id="consent-body"):
                # Markdown reflows the text to the terminal's width and renders its lists.
                yield Markdown(self._consent_text.strip())
                if self._now:
                    yield Static(f"This session: {self._now}.", id="consent-now", markup=False)
            with Horizontal(id="consent-buttons"):
                if self._review:
                    yield Button("Close", id="close", variant="primary")
                else:
                    yield Button("I understand, start coaching", id="agree", variant="primary")
                    yield Button("Quit", id="quit")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Button).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "agree":
            return not self._review
        if action == "close":
            return self._review
        return True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "agree":
            self.dismiss(True)
        elif event.button.id == "quit":
            self.dismiss(False)
        else:
            self.action_close()

    def action_agree(self) -> None:
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(True)
