"""The clock the live threads read, injected so tests can step time instead of sleeping.

Every timing decision of a live worker (a status due, a picture missing for too long, a still frame due
during a privacy pause) reads ``Clock.now()``. Production uses ``MonotonicClock``; a test passes a clock
it steps by hand, so "no picture for 2 s" is reached by stepping two seconds, on a loaded machine as on
an idle one. Frames are stamped by their source on the same clock (``Frame.t_s``). A source that paces
itself (a video file played at its rate) also waits on it (``PacingClock.sleep``): on a test's clock that
wait steps the clock instead of passing real time.

Waiting on another thread (a join, a condition variable) is different: the operating system counts
that time, so ``Deadline`` always measures it on the real monotonic clock.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Seconds on a monotonic scale; only differences mean anything."""

    def now(self) -> float: ...


class PacingClock(Clock, Protocol):
    """A clock a pacing source can wait on as well as read."""

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> None:
        """Let ``seconds`` of this clock pass; return early once ``stop`` is set."""
        ...


class MonotonicClock:
    """The real clock: ``time.monotonic()``; ``sleep`` is a real wait."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> None:
        if stop is not None:
            stop.wait(seconds)
        else:
            time.sleep(seconds)


#: The default clock of every live worker and pacing source.
MONOTONIC: MonotonicClock = MonotonicClock()


class Deadline:
    """A budget of real seconds shared by several waits (joining one thread, then the next)."""

    def __init__(self, timeout: float) -> None:
        self._end = time.monotonic() + timeout

    def left(self) -> float:
        """Seconds still to spend, never negative."""
        return max(0.0, self._end - time.monotonic())


__all__ = ["MONOTONIC", "Clock", "Deadline", "MonotonicClock", "PacingClock"]
