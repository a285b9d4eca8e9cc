"""Messages from the runner's inference thread into the panel, and the listener that posts them.

The runner calls ``PanelListener`` from its own thread. Textual widgets are not thread-safe, so the
listener never touches them: it wraps each call in an immutable ``Message`` and hands it to the app with
``post_message`` (thread-safe). Statuses arrive with every analysed frame (25-30 a second); the panel
only needs a few, so they are thinned here and any that still queue up replace each other.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from textual.message import Message
from textual.message_pump import MessagePump

from callcoach.contract import LiveListener
from callcoach.core.marks import SelfNote
from callcoach.cues.vocabulary import Cue, EarlyCueWithdrawn
from callcoach.live.state import LiveStatus
from callcoach.playbook.types import Suggestion


class StatusChanged(Message):
    """The runner's newest status. Only the latest one matters, so a queued one is superseded."""

    def __init__(self, status: LiveStatus) -> None:
        super().__init__()
        self._status = status

    @property
    def status(self) -> LiveStatus:
        return self._status

    def can_replace(self, message: Message) -> bool:
        # Textual asks the message at the head of the queue whether the next one may take its place.
        return isinstance(message, StatusChanged)

    def __repr__(self) -> str:
        return f"StatusChanged({self._status.state!r})"


class CueSpotted(Message):
    """One cue, with its capture-to-panel latency. Never coalesced: each cue goes in the details log."""

    def __init__(self, cue: Cue, latency_ms: float) -> None:
        super().__init__()
        self._cue = cue
        self._latency_ms = latency_ms

    @property
    def cue(self) -> Cue:
        return self._cue

    @property
    def latency_ms(self) -> float:
        return self._latency_ms

    def __repr__(self) -> str:
        return f"CueSpotted({self._cue.cue!r})"


class SuggestionOffered(Message):
    """A suggestion from the playbook; the panel shows the newest one only."""

    def __init__(self, suggestion: Suggestion) -> None:
        super().__init__()
        self._suggestion = suggestion

    @property
    def suggestion(self) -> Suggestion:
        return self._suggestion

    def __repr__(self) -> str:
        return f"SuggestionOffered({self._suggestion.cue!r})"


class SelfNoted(Message):
    """A note about the user's own face (``callcoach.core.marks.SelfNote``): the panel's quiet line."""

    def __init__(self, note: SelfNote) -> None:
        super().__init__()
        self._note = note

    @property
    def note(self) -> SelfNote:
        return self._note

    def __repr__(self) -> str:
        return f"SelfNoted({getattr(self._note, 'kind', '?')!r})"


class StoreChanged(Message):
    """Writing the session record started failing ("failing") or works again ("ok")."""

    def __init__(self, state: str, message: str) -> None:
        super().__init__()
        self.state = state
        self.message = message


class VcamChanged(Message):
    """The virtual camera's state changed (live, private, unavailable, lost...)."""

    def __init__(self, state: str, message: str) -> None:
        super().__init__()
        self._state = state
        self._message = message

    @property
    def state(self) -> str:
        return self._state

    @property
    def message(self) -> str:
        return self._message

    def __repr__(self) -> str:
        return f"VcamChanged({self._state!r})"


class EarlyWithdrawn(Message):
    """An early cue's movement was not confirmed; ``advised``: a suggestion had been made from it."""

    def __init__(self, withdrawn: EarlyCueWithdrawn, advised: bool) -> None:
        super().__init__()
        self._withdrawn = withdrawn
        self._advised = advised

    @property
    def withdrawn(self) -> EarlyCueWithdrawn:
        return self._withdrawn

    @property
    def advised(self) -> bool:
        return self._advised

    def __repr__(self) -> str:
        return f"EarlyWithdrawn({getattr(self._withdrawn, 'cue', '?')!r})"


class PlaybookProblem(Message):
    """A version of the playbook file could not be used; ``in_force`` says which playbook still is."""

    def __init__(self, message: str, in_force: str) -> None:
        super().__init__()
        self.message = message
        self.in_force = in_force


class PanelListener(LiveListener):
    """A ``LiveListener`` that forwards into a Textual app (or any message pump).

    A status is posted when its state or message differs from the last one posted, and otherwise at most
    once per ``min_interval_s``: a state change is never lost, while fps and latency refresh at a rate a
    person can read.
    """

    def __init__(
        self,
        target: MessagePump,
        *,
        min_interval_s: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._target = target
        self._min_interval_s = min_interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._last_key: tuple[str, str] | None = None
        self._last_posted_at = float("-inf")

    def on_status(self, status: LiveStatus) -> None:
        key = (status.state, status.message)
        now = self._clock()
        with self._lock:
            if key == self._last_key and now - self._last_posted_at < self._min_interval_s:
                return
            self._last_key = key
            self._last_posted_at = now
        self._target.post_message(StatusChanged(status))

    def on_cue(self, cue: Cue, latency_ms: float) -> None:
        self._target.post_message(CueSpotted(cue, latency_ms))

    def on_suggestion(self, suggestion: Suggestion) -> None:
        self._target.post_message(SuggestionOffered(suggestion))

    def on_self(self, note: SelfNote) -> None:
        self._target.post_message(SelfNoted(note))

    def on_early_withdrawn(self, withdrawn: EarlyCueWithdrawn, advised: bool) -> None:
        if advised:  # only a suggestion on screen can be affected
            self._target.post_message(EarlyWithdrawn(withdrawn, advised))

    def on_vcam(self, state: str, message: str) -> None:
        self._target.post_message(VcamChanged(state, message))

    def on_playbook_error(self, error: Exception, in_force: str) -> None:
        # Called from the playbook watcher's worker thread; post_message is safe from any thread.
        self._target.post_message(PlaybookProblem(" ".join(str(error).split()), in_force))

    def on_store(self, state: str, message: str) -> None:
        """The session store could not be written ("failing") or can be again ("ok"); said once each."""
        self._target.post_message(StoreChanged(state, message))
