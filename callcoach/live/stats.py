"""What a live run measured: frame and cue latencies, rates, drops. Pure bookkeeping, no threads.

Two latencies are kept for every cue, because the cue engine can only name a movement once it is over:

- ``latency_ms``: emission time minus the capture time of the frame whose processing emitted the cue. This
  is what the pipeline adds (capture, hand-over, vision, engine) and what the panel's figure means.
- ``apex_latency_ms``: emission time minus the capture time of the movement's apex frame. It adds the rest
  of the movement (apex to offset) and the engine's short hold for competing channels, so it is how late
  the suggestion is relative to the moment the face moved most.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from callcoach.cues.vocabulary import Cue


def _rank(q: float, n: int) -> int:
    """The 0-based nearest rank of percentile ``q`` among ``n`` ordered values."""
    return min(max(0, math.ceil(q / 100 * n) - 1), n - 1)


class LatencyRecord:
    """Latencies of a whole call in bounded memory, with honest percentiles.

    A call can last hours at 25 frames a second, so keeping every value would grow without end. The first
    ``exact_cap`` values are kept as they are (a short run's percentiles are exact, and the warm-up frames
    can be left out); every value also goes into a fixed set of logarithmic bins each ``1 + rel_step``
    wide, so past the cap a percentile is the middle of its bin: within ``rel_step / 2`` of the exact
    nearest-rank value (clamped to the smallest and largest value seen, which are kept exactly).
    """

    LOW_MS = 1e-3  # below this everything shares the first bin, read as the exact minimum
    HIGH_MS = 1e7  # about 2.8 hours; above it everything shares the last bin, read as the exact maximum

    def __init__(self, exact_cap: int = 8192, rel_step: float = 0.01) -> None:
        self.exact_cap = exact_cap
        self._log_step = math.log1p(rel_step)
        self._bins = math.ceil(math.log(self.HIGH_MS / self.LOW_MS) / self._log_step) + 1
        self._counts = array("q", bytes(8 * self._bins))
        self._head = array("d")
        self._n = 0
        self._min = math.inf
        self._max = -math.inf

    def _bin(self, value: float) -> int:
        if not value > self.LOW_MS:  # also catches NaN
            return 0
        return min(self._bins - 1, int(math.log(value / self.LOW_MS) / self._log_step))

    def _bin_value(self, index: int) -> float:
        # The first and last bins also hold everything below and above the range: their values are
        # the extremes, which are known exactly.
        if index == 0:
            return self._min
        if index == self._bins - 1:
            return self._max
        mid = self.LOW_MS * math.exp((index + 0.5) * self._log_step)
        return min(max(mid, self._min), self._max)

    def append(self, value: float) -> None:
        self._n += 1
        self._min = min(self._min, value)
        self._max = max(self._max, value)
        self._counts[self._bin(value)] += 1
        if len(self._head) < self.exact_cap:
            self._head.append(value)

    def extend(self, values: Iterable[float]) -> None:
        for v in values:
            self.append(v)

    def __len__(self) -> int:
        return self._n

    @property
    def exact(self) -> bool:
        """True while every value is still kept, so percentiles are exact."""
        return self._n <= self.exact_cap

    @property
    def head(self) -> tuple[float, ...]:
        """The first values in arrival order (all of them while ``exact``)."""
        return tuple(self._head)

    def percentile(self, q: float, skip: int = 0) -> float | None:
        """Nearest-rank percentile (q in 0..100) of the values after the first ``skip``; None for none.

        ``skip`` (warm-up) is honoured up to ``exact_cap``: only the kept values can be taken back out.
        """
        skip = max(0, min(skip, len(self._head)))
        n = self._n - skip
        if n <= 0:
            return None
        if self.exact:
            return sorted(self._head[skip:])[_rank(q, n)]
        if q >= 100 and skip == 0:
            return self._max
        counts = self._counts
        if skip:
            counts = array("q", counts)
            for v in self._head[:skip]:
                counts[self._bin(v)] -= 1
        rank, seen = _rank(q, n), 0
        for index, c in enumerate(counts):
            seen += c
            if seen > rank:
                return self._bin_value(index)
        return self._max  # not reached: the counts add up to n

    def spread(self, skip: int = 0) -> dict[str, float | None]:
        return {key: _round1(self.percentile(q, skip)) for key, q in _SPREAD}


_SPREAD = (("p50", 50.0), ("p95", 95.0), ("p99", 99.0), ("max", 100.0))


def _round1(v: float | None) -> float | None:
    return None if v is None else round(v, 1)


def percentile(values: list[float] | deque[float] | LatencyRecord, q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if isinstance(values, LatencyRecord):
        return values.percentile(q)
    if not values:
        return None
    ordered = sorted(values)
    return ordered[_rank(q, len(ordered))]


def spread(values: list[float] | LatencyRecord) -> dict[str, float | None]:
    """p50/p95/p99/max, rounded to 0.1 ms, for the summary and the bench."""
    return {key: _round1(percentile(values, q)) for key, q in _SPREAD}


@dataclass(frozen=True)
class CueTiming:
    cue: Cue
    latency_ms: float
    apex_latency_ms: float


@dataclass(frozen=True)
class EarlyTiming:
    """An early cue (named once its apex had passed): the same two latencies as a ``CueTiming``."""

    cue: str
    latency_ms: float
    apex_latency_ms: float


@dataclass
class RunStats:
    source: str = ""
    #: Seconds from ``LiveRunner.start()`` to the end of the first frame's analysis.
    first_frame_s: float | None = None
    frames: int = 0
    frames_with_face: int = 0
    blank_frames: int = 0
    #: Frames identical to the one before (the screen had not repainted), not analysed again.
    repeated_frames: int = 0
    paused_frames: int = 0
    captured: int = 0
    dropped: int = 0
    #: Seconds from ``LiveRunner.start()`` to the end of the run: start-up (model loading) included. Reported
    #: as ``run_s``; the summary's ``duration_s`` is ``analysed_s``, which measures what ``analyze``'s does.
    duration_s: float = 0.0
    #: Monotonic times the first and the latest analysed frame were done (for the steady-state rate).
    first_done_at: float | None = None
    last_done_at: float | None = None
    #: Bounded however long the call: exact for the first values, binned to within 0.5 % after.
    frame_latency_ms: LatencyRecord = field(default_factory=LatencyRecord)
    cue_timings: list[CueTiming] = field(default_factory=list)
    early_timings: list[EarlyTiming] = field(default_factory=list)
    #: Early cues whose movement then ended without a final cue of the same name.
    early_withdrawn: int = 0
    #: Suggestions the wording guard held back at run time (callcoach.playbook.wording): never shown.
    suggestions_withheld: int = 0
    #: For each suggestion: its emission time minus the capture time of its cue's apex (what the user waits).
    suggestion_apex_latency_ms: list[float] = field(default_factory=list)
    face_ids: set[int] = field(default_factory=set)
    cues_by_name: Counter[str] = field(default_factory=Counter)
    baseline_ready: bool = False
    #: How the run ended: "running", "stopped", "source_lost" or "error"; and why, in plain words.
    end: str = "running"
    end_message: str = ""

    @property
    def fps(self) -> float:
        """Analysed frames per second from the first analysed frame on (model loading is not counted)."""
        if self.first_done_at is None or self.last_done_at is None or self.frames < 2:
            return 0.0
        span = self.last_done_at - self.first_done_at
        return (self.frames - 1) / span if span > 0 else 0.0

    @property
    def analysed_s(self) -> float:
        """Seconds from the first to the last analysed frame: the span of the picture coached on, start-up
        left out. ``callcoach analyze``'s ``duration_s`` is the same span of a file (last frame's time minus
        the first's), so the two summaries' ``duration_s`` mean one thing. Measured when each frame's
        analysis ended, which differs from its capture time only by that frame's latency."""
        if self.first_done_at is None or self.last_done_at is None:
            return 0.0
        return max(0.0, self.last_done_at - self.first_done_at)

    def as_dict(self) -> dict[str, Any]:
        """The headless summary line: the fields ``analyze`` prints, plus the live measurements."""
        return {
            "type": "summary",
            "frames": self.frames,
            "frames_with_face": self.frames_with_face,
            "face_share": round(self.frames_with_face / self.frames, 4) if self.frames else 0.0,
            "duration_s": round(self.analysed_s, 3),
            "run_s": round(self.duration_s, 3),
            "faces": len(self.face_ids),
            "cues": sum(self.cues_by_name.values()),
            "cues_by_name": dict(sorted(self.cues_by_name.items())),
            "baseline_ready": self.baseline_ready,
            "source": self.source,
            "captured": self.captured,
            "dropped_frames": self.dropped,
            "blank_frames": self.blank_frames,
            "repeated_frames": self.repeated_frames,
            "fps": round(self.fps, 2),
            "first_frame_s": None if self.first_frame_s is None else round(self.first_frame_s, 3),
            "frame_latency_ms": spread(self.frame_latency_ms),
            "latency_ms": spread([c.latency_ms for c in self.cue_timings]),
            "apex_latency_ms": spread([c.apex_latency_ms for c in self.cue_timings]),
            "early_cues": len(self.early_timings),
            "early_withdrawn": self.early_withdrawn,
            "early_apex_latency_ms": spread([c.apex_latency_ms for c in self.early_timings]),
            "suggestions": len(self.suggestion_apex_latency_ms),
            "suggestions_withheld": self.suggestions_withheld,
            "suggestion_apex_latency_ms": spread(self.suggestion_apex_latency_ms),
            "end": self.end,
            "end_message": self.end_message,
        }


class RateMeter:
    """Frames per second and p95 latency over the last ``window_s`` seconds, for the status line."""

    def __init__(self, window_s: float = 2.0) -> None:
        self.window_s = window_s
        self._times: deque[float] = deque()
        self._latency: deque[float] = deque()

    def add(self, t_done: float, latency_ms: float | None) -> None:
        self._times.append(t_done)
        self._latency.append(latency_ms if latency_ms is not None else math.nan)
        while self._times and t_done - self._times[0] > self.window_s:
            self._times.popleft()
            self._latency.popleft()

    def fps(self, now: float) -> float:
        recent = [t for t in self._times if now - t <= self.window_s]
        if len(recent) < 2:
            return 0.0
        span = recent[-1] - recent[0]
        return (len(recent) - 1) / span if span > 0 else 0.0

    def p95(self) -> float | None:
        values = [v for v in self._latency if not math.isnan(v)]
        p = percentile(values, 95.0)
        return None if p is None else round(p, 1)
