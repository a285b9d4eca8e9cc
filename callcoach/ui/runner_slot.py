"""The panel's one runner: built and started on one worker thread, stopped on another, never twice and
never half-way through its start. No Textual here; ``CoachApp`` runs these calls in its workers.

The lock guards a few fields only and is never held across a slow call (a factory that opens the session
store and a camera, a stop that joins threads), so the event loop can always take it without waiting.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from callcoach.live.contract import LiveListener

_log = logging.getLogger(__name__)

#: How long a stop waits for a start that is still under way before stopping the runner anyway.
START_WAIT_S = 30.0


class RunnerLike(Protocol):
    """What the panel needs from ``callcoach.live.runner.LiveRunner``."""

    @property
    def paused(self) -> bool: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def toggle_privacy(self) -> bool | None:
        """The privacy pause on or off; None when no virtual camera runs in this session."""
        ...

    def settle(self) -> bool:
        """After ``stop``: wait for a model load still in progress, so the process ends cleanly."""
        ...


RunnerFactory = Callable[[LiveListener], RunnerLike]


class RunnerSlot:
    def __init__(self, factory: RunnerFactory, start_wait_s: float = START_WAIT_S) -> None:
        self._factory = factory
        self._start_wait_s = start_wait_s
        self._lock = threading.Lock()
        self._runner: RunnerLike | None = None
        self._closed = False
        self._scheduled = False
        #: Set when ``start`` is over (started, failed, or gave up because a stop came first).
        self._start_done = threading.Event()
        #: Set when the one stop has finished; later callers of ``stop`` wait for it.
        self._stop_done = threading.Event()

    @property
    def runner(self) -> RunnerLike | None:
        return self._runner

    def schedule(self) -> bool:
        """Promise a ``start`` call (from the event loop, before handing it to a worker); False once stopped."""
        with self._lock:
            if self._closed:
                return False
            self._scheduled = True
            return True

    def start(self, listener: LiveListener, on_built: Callable[[], object]) -> None:
        """Slow, on a worker thread: build the runner, call ``on_built``, start it; unless a stop came first.
        Raises what the factory or ``start()`` raise."""
        try:
            with self._lock:
                if self._closed:
                    return
            runner = self._factory(listener)
            with self._lock:
                closed = self._closed
                if not closed:
                    self._runner = runner
            if closed:  # stopped while it was being built: never start it, release what it opened
                _stop(runner)
                return
            on_built()
            runner.start()
        finally:
            self._start_done.set()

    def stop(self) -> None:
        """Slow: stop the runner once and return when it has stopped; from any thread but the event loop's,
        any number of times (later calls wait for the first)."""
        with self._lock:
            first = not self._closed
            self._closed = True
            scheduled = self._scheduled
        if not first:
            self._stop_done.wait()
            return
        try:
            # Stop only once start() has returned: stopping a runner half-way through its start is a race.
            if scheduled and not self._start_done.wait(self._start_wait_s):
                _log.warning("the runner's start is still under way; stopping it anyway")
            with self._lock:
                runner, self._runner = self._runner, None
            if runner is not None:
                _stop(runner)
        finally:
            self._stop_done.set()


def _stop(runner: RunnerLike) -> None:
    try:
        runner.stop()
        runner.settle()  # still loading the models: let it finish before the process goes
    except Exception as exc:  # noqa: BLE001 - quitting must go on whatever a failing stop raises (logged)
        _log.error("runner.stop failed: %r", exc)
