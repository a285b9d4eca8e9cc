"""A clock only the test moves, for the live workers' injected ``Clock`` (callcoach.core.clock).

Time on it passes only when the test says so, so "no picture for two seconds" or "a still every frame
period" is reached by stepping the clock, the same way on a loaded machine as on an idle one. A source that
paces itself on it (``PacedFileSource(clock=...)``) sleeps by stepping it, so no real time passes.
"""

from __future__ import annotations

import threading


class FakeClock:
    """``now()`` returns what the test set; ``advance`` steps it (from any thread)."""

    def __init__(self, start: float = 1000.0) -> None:
        self._t = start
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._t

    def advance(self, dt: float) -> float:
        with self._lock:
            self._t += dt
            return self._t

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> None:
        """Let ``seconds`` pass at once (none once ``stop`` is set, as a real wait would end early)."""
        if stop is None or not stop.is_set():
            self.advance(seconds)

    def set(self, t: float) -> None:
        with self._lock:
            self._t = t
