"""The session store's rows as plain frozen records, and the columns each one is written from.

Apart from ``store`` so the store module holds only the SQLite work; ``store`` re-exports every record, as
callers (the summary, the recorder, the tests) import them from there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class SessionRow:
    id: int
    started_at: float
    ended_at: float | None
    source_kind: str
    source_name: str
    context: str
    playbook_version: str | None
    status: str
    cues: int = 0
    suggestions: int = 0
    marks: int = 0
    self_notes: int = 0

    def duration_s(self, now: float | None = None) -> float:
        end = self.ended_at if self.ended_at is not None else (time.time() if now is None else now)
        return max(0.0, end - self.started_at)


@dataclass(frozen=True)
class CueRecord:
    cue: str
    emotion: str | None
    scale: str
    onset_s: float
    apex_s: float
    offset_s: float | None
    intensity: float
    confidence: float
    face: int
    latency_ms: float | None = None


@dataclass(frozen=True)
class SuggestionRecord:
    id: int
    t_s: float
    cue: str
    face: int
    region: str
    plain: str
    move: str
    repair: str
    say_nothing: bool
    strength: str
    context: str
    confidence: float
    supporting: tuple[str, ...] = ()
    #: The user's last mark on it ("helped", "misread") or None.
    mark: str | None = None


@dataclass(frozen=True)
class SelfNoteRecord:
    """A self-coaching note about the user's own face (``callcoach.live.selfcoach.SelfNote``'s fields)."""

    kind: str
    t_s: float
    #: The user's own cue for a leak; the other person's warm cue for a mirror check.
    cue: str
    face: int | None
    message: str
    confidence: float
    remote_talking: bool


@dataclass(frozen=True)
class MarkRecord:
    suggestion_id: int
    kind: str
    t: float


CUE_FIELDS = (
    "cue",
    "emotion",
    "scale",
    "onset_s",
    "apex_s",
    "offset_s",
    "intensity",
    "confidence",
    "face",
    "latency_ms",
)
SUGGESTION_FIELDS = (
    "t_s",
    "cue",
    "face",
    "region",
    "plain",
    "move",
    "repair",
    "say_nothing",
    "strength",
    "context",
    "confidence",
)
SELF_FIELDS = ("kind", "t_s", "cue", "face", "message", "confidence", "remote_talking")
