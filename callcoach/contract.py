"""The contract between the live runner (threads, no Textual) and whoever shows or keeps its output.

The runner calls a ``LiveListener`` from its inference thread; a Textual app forwards each call into its
own thread with ``post_message``, the headless writer prints a jsonl line, the session recorder keeps the
events and passes them on. Every method has a no-op default, so a listener overrides only the events it
shows and every caller makes a plain, type-checked call (no lookups by name).

This module sits one layer above the playbook (it names ``Cue`` and ``Suggestion``) and below the session,
the live runner and the UI, which all implement or call it; see docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Callable

from callcoach.core.marks import SelfNote
from callcoach.core.state import LiveStatus
from callcoach.cues.vocabulary import Cue, EarlyCue, EarlyCueWithdrawn
from callcoach.playbook.types import Suggestion


class LiveListener:
    """Subclass and override what you show; each call comes from a worker thread, so return quickly."""

    def on_status(self, status: LiveStatus) -> None:
        """The runner's state, fps and latency: on every state change, and regularly in between."""

    def on_cue(self, cue: Cue, latency_ms: float) -> None:
        """A final cue of the remote face, with its capture-to-listener latency."""

    def on_suggestion(self, suggestion: Suggestion) -> None:
        """The playbook's one suggestion for a cue (at most one per cue)."""

    def on_early_cue(self, early: EarlyCue, latency_ms: float) -> None:
        """A cue guessed before its movement ended; a final cue or a withdrawal follows."""

    def on_early_withdrawn(self, withdrawn: EarlyCueWithdrawn, advised: bool) -> None:
        """An early cue whose movement did not become a cue; ``advised`` if a suggestion went out for it."""

    def on_self(self, note: SelfNote) -> None:
        """A self-coaching note about the user's own face (runs with ``--vcam``), from the self-coach's thread."""

    def on_vcam(self, state: str, message: str) -> None:
        """The virtual camera's and the self-coach's state changes (see ``callcoach.live.companion``)."""

    def on_store(self, state: str, message: str) -> None:
        """The session record: "failing", "ok" again, or "moved_aside" (a damaged store was set aside)."""

    def on_playbook_error(self, error: Exception, in_force: str) -> None:
        """The edited playbook did not load; ``in_force`` names the one still used (the watcher's thread)."""


#: Turns a cue (and the state it arrived in) into at most one suggestion; the playbook's selector.
Advisor = Callable[[Cue, LiveStatus], Suggestion | None]
