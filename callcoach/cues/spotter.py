"""Spotting: onset, apex and offset of each excursion of a channel's activation above threshold.

Hysteresis keeps one movement from splitting into several events on a noisy frame: an event starts when
the activation reaches ``on`` and ends when it falls below ``off``. The onset and offset are then moved
out to where the activation crossed ``edge``, so the interval covers the rise and the fall, which is what
the MEGC protocol scores (IoU with the labelled interval).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Excursion:
    channel: str
    onset_s: float
    apex_s: float
    offset_s: float | None
    peak: float
    #: Caller-supplied snapshot taken at the apex frame (deviations, appearance...).
    apex_data: object = None


class Spotter:
    """Streaming hysteresis spotter for one channel of one face."""

    def __init__(
        self,
        channel: str,
        on: float = 1.0,
        off: float = 0.5,
        edge: float = 0.15,
        min_s: float = 0.03,
        history_s: float = 1.0,
    ) -> None:
        self.channel = channel
        self.on, self.off, self.edge = on, off, edge
        self.min_s = min_s
        self._history: deque[tuple[float, float]] = deque()
        self._history_s = history_s
        self._active = False
        self._onset = 0.0
        self._apex_t = 0.0
        self._peak = 0.0
        self._apex_data: object = None
        self._below_off_t: float | None = None

    @property
    def active(self) -> bool:
        return self._active

    def recent_max(self, frames: int) -> float:
        """The largest of the last ``frames`` activations fed in."""
        n = min(frames, len(self._history))
        return max((self._history[-1 - i][1] for i in range(n)), default=0.0)

    def current(self) -> Excursion | None:
        """The excursion under way so far (no offset yet), None when idle."""
        if not self._active:
            return None
        return Excursion(self.channel, self._onset, self._apex_t, None, self._peak, self._apex_data)

    @property
    def onset_s(self) -> float | None:
        """Onset of the excursion under way, None when idle."""
        return self._onset if self._active else None

    def update(self, t_s: float, a: float, apex_data: object = None) -> Excursion | None:
        """Feed one activation; returns an excursion when one has just ended."""
        self._history.append((t_s, a))
        while self._history and t_s - self._history[0][0] > self._history_s:
            self._history.popleft()
        if not self._active:
            if a >= self.on:
                self._active = True
                self._onset = self._find_onset(t_s)
                self._apex_t, self._peak, self._apex_data = t_s, a, apex_data
                self._below_off_t = None
            return None
        if a > self._peak:
            self._apex_t, self._peak, self._apex_data = t_s, a, apex_data
        if a < self.off:
            if self._below_off_t is None:
                self._below_off_t = t_s
            if a < self.edge:
                return self._close(t_s)
            return None
        self._below_off_t = None
        return None

    def _find_onset(self, t_s: float) -> float:
        onset = t_s
        for t, a in reversed(self._history):
            if a < self.edge:
                return t
            onset = t
        return onset

    def _close(self, t_s: float) -> Excursion | None:
        self._active = False
        if t_s - self._onset < self.min_s:
            return None
        return Excursion(self.channel, self._onset, self._apex_t, t_s, self._peak, self._apex_data)

    def interrupt(self, t_s: float) -> Excursion | None:
        """End an active excursion early (head turn, face lost); short ones are dropped as unreliable.

        What came before the cut is forgotten: a movement that starts again once the face is readable has
        its onset after the cut, and does not overlap the one that ended there."""
        self._history.clear()
        if not self._active:
            return None
        return self._close(t_s)

    def finish(self) -> Excursion | None:
        """End of input: an excursion still under way has no offset."""
        if not self._active:
            return None
        self._active = False
        return Excursion(self.channel, self._onset, self._apex_t, None, self._peak, self._apex_data)


@dataclass(frozen=True)
class BlinkCluster:
    onset_s: float
    apex_s: float
    offset_s: float | None
    blinks: int


class BlinkClusterSpotter:
    """Blinks come about every 3-4 s at rest; three or more within ``window_s`` is a cluster."""

    def __init__(self, min_blinks: int = 3, window_s: float = 2.0, quiet_s: float = 0.8) -> None:
        self.min_blinks = min_blinks
        self.window_s = window_s
        self.quiet_s = quiet_s
        self._closed = False
        self._start = 0.0
        self._blinks: list[tuple[float, float]] = []

    def update(self, t_s: float, closed: bool) -> BlinkCluster | None:
        if closed and not self._closed:
            self._start = t_s
        elif not closed and self._closed:
            if self._blinks and self._start - self._blinks[-1][0] > self.window_s:
                result = self._emit()
                self._blinks = [(self._start, t_s)]
                self._closed = closed
                return result
            self._blinks.append((self._start, t_s))
        self._closed = closed
        if not closed and self._blinks and t_s - self._blinks[-1][1] > self.quiet_s:
            result = self._emit()
            self._blinks = []
            return result
        return None

    def _emit(self) -> BlinkCluster | None:
        blinks = self._blinks
        if len(blinks) < self.min_blinks:
            return None
        # Keep the densest run: a cluster is several blinks close together, not a slow series.
        if blinks[-1][0] - blinks[0][0] > self.window_s * (len(blinks) - 1):
            return None
        mid = blinks[len(blinks) // 2]
        return BlinkCluster(blinks[0][0], (mid[0] + mid[1]) / 2, blinks[-1][1], len(blinks))

    def finish(self, t_s: float) -> BlinkCluster | None:
        if self._closed:
            self._blinks.append((self._start, t_s))
        result = self._emit()
        self._blinks = []
        return result
