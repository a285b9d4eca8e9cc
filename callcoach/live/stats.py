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
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from callcoach.cues.vocabulary import Cue


def percentile(values: list[float] | deque[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, math.ceil(q / 100 * len(ordered)) - 1)
    return ordered[min(rank, len(ordered) - 1)]


def spread(values: list[float]) -> dict[str, float | None]:
    """p50/p95/p99/max, rounded to 0.1 ms, for the summary and the bench."""
    out: dict[str, float | None] = {}
    for key, q in (("p50", 50.0), ("p95", 95.0), ("p99", 99.0), ("max", 100.0)):
        v = percentile(values, q)
        out[key] = None if v is None else round(v, 1)
    return out


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
    duration_s: float = 0.0
    #: Monotonic times the first and the latest analysed frame were done (for the steady-state rate).
    first_done_at: float | None = None
    last_done_at: float | None = None
    frame_latency_ms: list[float] = field(default_factory=list)
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

    def as_dict(self) -> dict[str, Any]:
        """The headless summary line: the fields ``analyze`` prints, plus the live measurements."""
        return {
            "type": "summary",
            "frames": self.frames,
            "frames_with_face": self.frames_with_face,
            "face_share": round(self.frames_with_face / self.frames, 4) if self.frames else 0.0,
            "duration_s": round(self.duration_s, 3),
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
