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


def notify(listener: object, method: str, *args: object) -> None:
    """Call ``listener.method(*args)`` if the listener has that optional method (see ``CompanionListener``);
    a listener without it simply does not show that kind of event."""
    handler = getattr(listener, method, None)
    if callable(handler):
        handler(*args)


class CompanionListener(Protocol):
    """Optional extra methods of a ``LiveListener`` (called through ``notify``): early cues and their
    withdrawals (``on_early_cue``, ``on_early_withdrawn``), and for runs with ``--vcam``:

    ``on_self`` gets the user's own notes (a ``callcoach.live.selfcoach.SelfNote``) from the self-coach's
    thread; ``on_vcam`` gets the virtual camera's state changes (see ``callcoach.live.companion``).
    """

    def on_early_cue(self, early: object, latency_ms: float) -> None: ...

    def on_early_withdrawn(self, withdrawn: object, advised: bool) -> None: ...

    def on_self(self, note: object) -> None: ...

    def on_vcam(self, state: str, message: str) -> None: ...
