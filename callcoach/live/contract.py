"""The contract between the live runner (threads, no Textual) and whoever shows its output.

The runner calls a ``LiveListener`` from its inference thread; a Textual app forwards each call into its
own thread with ``post_message``/``call_from_thread``, the headless writer prints a jsonl line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from callcoach.cues.vocabulary import Cue
from callcoach.live.state import LiveStatus
from callcoach.playbook.types import Suggestion


class LiveListener(Protocol):
    def on_status(self, status: LiveStatus) -> None: ...

    def on_cue(self, cue: Cue, latency_ms: float) -> None: ...

    def on_suggestion(self, suggestion: Suggestion) -> None: ...


#: Turns a cue (and the state it arrived in) into at most one suggestion; the playbook's selector.
Advisor = Callable[[Cue, LiveStatus], Suggestion | None]


class CompanionListener(Protocol):
    """Optional extra methods of a ``LiveListener`` for runs with ``--vcam`` (looked up with ``getattr``).

    ``on_self`` gets the user's own notes (a ``callcoach.live.selfcoach.SelfNote``) from the self-coach's
    thread; ``on_vcam`` gets the virtual camera's state changes (see ``callcoach.live.companion``).
    """

    def on_self(self, note: object) -> None: ...

    def on_vcam(self, state: str, message: str) -> None: ...
