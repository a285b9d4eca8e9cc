"""The face-state timing both live threads share: a face gone for a while, unreadable for half a second, and
the baseline progress that turns "calibrating" into "locked".

The live runner (the other person's face) and the self-coach (the user's face) each say these states in
their own words and order, and publish them their own way (the runner re-sends its status every 0.2 s, the
self-coach only on a change), so only the decisions live here: one ``FaceState`` per thread, fed from that
thread alone, in session seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

#: A face unreadable for this long is said so: a frame or two of a turned head is not worth a state.
UNREADABLE_AFTER_S = 0.5
#: Baseline progress from which a face is locked: its resting expression is learnt and cues are read.
LOCKED = 1.0


class Held:
    """A condition that counts only once it has held without a break for ``after_s`` seconds."""

    def __init__(self, after_s: float) -> None:
        self.after_s = after_s
        #: When the current unbroken run of the condition began; None while it does not hold.
        self.since: float | None = None

    def update(self, t: float, on: bool) -> bool:
        """The condition at ``t``; True once it has held since at least ``after_s`` ago."""
        if not on:
            self.since = None
            return False
        if self.since is None:
            self.since = t
        return t - self.since >= self.after_s

    def reset(self) -> None:
        self.since = None


class FaceState:
    """When a face was last in view, whether it has been gone long enough to say so, and whether the faces in
    view have been unreadable long enough to say so.

    ``start_counts_as_seen``: the runner counts the session start (t = 0) as the last sighting, so "no face"
    comes ``absent_after_s`` into a session without one; the self-coach says it from the first faceless frame.
    """

    def __init__(
        self,
        absent_after_s: float,
        *,
        unreadable_after_s: float = UNREADABLE_AFTER_S,
        start_counts_as_seen: bool = False,
    ) -> None:
        self.absent_after_s = absent_after_s
        self.last_seen: float | None = 0.0 if start_counts_as_seen else None
        self.unreadable = Held(unreadable_after_s)

    def seen(self, t: float) -> None:
        """A face was in view at ``t``."""
        self.last_seen = t

    def absent(self, t: float) -> bool:
        """No face since at least ``absent_after_s`` before ``t`` (or ever, unless the start counts)."""
        return self.last_seen is None or t - self.last_seen >= self.absent_after_s


class LearnsBaselines(Protocol):
    """What the progress needs of the cue engine (``CueEngine.baseline_progress``)."""

    def baseline_progress(self, face_id: int, t_s: float) -> float: ...


def baseline_progress(engine: LearnsBaselines, ids: Iterable[int], t: float) -> float:
    """The furthest baseline progress among the faces ``ids`` in view (0..1; ``LOCKED`` once one is learnt)."""
    return max(engine.baseline_progress(i, t) for i in ids)


__all__ = ["LOCKED", "UNREADABLE_AFTER_S", "FaceState", "Held", "LearnsBaselines", "baseline_progress"]
